import type { StoredMessage } from './streams.ts';

/** What a delivery of the NATS client holds underneath (not part of its typed surface). */
interface RawDelivery {
  msg?: { _rdata?: unknown; _msg?: { hdr?: unknown } };
}

const needles = new Map<string, Buffer>();
const utf8 = new TextDecoder();
const CR = 0x0d;

/**
 * The first value of header `name` of a stored message ('' when it has none), as
 * `m.headers?.get(name) ?? ''` gives it. For a message delivered by a consumer it is read from the
 * header bytes where they arrived: decoding every header of every record into a header object was
 * about a tenth of verify's CPU, and the passes over every record (verify, sealing) want one
 * value. The same key matching (exact), value trimming and UTF-8 decoding as the client's; anything
 * else (a point read, a client whose internals differ) goes through `m.headers`.
 */
export function headerOf(m: StoredMessage, name: string): string {
  const raw = (m as RawDelivery).msg;
  const bytes = raw?._rdata;
  const length = raw?._msg?.hdr;
  if (!(bytes instanceof Uint8Array) || typeof length !== 'number' || length > bytes.length) return m.headers?.get(name) ?? '';
  if (length < 0) return '';
  let needle = needles.get(name);
  if (!needle) {
    // A line of the block starts after CR LF; the first line is the status line, never a header.
    needle = Buffer.from(`\r\n${name}:`, 'utf8');
    needles.set(name, needle);
  }
  const block = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The header block comes first, so a match past it (in the body) means the header is absent.
  const at = block.indexOf(needle);
  if (at < 0 || at + needle.length > length) return '';
  const from = at + needle.length;
  let end = from;
  let ascii = true;
  for (; end < length && block[end] !== CR; end++) if (block[end]! > 0x7f) ascii = false;
  // The client refuses a value holding CR, so well-formed blocks end it at the line's CR.
  const value = ascii ? block.toString('latin1', from, end) : utf8.decode(block.subarray(from, end));
  return value.trim();
}

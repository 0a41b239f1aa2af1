import { randomBytes } from 'node:crypto';

/**
 * A hand-written TLS 1.0–1.2 ClientHello and a reader for the server's first flight, up to
 * ServerHelloDone. Used where node's TLS client cannot ask the question: whether a server accepts
 * suites its OpenSSL no longer has (RC4, DES, 3DES, EXPORT), and whether a port speaks TLS at all
 * (any TLS record back, even an alert, says it does). The handshake is never completed: after the
 * server's answer the connection is closed.
 */

export const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
export type TlsVersion = (typeof TLS_VERSIONS)[number];

const WIRE: Record<TlsVersion, number> = { TLSv1: 0x0301, 'TLSv1.1': 0x0302, 'TLSv1.2': 0x0303, 'TLSv1.3': 0x0304 };
const BY_WIRE = new Map(Object.entries(WIRE).map(([k, v]) => [v, k as TlsVersion]));

/** TLS_EMPTY_RENEGOTIATION_INFO_SCSV: tells the server we would do secure renegotiation; some refuse hellos without it. */
const RENEGOTIATION_SCSV = 0x00ff;
/** x25519, secp256r1, secp384r1, secp521r1, x448. */
const GROUPS = [0x001d, 0x0017, 0x0018, 0x0019, 0x001e];
/** TLS 1.2 signature algorithms, SHA-1 ones included so that old servers can still answer. */
const SIGNATURE_ALGORITHMS = [
  0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0807, 0x0808, 0x0809, 0x080a, 0x080b, 0x0401, 0x0501, 0x0601, 0x0303, 0x0301, 0x0302, 0x0203, 0x0201,
  0x0202,
];
/** Most bytes read from a server's first flight (a certificate chain fits well within it). */
export const MAX_FLIGHT_BYTES = 65_536;

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function u24(n: number): Buffer {
  return Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
}

function vector16(items: Buffer[]): Buffer {
  const body = Buffer.concat(items);
  return Buffer.concat([u16(body.length), body]);
}

function extension(type: number, body: Buffer): Buffer {
  return Buffer.concat([u16(type), u16(body.length), body]);
}

/** A ClientHello record offering `suites` at `version` (TLS 1.0–1.2), with SNI when `serverName` is a hostname. */
export function buildClientHello(o: { version: Exclude<TlsVersion, 'TLSv1.3'>; suites: readonly number[]; serverName?: string | null }): Buffer {
  const exts: Buffer[] = [];
  if (o.serverName) {
    const name = Buffer.from(o.serverName, 'ascii');
    exts.push(extension(0x0000, vector16([Buffer.from([0]), u16(name.length), name])));
  }
  exts.push(extension(0x000a, vector16(GROUPS.map(u16))));
  exts.push(extension(0x000b, Buffer.from([1, 0])));
  if (o.version === 'TLSv1.2') exts.push(extension(0x000d, vector16(SIGNATURE_ALGORITHMS.map(u16))));
  const body = Buffer.concat([
    u16(WIRE[o.version]),
    randomBytes(32),
    Buffer.from([0]), // no session id
    vector16([...o.suites, RENEGOTIATION_SCSV].map(u16)),
    Buffer.from([1, 0]), // compression: null only
    vector16(exts),
  ]);
  const handshake = Buffer.concat([Buffer.from([1]), u24(body.length), body]);
  // The record layer says TLS 1.0 whatever the hello offers: some old servers refuse anything else there.
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x01]), u16(handshake.length), handshake]);
}

/** What a server's first flight said. */
export type ServerFlight =
  | { kind: 'need-more' }
  | { kind: 'not-tls' }
  | { kind: 'alert'; level: number; description: number }
  | { kind: 'hello'; version: TlsVersion | null; suite: number; certificates: Buffer[]; complete: boolean };

/**
 * Reads the bytes a server sent after a ClientHello. `hello` with `complete: true` once
 * ServerHelloDone (or anything after the hello that is not a handshake record) arrived, or right
 * after the ServerHello when `wantCertificate` is false. `ended` says the peer closed: whatever
 * is there is the answer.
 */
export function parseServerFlight(data: Buffer, o: { wantCertificate: boolean; ended: boolean }): ServerFlight {
  if (data.length === 0) return o.ended ? { kind: 'not-tls' } : { kind: 'need-more' };
  // A TLS record starts with a content type (20–23) and a 3.x version; anything else is some other protocol.
  if (data[0]! < 20 || data[0]! > 23 || (data.length > 1 && data[1] !== 3)) return { kind: 'not-tls' };
  const handshake: Buffer[] = [];
  let off = 0;
  let afterHandshake = false;
  while (off + 5 <= data.length) {
    const type = data[off]!;
    const len = data.readUInt16BE(off + 3);
    if (data[off + 1] !== 3 || len > 18_432) return { kind: 'not-tls' };
    if (off + 5 + len > data.length) break;
    const payload = data.subarray(off + 5, off + 5 + len);
    off += 5 + len;
    if (type === 21 && handshake.length === 0 && payload.length >= 2) return { kind: 'alert', level: payload[0]!, description: payload[1]! };
    if (type === 22) handshake.push(payload);
    else {
      afterHandshake = true;
      break;
    }
  }
  const hs = Buffer.concat(handshake);
  let hello: { version: TlsVersion | null; suite: number } | undefined;
  const certificates: Buffer[] = [];
  let p = 0;
  while (p + 4 <= hs.length) {
    const msgType = hs[p]!;
    const msgLen = (hs[p + 1]! << 16) | (hs[p + 2]! << 8) | hs[p + 3]!;
    if (p + 4 + msgLen > hs.length) break;
    const msg = hs.subarray(p + 4, p + 4 + msgLen);
    p += 4 + msgLen;
    if (msgType === 2) {
      if (msg.length < 38) return { kind: 'not-tls' };
      const sidLen = msg[34]!;
      if (msg.length < 35 + sidLen + 3) return { kind: 'not-tls' };
      hello = { version: BY_WIRE.get(msg.readUInt16BE(0)) ?? null, suite: msg.readUInt16BE(35 + sidLen) };
      if (!o.wantCertificate) return { kind: 'hello', ...hello, certificates, complete: true };
    } else if (msgType === 11 && hello) {
      let q = 3;
      while (q + 3 <= msg.length) {
        const certLen = (msg[q]! << 16) | (msg[q + 1]! << 8) | msg[q + 2]!;
        if (q + 3 + certLen > msg.length) break;
        certificates.push(Buffer.from(msg.subarray(q + 3, q + 3 + certLen)));
        q += 3 + certLen;
      }
    } else if (msgType === 14 && hello) return { kind: 'hello', ...hello, certificates, complete: true };
  }
  if (hello) return { kind: 'hello', ...hello, certificates, complete: afterHandshake || o.ended || data.length >= MAX_FLIGHT_BYTES };
  if (o.ended || data.length >= MAX_FLIGHT_BYTES) return { kind: 'not-tls' };
  return { kind: 'need-more' };
}

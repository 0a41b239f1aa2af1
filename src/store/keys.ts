import { StkError } from '../errors.ts';
import { assertId } from '../ids.ts';

/**
 * Key layout inside one tenant's sublevel of one model generation. Every variable part is either
 * validated against an id pattern or base64url-encoded, so no input can forge a `!` and step into
 * another key range.
 *
 *   <collection>!d!<id>                                    the document
 *   <collection>!a!<seq>!<id>                              every document, by creation order
 *   <collection>!i!<field>!<b64 value>!<seq>!<id>          documents by one indexed field
 *   <collection>!s!<sort>!<hex value>!<seq>!<id>           documents in the order of one sort
 *
 * Sort values are hex-encoded UTF-8, which keeps their byte order (an ISO time, a rank digit, a
 * host name sort the same encoded or not) and can never contain a `!`.
 */
const SEQ_DIGITS = 16;
const COLLECTION_RE = /^[a-z][a-z-]{0,31}$/;

export function pad(seq: number): string {
  return String(seq).padStart(SEQ_DIGITS, '0');
}

// Indexed values repeat (statuses, severities, agent ids): encoding each once saves a Buffer per key.
const encoded = new Map<string, string>();

function enc(value: unknown): string {
  const s = String(value);
  let e = encoded.get(s);
  if (e === undefined) {
    e = Buffer.from(s, 'utf8').toString('base64url');
    if (encoded.size >= 10_000) encoded.clear();
    encoded.set(s, e);
  }
  return e;
}

export function assertCollection(collection: string): void {
  if (!COLLECTION_RE.test(collection)) throw new StkError('STK_ERR_INTERNAL', `bad collection name ${collection}`, { collection });
}

export function docKey(collection: string, id: string): string {
  assertId('token', id, `${collection} id`);
  return `${collection}!d!${id}`;
}

export function allKey(collection: string, seq: number, id: string): string {
  return `${collection}!a!${pad(seq)}!${id}`;
}

export function allRange(collection: string): { gt: string; lt: string } {
  return { gt: `${collection}!a!`, lt: `${collection}!a!~` };
}

export function indexKey(collection: string, field: string, value: unknown, seq: number, id: string): string {
  return `${collection}!i!${field}!${enc(value)}!${pad(seq)}!${id}`;
}

export function indexRange(collection: string, field: string, value: unknown): { gt: string; lt: string } {
  const p = `${collection}!i!${field}!${enc(value)}!`;
  return { gt: p, lt: `${p}~` };
}

/** A sort value as it is stored in keys (order-preserving; at most 64 bytes of the value are kept). */
export function sortValue(value: string): string {
  return Buffer.from(value, 'utf8').subarray(0, 64).toString('hex');
}

export function sortKey(collection: string, sort: string, value: string, seq: number, id: string): string {
  return `${collection}!s!${sort}!${sortValue(value)}!${pad(seq)}!${id}`;
}

/** Keys of one sort, optionally only values in `[from, to)`. */
export function sortRange(collection: string, sort: string, from?: string, to?: string): { gt: string; lt: string } {
  const p = `${collection}!s!${sort}!`;
  return { gt: from !== undefined ? p + sortValue(from) : p, lt: to !== undefined ? p + sortValue(to) : `${p}~` };
}

/** The sort part of a list key (`<seq>!<id>`), which is what a cursor carries. */
export function sortPart(key: string): string {
  const parts = key.split('!');
  return `${parts[parts.length - 2]}!${parts[parts.length - 1]}`;
}

const CURSOR_RE = /^\d{16}![A-Za-z0-9_-]{1,64}$/;

/** An opaque page cursor: where the previous page stopped. A cursor cannot name a tenant. */
export function encodeCursor(sort: string): string {
  return Buffer.from(sort, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const sort = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!CURSOR_RE.test(sort)) throw new StkError('STK_ERR_VALIDATION', 'invalid cursor', { field: 'cursor' });
  return sort;
}

export function globalKey(index: string, key: string): string {
  assertCollection(index);
  if (!/^[A-Za-z0-9_.:-]{1,200}$/.test(key)) throw new StkError('STK_ERR_INVALID_ID', 'invalid lookup key', { field: 'key' });
  return `${index}!${key}`;
}

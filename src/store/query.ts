import { StkError } from '../errors.ts';
import { allRange, docKey, indexRange, pad, sortRange, sortValue } from './keys.ts';
import type { CollectionSpec, Doc } from './model.ts';
import type { Sub } from './store.ts';

/** Most items one query returns. */
export const QUERY_MAX_PAGE = 200;
/** Most index keys one query reads to build the set of ids a filter allows. */
export const QUERY_MAX_SET_KEYS = 200_000;
/** Most documents one query reads to check filters no index answers (free text, unindexed fields). */
export const QUERY_MAX_DOC_WALK = 10_000;
/** Totals stop counting here and say so (`totalExact: false`). */
export const QUERY_MAX_COUNT = 100_000;

export interface QueryOptions {
  /** Equality on indexed fields (read from the indexes, intersected). */
  filter?: Record<string, string>;
  /** Values of a sort in `[from, to)` (a time range on the collection's time sort). */
  range?: { sort: string; from?: string; to?: string };
  /** Order: a sort of the collection, or creation order when absent; newest/highest first unless `ascending`. */
  sort?: string;
  ascending?: boolean;
  /** A check on the document itself (free text, unindexed fields); read only for ids the indexes allow. */
  match?: (doc: Doc) => boolean;
  cursor?: string;
  /** @defaultValue 50 */
  limit?: number;
}

export interface QueryPage<T> {
  items: T[];
  nextCursor: string | null;
  /** How many documents match; exact unless `totalExact` is false (a bound was reached). */
  total: number;
  totalExact: boolean;
}

const CURSOR_RE = /^[a-z]{1,32}:[0-9a-f]{0,128}!?\d{16}![A-Za-z0-9_-]{1,64}$/;

/**
 * One page of a collection of one tenant's sublevel, filtered, ordered and counted.
 *
 * How it stays bounded: every equality filter on an indexed field and the time range are read as
 * sets of ids from their index keys alone (no document is read; at most QUERY_MAX_SET_KEYS keys per
 * set) and intersected. The page then walks the order's keys (creation order, or a sort index),
 * skipping ids outside the set; documents are read only for the ids kept, in batches, and only a
 * `match` check (free text) reads documents that may not be shown — at most QUERY_MAX_DOC_WALK per
 * request, after which the page ends early with a cursor to go on. The total is the size of the id
 * set, or, with a `match`, a count over at most QUERY_MAX_DOC_WALK documents.
 */
export async function queryCollection<T extends Doc>(sub: Sub, collection: string, spec: CollectionSpec, o: QueryOptions): Promise<QueryPage<T>> {
  const limit = Math.min(Math.max(o.limit ?? 50, 1), QUERY_MAX_PAGE);
  for (const field of Object.keys(o.filter ?? {})) {
    if (!spec.indexes.includes(field)) throw new StkError('STK_ERR_VALIDATION', `cannot filter ${collection} by ${field}`, { field });
  }
  for (const s of [o.sort, o.range?.sort]) {
    if (s !== undefined && !spec.sorts?.[s]) throw new StkError('STK_ERR_VALIDATION', `cannot sort ${collection} by ${s}`, { field: 'sort' });
  }

  // Ids the indexes allow (null: every document).
  let allowed: Set<string> | null = null;
  const intersect = (ids: Set<string>) => {
    if (allowed === null) allowed = ids;
    else {
      const prev: Set<string> = allowed;
      allowed = new Set([...ids].filter((id) => prev.has(id)));
    }
  };
  for (const [field, value] of Object.entries(o.filter ?? {})) intersect(await idsOf(sub, indexRange(collection, field, value), field));
  if (o.range) intersect(await idsOf(sub, sortRange(collection, o.range.sort, o.range.from, o.range.to), 'from'));

  const order = o.sort ?? 'created';
  const range = o.sort ? sortRange(collection, o.sort) : allRange(collection);
  const allowedNow = allowed as Set<string> | null;
  if (allowedNow && allowedNow.size <= QUERY_SMALL_SET) return smallSet<T>(sub, collection, spec, o, allowedNow, limit, order);
  const reverse = !o.ascending;
  const opts: { gt: string; lt: string; reverse: boolean } = { ...range, reverse };
  if (o.cursor) {
    const after = decodeQueryCursor(o.cursor, order);
    if (reverse) opts.lt = range.gt + after;
    else opts.gt = range.gt + after;
  }

  const items: T[] = [];
  let lastKey: string | null = null;
  let more = false;
  let walkedDocs = 0;
  const allowedSet = allowed as Set<string> | null;
  const it = sub.keys(opts);
  try {
    while (items.length < limit) {
      const keys = await it.nextv(Math.max(limit - items.length, 64));
      if (keys.length === 0) break;
      const want: string[] = [];
      const wantKeys: string[] = [];
      for (const k of keys) {
        const id = k.slice(k.lastIndexOf('!') + 1);
        if (allowedSet && !allowedSet.has(id)) {
          lastKey = k;
          continue;
        }
        want.push(id);
        wantKeys.push(k);
      }
      if (!want.length) continue;
      const docs = (await sub.getMany(want.map((id) => docKey(collection, id)))) as Array<T | undefined>;
      walkedDocs += docs.length;
      let i = 0;
      for (; i < docs.length && items.length < limit; i++) {
        lastKey = wantKeys[i]!;
        const d = docs[i];
        if (d && (!o.match || o.match(d))) items.push(d);
      }
      if (items.length >= limit) {
        // Documents left over in this batch, or more keys in the order: there is a next page.
        more = i < docs.length || (await it.nextv(1)).length > 0;
        break;
      }
      if (o.match && walkedDocs >= QUERY_MAX_DOC_WALK) {
        more = true;
        break;
      }
    }
  } finally {
    await it.close();
  }
  const { total, totalExact } = await countOf(sub, collection, allowedSet, o.match);
  return { items, nextCursor: more && lastKey ? encodeQueryCursor(order, lastKey.slice(range.gt.length)) : null, total, totalExact };
}

/** A set of ids this small is read whole and ordered in memory, instead of walking an order's keys. */
const QUERY_SMALL_SET = 2_000;

async function smallSet<T extends Doc>(
  sub: Sub,
  collection: string,
  spec: CollectionSpec,
  o: QueryOptions,
  ids: Set<string>,
  limit: number,
  order: string,
): Promise<QueryPage<T>> {
  const docs = (await sub.getMany([...ids].map((id) => docKey(collection, id)))) as Array<T | undefined>;
  const of = o.sort ? spec.sorts![o.sort]! : null;
  const rows: Array<{ d: T; key: string }> = [];
  for (const d of docs) {
    if (!d || (o.match && !o.match(d))) continue;
    // The same key part the order's index holds, so cursors mean the same thing either way.
    const v = of ? of(d) : '';
    if (v === null) continue;
    rows.push({ d, key: `${of ? `${sortValue(v)}!` : ''}${pad(d.seq)}!${d.id}` });
  }
  rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  if (!o.ascending) rows.reverse();
  const after = o.cursor ? decodeQueryCursor(o.cursor, order) : null;
  const rest = after === null ? rows : rows.filter((r) => (o.ascending ? r.key > after : r.key < after));
  const page = rest.slice(0, limit);
  const more = rest.length > limit;
  return { items: page.map((r) => r.d), nextCursor: more ? encodeQueryCursor(order, page[page.length - 1]!.key) : null, total: rows.length, totalExact: true };
}

async function idsOf(sub: Sub, range: { gt: string; lt: string }, field: string): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const k of sub.keys({ ...range, limit: QUERY_MAX_SET_KEYS + 1 })) {
    ids.add(k.slice(k.lastIndexOf('!') + 1));
    if (ids.size > QUERY_MAX_SET_KEYS) {
      throw new StkError('STK_ERR_VALIDATION', `the ${field} filter matches more than ${QUERY_MAX_SET_KEYS} items; add another filter`, { field });
    }
  }
  return ids;
}

async function countOf(
  sub: Sub,
  collection: string,
  allowed: Set<string> | null,
  match?: (d: Doc) => boolean,
): Promise<{ total: number; totalExact: boolean }> {
  if (!match) {
    if (allowed) return { total: allowed.size, totalExact: true };
    let n = 0;
    for await (const _ of sub.keys({ ...allRange(collection), limit: QUERY_MAX_COUNT + 1 })) n++;
    return n > QUERY_MAX_COUNT ? { total: QUERY_MAX_COUNT, totalExact: false } : { total: n, totalExact: true };
  }
  let n = 0;
  let read = 0;
  const ids = allowed ? [...allowed] : null;
  const it = ids ? null : sub.keys(allRange(collection));
  try {
    for (let i = 0; read < QUERY_MAX_DOC_WALK; ) {
      let batch: string[];
      if (ids) {
        batch = ids.slice(i, i + 500);
        i += 500;
      } else batch = (await it!.nextv(500)).map((k) => k.slice(k.lastIndexOf('!') + 1));
      if (!batch.length) return { total: n, totalExact: true };
      const docs = (await sub.getMany(batch.map((id) => docKey(collection, id)))) as Array<Doc | undefined>;
      read += docs.length;
      for (const d of docs) if (d && match(d)) n++;
    }
  } finally {
    await it?.close();
  }
  return { total: n, totalExact: false };
}

function encodeQueryCursor(order: string, keyPart: string): string {
  return Buffer.from(`${order}:${keyPart}`, 'utf8').toString('base64url');
}

function decodeQueryCursor(cursor: string, order: string): string {
  const raw = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!CURSOR_RE.test(raw) || !raw.startsWith(`${order}:`)) throw new StkError('STK_ERR_VALIDATION', 'invalid cursor', { field: 'cursor' });
  return raw.slice(order.length + 1);
}

/**
 * The ids of every document a query's filters, range and `match` allow, at most `max` (and
 * whether more match): the set of a moment, for work done by filter (bulk changes). Read the way
 * `queryCollection` reads: equality filters and the range from their index keys, documents only
 * for a `match`, in batches; no order, no count beyond `max + 1`.
 */
export async function matchingIds(sub: Sub, collection: string, spec: CollectionSpec, o: QueryOptions, max: number): Promise<{ ids: string[]; more: boolean }> {
  for (const field of Object.keys(o.filter ?? {})) {
    if (!spec.indexes.includes(field)) throw new StkError('STK_ERR_VALIDATION', `cannot filter ${collection} by ${field}`, { field });
  }
  if (o.range && !spec.sorts?.[o.range.sort]) throw new StkError('STK_ERR_VALIDATION', `cannot sort ${collection} by ${o.range.sort}`, { field: 'sort' });
  let allowed: Set<string> | null = null;
  for (const [field, value] of Object.entries(o.filter ?? {})) {
    const ids = await idsOf(sub, indexRange(collection, field, value), field);
    allowed = allowed === null ? ids : new Set([...ids].filter((id) => (allowed as Set<string>).has(id)));
  }
  if (o.range) {
    const ids = await idsOf(sub, sortRange(collection, o.range.sort, o.range.from, o.range.to), 'from');
    allowed = allowed === null ? ids : new Set([...ids].filter((id) => (allowed as Set<string>).has(id)));
  }
  const out: string[] = [];
  const candidates = allowed === null ? null : [...(allowed as Set<string>)];
  const it = candidates ? null : sub.keys(allRange(collection));
  try {
    for (let i = 0; ; ) {
      let batch: string[];
      if (candidates) {
        batch = candidates.slice(i, i + 500);
        i += 500;
      } else batch = (await it!.nextv(500)).map((k) => k.slice(k.lastIndexOf('!') + 1));
      if (!batch.length) return { ids: out, more: false };
      if (o.match) {
        const docs = (await sub.getMany(batch.map((id) => docKey(collection, id)))) as Array<Doc | undefined>;
        for (const d of docs) if (d && o.match(d)) out.push(d.id);
      } else out.push(...batch);
      if (out.length > max) return { ids: out.slice(0, max), more: true };
    }
  } finally {
    await it?.close();
  }
}

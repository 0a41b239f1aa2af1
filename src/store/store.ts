import type { AbstractSublevel } from 'abstract-level';
import type { Level } from 'level';
import { StkError } from '../errors.ts';
import { assertId } from '../ids.ts';
import { allRange, assertCollection, decodeCursor, docKey, encodeCursor, globalKey, indexRange, sortPart, sortRange } from './keys.ts';
import type { CollectionSpec, Doc, Projection } from './model.ts';
import { matchingIds, type QueryOptions, type QueryPage, queryCollection } from './query.ts';

// biome-ignore lint/suspicious/noExplicitAny: a sublevel of any parent database (abstract-level's own parameter types)
export type Sub = AbstractSublevel<any, any, string, unknown>;

/** Name of the per-model sublevel that holds the admin (cross-tenant) indexes; never a tenant id. */
const GLOBAL = '_global';

export interface ListOptions {
  /** Equality filters on indexed fields. */
  filter?: Record<string, string>;
  cursor?: string;
  /** @defaultValue 50 */
  limit?: number;
}

export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/**
 * Seals page cursors for one tenant. A cursor holds where a page stopped in a sort, and sorts end
 * in install-wide stream sequences; a sealed cursor shows a tenant nothing of them (see
 * `ConsistencyTokens`), and one tenant's cursor does not open in another's.
 */
export interface CursorSeal {
  sealCursor(tenant: string, cursor: string): string;
  /** The cursor sealed for `tenant`; null for anything else. */
  openCursor(tenant: string, sealed: string): string | null;
}

/**
 * How every process opens the LevelDB of its read models. The 32 MiB write buffer (LevelDB's
 * default is 4 MiB) is for the rebuild, which writes ~10 keys per event: with 4 MiB memtables the
 * level-0 files of a 40,000-event rebuild all overlap and LevelDB's compaction thread spent
 * 1.7–2.5 s of CPU per rebuild, more than the projector itself; with 32 MiB it spent 0.4–1.1 s
 * (bench `rebuild`, 2-core machine). The cost is up to two such memtables of memory.
 */
export const LEVEL_OPTIONS = Object.freeze({ valueEncoding: 'json', writeBufferSize: 32 * 1024 * 1024 });

/** Most items one list call returns. */
export const MAX_PAGE = 200;
/** Most documents one list call examines for filters without an index. */
export const MAX_WALK = 5_000;

/**
 * The read side of the read models. Tenant data is read only through a handle bound to one tenant
 * (`forTenant`), which reads only that tenant's sublevels, so another tenant's id is simply absent.
 * The only cross-tenant reads are those of the `admin` handle.
 *
 * Each model lives in generations (`<model>-<gen>`); exactly one is active, and a rebuild fills a
 * fresh one and swaps it in, so queries never see a half-built model.
 */
export class ReadStore {
  readonly db: Level<string, unknown>;
  readonly rm: Sub;
  readonly meta: Sub;
  readonly projections: readonly Projection[];
  readonly #models = new Map<string, Projection>();
  readonly #owner = new Map<string, Projection>();
  readonly #active = new Map<string, number>();
  readonly #subs = new Map<string, Sub>();
  readonly #tenants = new Map<string, TenantStore>();
  #admin: AdminStore | null = null;

  private constructor(db: Level<string, unknown>, projections: readonly Projection[]) {
    this.db = db;
    this.rm = db.sublevel<string, unknown>('rm', { valueEncoding: 'json' }) as Sub;
    this.meta = db.sublevel<string, unknown>('meta', { valueEncoding: 'json' }) as Sub;
    this.projections = projections;
    for (const p of projections) {
      assertCollection(p.model);
      this.#models.set(p.model, p);
      for (const c of Object.keys(p.collections)) {
        assertCollection(c);
        if (this.#owner.has(c)) throw new StkError('STK_ERR_INTERNAL', `collection ${c} has two models`, { collection: c });
        this.#owner.set(c, p);
      }
    }
  }

  /** Opens the store over a LevelDB; a model seen for the first time starts in generation 1. */
  static async open(db: Level<string, unknown>, projections: readonly Projection[]): Promise<ReadStore> {
    const s = new ReadStore(db, projections);
    for (const p of projections) {
      const gen = (await s.meta.get(`active!${p.model}`)) as number | undefined;
      if (gen === undefined) await s.meta.put(`active!${p.model}`, 1);
      s.#active.set(p.model, gen ?? 1);
    }
    return s;
  }

  model(name: string): Projection {
    const p = this.#models.get(name);
    if (!p)
      throw new StkError('STK_ERR_VALIDATION', `unknown model ${JSON.stringify(name)}; models are ${[...this.#models.keys()].join(', ')}`, { field: 'model' });
    return p;
  }

  activeGen(model: string): number {
    return this.#active.get(model) ?? 1;
  }

  /** Makes `gen` the generation queries read; called by the projector inside its lock. */
  setActiveGen(model: string, gen: number): void {
    this.#active.set(model, gen);
  }

  genSub(model: string, gen: number): Sub {
    const name = `${model}-${gen}`;
    let s = this.#subs.get(name);
    if (!s) {
      s = this.rm.sublevel<string, unknown>(name, { valueEncoding: 'json' }) as Sub;
      this.#subs.set(name, s);
    }
    return s;
  }

  /** The sublevel of one tenant in one model generation. */
  tenantSub(model: string, gen: number, tenant: string): Sub {
    assertId('tenant', tenant, 'tenant');
    const name = `${model}-${gen}/${tenant}`;
    let s = this.#subs.get(name);
    if (!s) {
      s = this.genSub(model, gen).sublevel<string, unknown>(tenant, { valueEncoding: 'json' }) as Sub;
      this.#subs.set(name, s);
    }
    return s;
  }

  globalSub(model: string, gen: number): Sub {
    const name = `${model}-${gen}/${GLOBAL}`;
    let s = this.#subs.get(name);
    if (!s) {
      s = this.genSub(model, gen).sublevel<string, unknown>(GLOBAL, { valueEncoding: 'json' }) as Sub;
      this.#subs.set(name, s);
    }
    return s;
  }

  /** Forgets cached sublevels of a generation that was dropped. */
  forgetGen(model: string, gen: number): void {
    for (const k of [...this.#subs.keys()]) if (k === `${model}-${gen}` || k.startsWith(`${model}-${gen}/`)) this.#subs.delete(k);
  }

  /**
   * The read models of one tenant, for a route under `/tenants/:tenant`: every read is in that
   * tenant's sublevels and there is no way to name another tenant through it.
   */
  forTenant(tenant: string): TenantStore {
    assertId('tenant', tenant, 'tenant');
    let t = this.#tenants.get(tenant);
    if (!t) {
      t = new TenantStore(
        tenant,
        (collection) => this.#tenantView(tenant, collection),
        (collection) => this.#spec(collection),
      );
      // A bounded cache: the handle is two closures, cheap to make again.
      if (this.#tenants.size >= 10_000) this.#tenants.clear();
      this.#tenants.set(tenant, t);
    }
    return t;
  }

  /** The admin handle: cross-tenant indexes and dumps. Given only to admin routes and authentication. */
  get admin(): AdminStore {
    this.#admin ??= new AdminStore(this);
    return this.#admin;
  }

  #tenantView(tenant: string, collection: string): Sub {
    const p = this.#owner.get(collection);
    if (!p) throw new StkError('STK_ERR_INTERNAL', `unknown collection ${collection}`, { collection });
    return this.tenantSub(p.model, this.activeGen(p.model), tenant);
  }

  #spec(collection: string): CollectionSpec {
    const spec = this.#owner.get(collection)?.collections[collection];
    if (!spec) throw new StkError('STK_ERR_INTERNAL', `unknown collection ${collection}`, { collection });
    return spec;
  }
}

/** One tenant's documents. Made by `ReadStore.forTenant`; the tenant is fixed at construction. */
export class TenantStore {
  readonly tenant: string;
  readonly #sub: (collection: string) => Sub;
  readonly #specOf: (collection: string) => CollectionSpec;
  readonly #seal: CursorSeal | null;

  constructor(tenant: string, sub: (collection: string) => Sub, specOf: (collection: string) => CollectionSpec, seal: CursorSeal | null = null) {
    this.tenant = tenant;
    this.#sub = sub;
    this.#specOf = specOf;
    this.#seal = seal;
  }

  /**
   * The same store as the API hands it to callers: cursors sealed for the tenant, and documents
   * without their `seq` — the install-wide log position a document was made at, whose gaps would
   * show how much every other tenant writes, and when (the reason cursors are sealed).
   */
  withSealedCursors(seal: CursorSeal): TenantStore {
    return new TenantStore(this.tenant, this.#sub, this.#specOf, seal);
  }

  /** A document as this store answers it: without its log position when cursors are sealed. */
  #shown<T extends Doc>(d: T): T {
    if (!this.#seal || !('seq' in d)) return d;
    const { seq: _seq, ...rest } = d as T & { seq?: unknown };
    return rest as T;
  }

  #openCursor<O extends { cursor?: string }>(o: O): O {
    if (!o.cursor || !this.#seal) return o;
    const cursor = this.#seal.openCursor(this.tenant, o.cursor);
    if (cursor === null) throw new StkError('STK_ERR_VALIDATION', 'invalid cursor', { field: 'cursor' });
    return { ...o, cursor };
  }

  #sealCursor<P extends { nextCursor: string | null }>(page: P): P {
    return page.nextCursor && this.#seal ? { ...page, nextCursor: this.#seal.sealCursor(this.tenant, page.nextCursor) } : page;
  }

  /** One document; null when it does not exist in this tenant (whoever else has that id). */
  async get<T extends Doc = Doc>(collection: string, id: string): Promise<T | null> {
    const sub = this.#sub(collection);
    const d = (await sub.get(docKey(collection, id))) as T | undefined;
    return d ? this.#shown(d) : null;
  }

  /** A page of documents, newest first, optionally filtered on indexed fields. */
  async list<T extends Doc = Doc>(collection: string, o: ListOptions = {}): Promise<Page<T>> {
    const page = this.#sealCursor(await this.#list<T>(collection, this.#openCursor(o)));
    return this.#seal ? { ...page, items: page.items.map((d) => this.#shown(d)) } : page;
  }

  async #list<T extends Doc>(collection: string, o: ListOptions): Promise<Page<T>> {
    const sub = this.#sub(collection);
    const spec = this.#specOf(collection);
    const limit = Math.min(Math.max(o.limit ?? 50, 1), MAX_PAGE);
    const filters = Object.entries(o.filter ?? {});
    for (const [field] of filters) {
      if (!spec.indexes.includes(field) && !spec.scan?.includes(field))
        throw new StkError('STK_ERR_VALIDATION', `cannot filter ${collection} by ${field}`, { field });
    }
    const first = filters.find(([f]) => spec.indexes.includes(f));
    const rest = filters.filter((x) => x !== first);
    const range = first ? indexRange(collection, first[0], first[1]) : allRange(collection);
    const prefix = range.gt;
    const opts: { gt: string; lt: string; reverse: true } = { ...range, reverse: true };
    if (o.cursor) opts.lt = prefix + decodeCursor(o.cursor);
    const items: T[] = [];
    let lastKey: string | null = null;
    let more = false;
    let walked = 0;
    const it = sub.keys(opts);
    try {
      // Keys a page at a time, documents in one getMany per page.
      while (items.length < limit) {
        // A filter without an index walks documents; a page stops after a bounded walk and says
        // where to go on, so one request never scans a whole tenant.
        if (walked >= MAX_WALK) {
          more = true;
          break;
        }
        const keys = await it.nextv(Math.min(limit - items.length, MAX_WALK - walked));
        if (keys.length === 0) break;
        walked += keys.length;
        const docs = (await sub.getMany(keys.map((k) => docKey(collection, k.slice(k.lastIndexOf('!') + 1))))) as Array<T | undefined>;
        for (let i = 0; i < keys.length; i++) {
          lastKey = keys[i]!;
          const doc = docs[i];
          if (doc && !rest.some(([f, v]) => String(doc[f]) !== v)) items.push(doc);
        }
      }
      if (!more && items.length === limit) more = (await it.nextv(1)).length > 0;
    } finally {
      await it.close();
    }
    return { items, nextCursor: more && lastKey ? encodeCursor(sortPart(lastKey)) : null };
  }

  /** Several documents at once, in the order asked; null where one does not exist in this tenant. */
  async getMany<T extends Doc = Doc>(collection: string, ids: readonly string[]): Promise<Array<T | null>> {
    if (!ids.length) return [];
    const docs = (await this.#sub(collection).getMany(ids.map((id) => docKey(collection, id)))) as Array<T | undefined>;
    return docs.map((d) => (d ? this.#shown(d) : null));
  }

  /** A page of documents filtered, ordered and counted (see `queryCollection`). */
  async query<T extends Doc = Doc>(collection: string, o: QueryOptions = {}): Promise<QueryPage<T>> {
    const page = this.#sealCursor(await queryCollection<T>(this.#sub(collection), collection, this.#specOf(collection), this.#openCursor(o)));
    return this.#seal ? { ...page, items: page.items.map((d) => this.#shown(d)) } : page;
  }

  /**
   * Every document of a collection, oldest (or lowest) first, in pages of `pageSize` (default 500):
   * in creation order, or in the order of one of the collection's sorts. For whole-collection
   * exports that must not stop at a count: one LevelDB iterator (its snapshot) for the whole walk,
   * closed when the caller stops early. A document deleted while it is walked is skipped.
   */
  async *walk<T extends Doc = Doc>(collection: string, o: { sort?: string; pageSize?: number } = {}): AsyncGenerator<T[]> {
    const sub = this.#sub(collection);
    const spec = this.#specOf(collection);
    if (o.sort !== undefined && !spec.sorts?.[o.sort]) throw new StkError('STK_ERR_VALIDATION', `cannot sort ${collection} by ${o.sort}`, { field: 'sort' });
    const pageSize = Math.min(Math.max(o.pageSize ?? 500, 1), 5_000);
    const it = sub.keys(o.sort !== undefined ? sortRange(collection, o.sort) : allRange(collection));
    try {
      for (;;) {
        const keys = await it.nextv(pageSize);
        if (keys.length === 0) return;
        const docs = (await sub.getMany(keys.map((k) => docKey(collection, k.slice(k.lastIndexOf('!') + 1))))) as Array<T | undefined>;
        const page = docs.filter((d): d is T => d !== undefined).map((d) => this.#shown(d));
        if (page.length) yield page;
      }
    } finally {
      await it.close();
    }
  }

  /** The ids of every document a query allows, at most `max`, and whether more match (see `matchingIds`). */
  async ids(collection: string, o: QueryOptions, max: number): Promise<{ ids: string[]; more: boolean }> {
    return matchingIds(this.#sub(collection), collection, this.#specOf(collection), o, max);
  }

  /** The collection's spec: its indexes, unindexed filters and sorts. */
  spec(collection: string): CollectionSpec {
    return this.#specOf(collection);
  }

  /**
   * How many documents one of the collection's sorts holds with values in `[from, to)`, read from
   * its keys alone (no document is read). A sort whose function answers null for a document holds
   * no key of it, so a sort can count a subset (the active agents by when they were last heard).
   */
  async countSorted(collection: string, sort: string, from?: string, to?: string): Promise<number> {
    const sub = this.#sub(collection);
    if (!this.#specOf(collection).sorts?.[sort]) throw new StkError('STK_ERR_VALIDATION', `cannot sort ${collection} by ${sort}`, { field: 'sort' });
    let n = 0;
    for await (const _ of sub.keys(sortRange(collection, sort, from, to))) n++;
    return n;
  }

  /** How many documents match a filter on one indexed field (or all of them). */
  async count(collection: string, filter?: { field: string; value: string }): Promise<number> {
    const sub = this.#sub(collection);
    const spec = this.#specOf(collection);
    if (filter && !spec.indexes.includes(filter.field))
      throw new StkError('STK_ERR_VALIDATION', `cannot count ${collection} by ${filter.field}`, { field: filter.field });
    let n = 0;
    for await (const _ of sub.keys(filter ? indexRange(collection, filter.field, filter.value) : allRange(collection))) n++;
    return n;
  }
}

/**
 * What admin routes and authentication read: the cross-tenant lookup indexes, and any tenant's
 * documents by naming it. Never handed to a tenant route.
 */
export class AdminStore {
  readonly #store: ReadStore;

  constructor(store: ReadStore) {
    this.#store = store;
  }

  /** Any tenant's documents (admin routes, authentication of a token found through its lookup). */
  tenant(tenant: string): TenantStore {
    return this.#store.forTenant(tenant);
  }

  /** A value of a model's cross-tenant lookup index (secret lookups, agent → tenant). */
  async lookup<T = unknown>(model: string, index: string, key: string): Promise<T | null> {
    const sub = this.#store.globalSub(model, this.#store.activeGen(this.#store.model(model).model));
    return ((await sub.get(globalKey(index, key))) as T | undefined) ?? null;
  }

  /** Every entry of a model's cross-tenant index, in key order. */
  async scan<T = unknown>(model: string, index: string): Promise<Array<{ key: string; value: T }>> {
    const sub = this.#store.globalSub(model, this.#store.activeGen(this.#store.model(model).model));
    const out: Array<{ key: string; value: T }> = [];
    for await (const [k, v] of sub.iterator({ gt: `${index}!`, lt: `${index}!~` })) out.push({ key: k.slice(index.length + 1), value: v as T });
    return out;
  }

  /** Every key and value of a model's active generation, for comparing a model with its rebuild. */
  async dump(model: string): Promise<Array<[string, unknown]>> {
    const out: Array<[string, unknown]> = [];
    for await (const [k, v] of this.#store.genSub(model, this.#store.activeGen(this.#store.model(model).model)).iterator()) out.push([k, v]);
    return out;
  }
}

import { StkError } from '../errors.ts';
import type { Level } from 'level';
import { isValidId } from '../ids.ts';
import type { EventEnvelope } from '../log/mod.ts';
import { allKey, docKey, globalKey, indexKey, sortKey } from './keys.ts';
import type { CollectionSpec, Doc, DocRef, Docs, Projection, Write } from './model.ts';
import type { ReadStore, Sub } from './store.ts';

// The options abstract-level's private API promises its implementations: keys and values here are
// already strings in their final form (sublevel prefix included, value already JSON text).
const RAW = Object.freeze({ keyEncoding: 'utf8', valueEncoding: 'utf8' });

interface NativeBatch {
  put(key: string, value: string, o: object): unknown;
  del(key: string, o: object): unknown;
  write(o?: object): Promise<void>;
  close(): Promise<void>;
  _put?: (key: string, value: string, o: object) => void;
  _del?: (key: string, o: object) => void;
  _write?: (o: object) => Promise<void>;
}

/**
 * One atomic LevelDB write, built op by op from keys that already carry their sublevel prefix and
 * values that are already JSON text: exactly the bytes the sublevels would write.
 *
 * The batch is a public chained batch (`db.batch()`), filled through its implementor methods
 * `_put`/`_del` and committed with `_write` (abstract-level's "private API for implementors",
 * whose signatures its README fixes). Why not the public methods: measured on this 2-core machine
 * with 400,000 rebuild-shaped ops, the synchronous JS+native cost was 0.4–0.65 s this way, against
 * 4–5.7 s for public `db.batch(array)`, 6–7.5 s for public `chainedBatch.put()` (both clone,
 * re-validate and re-encode every op) and 1.3–2.3 s for the array `_batch` used before (classic-level
 * reads `type`/`key`/`value` of every op object through N-API property lookups, where `_put` passes
 * two strings). That cost is paid on the event loop for every key of a rebuild. If a future
 * abstract-level lacks these methods the public ones are used, slower but with identical bytes
 * (test/store/batch.test.ts writes both ways and compares).
 */
export class RawBatch {
  readonly #b: NativeBatch;
  readonly #fast: boolean;
  #length = 0;

  /** `portable` forces the public methods (the fallback), for the test that compares both. */
  constructor(db: Level<string, unknown>, o: { portable?: boolean } = {}) {
    this.#b = db.batch() as unknown as NativeBatch;
    this.#fast = !o.portable && typeof this.#b._put === 'function' && typeof this.#b._del === 'function' && typeof this.#b._write === 'function';
  }

  get length(): number {
    return this.#length;
  }

  put(key: string, value: string): void {
    if (this.#fast) this.#b._put!(key, value, RAW);
    else this.#b.put(key, value, RAW);
    this.#length++;
  }

  del(key: string): void {
    if (this.#fast) this.#b._del!(key, RAW);
    else this.#b.del(key, RAW);
    this.#length++;
  }

  /** Commits every op at once, or none; the batch is closed either way. */
  async write(): Promise<void> {
    try {
      if (this.#length === 0) return;
      if (this.#fast) await this.#b._write!({});
      else await this.#b.write();
    } finally {
      await this.#b.close().catch(() => {});
    }
  }

  /** Drops the ops without writing them. */
  discard(): Promise<void> {
    return this.#b.close().catch(() => {});
  }
}

/** A put into a sublevel as JSON, for the positions written in the same batch as the models. */
export function putJson(batch: RawBatch, sub: Sub, key: string, value: unknown): void {
  batch.put(sub.prefix + key, JSON.stringify(value));
}

// Index entries carry nothing: the id is the last part of their key.
const EMPTY = '""';

/** Documents cached across batches during a rebuild before the cache is dropped. */
const REBUILD_CACHE_MAX = 500_000;

/**
 * Applies events of one model generation into a list of LevelDB operations, keeping secondary
 * indexes in step with documents, into the batch given by `into`. The caller writes that batch together with the position,
 * which is what makes a crash unable to apply an event twice or skip one.
 */
export class ModelWriter {
  readonly store: ReadStore;
  readonly projection: Projection;
  readonly gen: number;
  /** Position already reflected by this generation; events at or before it are skipped. */
  position: number;
  /** Where the next events' writes go; set by the projector for every batch (`into`). */
  #out: RawBatch | null = null;
  // Documents as they are after the ops queued so far (null = deleted / absent).
  readonly #overlay = new Map<string, Doc | null>();
  // A fresh generation has nothing on disk that the overlay does not know, so misses need no read.
  #fresh: boolean;
  // What `apply` shows a projection: the overlay, in the tenant of the event being applied.
  readonly #docs: OverlayDocs;
  // Key prefix of each tenant's sublevel in this generation (tenant ids checked on first sight).
  readonly #prefixes = new Map<string, string>();
  /**
   * Documents changed since the batch was last settled, by overlay key, with the version the batch
   * started from: each goes into the batch once, as it ends (`settle`). A document that many events
   * of a batch change — a tenant's overview, an hour's tally, an agent's counts — is serialized and
   * re-indexed once per batch instead of once per event.
   */
  readonly #dirty = new Map<string, { tenant: string; collection: string; id: string; spec: CollectionSpec; before: Doc | null; next: Doc | null }>();

  constructor(store: ReadStore, projection: Projection, gen: number, position: number, o: { fresh?: boolean } = {}) {
    this.store = store;
    this.projection = projection;
    this.gen = gen;
    this.position = position;
    this.#fresh = o.fresh ?? false;
    this.#docs = new OverlayDocs(this.#overlay);
  }

  #prefix(tenant: string): string {
    let pre = this.#prefixes.get(tenant);
    if (pre === undefined) {
      pre = this.store.tenantSub(this.projection.model, this.gen, tenant).prefix;
      this.#prefixes.set(tenant, pre);
    }
    return pre;
  }

  /**
   * Applies one event at `position`; a no-op if this generation already reflects it. Synchronous
   * when every document it touches is known (always, in a fresh generation): a rebuild then runs
   * without a single await per event, which is most of its speed.
   */
  apply(e: EventEnvelope, position: number): void | Promise<void> {
    if (position <= this.position) return;
    const p = this.projection;
    if (!p.types.has(e.type)) return;
    const tenant = e.tenant;
    // Plain loops, no closures: this runs for every event of a rebuild in every model.
    let unknown: DocRef[] | null = null;
    for (const r of p.reads(e)) {
      // Ids inside event data were validated at the edge; one that is not an id is simply absent.
      if (!isValidId('token', r.id)) continue;
      const k = ok(tenant, r.collection, r.id);
      if (this.#overlay.has(k)) continue;
      if (this.#fresh) this.#overlay.set(k, null);
      else if (unknown) unknown.push(r);
      else unknown = [r];
    }
    if (unknown) return this.#loadAll(tenant, unknown).then(() => this.#applyKnown(e, position));
    return this.#applyKnown(e, position);
  }

  /**
   * The documents the events will ask for that this writer does not know yet: their keys in the
   * whole database and where each read goes. `prefetchModels` reads them for every writer at once.
   */
  missing(events: ReadonlyArray<{ e: EventEnvelope; position: number }>): Array<{ key: string; found: (doc: Doc | null) => void }> {
    if (this.#fresh) return [];
    const p = this.projection;
    const out: Array<{ key: string; found: (doc: Doc | null) => void }> = [];
    const asked = new Set<string>();
    for (const { e, position } of events) {
      if (position <= this.position || !p.types.has(e.type)) continue;
      for (const r of p.reads(e)) {
        const k = ok(e.tenant, r.collection, r.id);
        if (!isValidId('token', r.id) || this.#overlay.has(k) || asked.has(k)) continue;
        asked.add(k);
        out.push({ key: this.#prefix(e.tenant) + docKey(r.collection, r.id), found: (doc) => this.#overlay.set(k, doc) });
      }
    }
    return out;
  }

  #applyKnown(e: EventEnvelope, position: number): void | Promise<void> {
    const tenant = e.tenant;
    this.#docs.tenant = tenant;
    const writes = this.projection.apply(e, this.#docs, position);
    // A write to a document it did not read needs the old version for its index entries.
    let targets: DocRef[] | null = null;
    for (const w of writes) {
      if ('global' in w || this.projection.collections[w.collection]?.writeOnce) continue;
      const k = ok(tenant, w.collection, w.id);
      if (this.#overlay.has(k)) continue;
      if (this.#fresh) this.#overlay.set(k, null);
      else if (targets) targets.push(w);
      else targets = [w];
    }
    if (targets) {
      return this.#loadAll(tenant, targets).then(() => {
        for (const w of writes) this.#write(tenant, w);
      });
    }
    for (const w of writes) this.#write(tenant, w);
  }

  /** True while misses need no read (a fresh generation whose cache was never dropped). */
  get fresh(): boolean {
    return this.#fresh;
  }

  /** Marks the batch's last position; call once per batch after the events. */
  advance(position: number): void {
    if (position > this.position) this.position = position;
  }

  /** Sends the writes of the events applied from now on to `batch`. */
  into(batch: RawBatch): void {
    if (this.#dirty.size > 0) throw new StkError('STK_ERR_INTERNAL', `model ${this.projection.model} changed documents that were never settled into a batch`);
    this.#out = batch;
  }

  /**
   * Puts every document changed since the last settle into the batch, once each, as it is now, with
   * its index entries moved from the version the batch started from. Call before the batch is
   * written (or read, for a batch that records): until then the changes are only in the overlay.
   */
  settle(): void {
    if (this.#dirty.size === 0) return;
    const out = this.#out;
    if (!out) throw new StkError('STK_ERR_INTERNAL', `model ${this.projection.model} settled outside a batch`);
    for (const d of this.#dirty.values()) this.#emit(out, this.#prefix(d.tenant), d.collection, d.id, d.spec, d.before, d.next);
    this.#dirty.clear();
  }

  /** The batch is written (or dropped); a live writer also drops its cache. */
  flushed(): void {
    this.#out = null;
    this.#dirty.clear();
    if (!this.#fresh) this.#overlay.clear();
    else if (this.#overlay.size > REBUILD_CACHE_MAX) {
      this.#overlay.clear();
      this.#fresh = false;
    }
  }

  async #loadAll(tenant: string, refs: Array<{ collection: string; id: string }>): Promise<void> {
    for (const r of refs) {
      const k = ok(tenant, r.collection, r.id);
      if (this.#overlay.has(k)) continue;
      const doc = ((await this.store.tenantSub(this.projection.model, this.gen, tenant).get(docKey(r.collection, r.id))) as Doc | undefined) ?? null;
      this.#overlay.set(k, doc);
    }
  }

  #write(tenant: string, w: Write): void {
    const out = this.#out;
    if (!out) throw new StkError('STK_ERR_INTERNAL', `model ${this.projection.model} applied an event outside a batch`);
    if ('global' in w) {
      const sub = this.store.globalSub(this.projection.model, this.gen);
      const key = globalKey(w.global, w.key);
      if (w.value === null) out.del(sub.prefix + key);
      else out.put(sub.prefix + key, JSON.stringify(w.value));
      return;
    }
    const spec = this.projection.collections[w.collection];
    if (!spec)
      throw new StkError('STK_ERR_INTERNAL', `model ${this.projection.model} wrote to ${w.collection}, which it does not own`, { collection: w.collection });
    if (spec.writeOnce) {
      this.#emit(out, this.#prefix(tenant), w.collection, w.id, spec, null, w.doc);
      return;
    }
    const k = ok(tenant, w.collection, w.id);
    const dirty = this.#dirty.get(k);
    if (dirty) dirty.next = w.doc;
    else this.#dirty.set(k, { tenant, collection: w.collection, id: w.id, spec, before: this.#overlay.get(k) ?? null, next: w.doc });
    this.#overlay.set(k, w.doc);
  }

  /** The ops that take a document from `old` (as stored) to `next`: the document, its `all` entry, its indexes and sorts. */
  #emit(out: RawBatch, pre: string, collection: string, id: string, spec: CollectionSpec, old: Doc | null, next: Doc | null): void {
    if (old) {
      for (const f of spec.indexes) {
        if (next && next.seq === old.seq && String(next[f]) === String(old[f])) continue;
        if (old[f] !== undefined && old[f] !== null) out.del(pre + indexKey(collection, f, old[f], old.seq, id));
      }
      if (!next || next.seq !== old.seq) out.del(pre + allKey(collection, old.seq, id));
      if (spec.sorts) {
        for (const [name, of] of Object.entries(spec.sorts)) {
          const was = of(old);
          if (was === null || (next && next.seq === old.seq && of(next) === was)) continue;
          out.del(pre + sortKey(collection, name, was, old.seq, id));
        }
      }
    }
    if (next) {
      out.put(pre + docKey(collection, id), JSON.stringify(next));
      if (!old || old.seq !== next.seq) out.put(pre + allKey(collection, next.seq, id), EMPTY);
      for (const f of spec.indexes) {
        if (next[f] === undefined || next[f] === null) continue;
        if (old && old.seq === next.seq && String(next[f]) === String(old[f])) continue;
        out.put(pre + indexKey(collection, f, next[f], next.seq, id), EMPTY);
      }
      if (spec.sorts) {
        for (const [name, of] of Object.entries(spec.sorts)) {
          const value = of(next);
          if (value === null || (old && old.seq === next.seq && of(old) === value)) continue;
          out.put(pre + sortKey(collection, name, value, next.seq, id), EMPTY);
        }
      }
    } else if (old) {
      out.del(pre + docKey(collection, id));
    }
  }
}

/**
 * Reads every document that `writers` will ask for while applying `events` and does not know yet,
 * in one getMany over the whole database: applying a live batch costs one read round, however
 * many models it touches (it had cost one per model and tenant, most of a small batch's time).
 */
export async function prefetchModels(
  db: Level<string, unknown>,
  writers: readonly ModelWriter[],
  events: ReadonlyArray<{ e: EventEnvelope; position: number }>,
): Promise<void> {
  const wanted = writers.flatMap((w) => w.missing(events));
  if (wanted.length === 0) return;
  const values = (await db.getMany(
    wanted.map((w) => w.key),
    RAW,
  )) as Array<string | undefined>;
  for (let i = 0; i < wanted.length; i++) {
    const v = values[i];
    wanted[i]!.found(v === undefined ? null : (JSON.parse(v) as Doc));
  }
}

/** The documents a projection sees: reads go to the writer's overlay, in the current event's tenant. */
class OverlayDocs implements Docs {
  tenant = '';
  readonly #overlay: Map<string, Doc | null>;

  constructor(overlay: Map<string, Doc | null>) {
    this.#overlay = overlay;
  }

  get<T extends Doc = Doc>(collection: string, id: string): T | undefined {
    return (this.#overlay.get(ok(this.tenant, collection, id)) ?? undefined) as T | undefined;
  }
}

function ok(tenant: string, collection: string, id: string): string {
  return `${tenant}\u0000${collection}\u0000${id}`;
}

/** Meta key of a generation's position. */
export function positionKey(model: string, gen: number): string {
  return `pos!${model}!${gen}`;
}

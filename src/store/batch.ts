import type { Level } from 'level';
import { isValidId } from '../ids.ts';
import type { EventEnvelope } from '../log/mod.ts';
import { allKey, docKey, globalKey, indexKey } from './keys.ts';
import type { Doc, Docs, Projection, Write } from './model.ts';
import type { ReadStore, Sub } from './store.ts';

/**
 * A raw LevelDB operation: the key already carries its sublevel prefix and the value is already
 * JSON text. Prefixing and encoding here, once, instead of per operation inside abstract-level
 * roughly halves the cost of a rebuild's batches; the keys are exactly what the sublevel would write.
 */
export type Op = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

/**
 * Writes raw ops in one atomic LevelDB batch. The ops are already prefixed and encoded, so they go
 * straight to the implementation's `_batch` (abstract-level's documented extension point, the one
 * part an implementation overrides): the public `batch()` would clone and re-validate every op,
 * which was the largest single cost of a rebuild.
 */
export function writeOps(db: Level<string, unknown>, ops: Op[]): Promise<void> {
  if (ops.length === 0) return Promise.resolve();
  const impl = db as unknown as { _batch?: (ops: Op[], o: object) => Promise<void>; status: string };
  if (typeof impl._batch === 'function' && impl.status === 'open') return impl._batch(ops, {});
  return db.batch(ops as never, { keyEncoding: 'utf8', valueEncoding: 'utf8' } as never);
}

/** A raw put into a sublevel, for the positions written in the same batch as the models. */
export function putOp(sub: Sub, key: string, value: unknown): Op {
  return { type: 'put', key: sub.prefix + key, value: JSON.stringify(value) };
}

// Index entries carry nothing: the id is the last part of their key.
const EMPTY = '""';

/** Documents cached across batches during a rebuild before the cache is dropped. */
const REBUILD_CACHE_MAX = 500_000;

/**
 * Applies events of one model generation into a list of LevelDB operations, keeping secondary
 * indexes in step with documents. The caller writes `ops` in one batch together with the position,
 * which is what makes a crash unable to apply an event twice or skip one.
 */
export class ModelWriter {
  readonly store: ReadStore;
  readonly projection: Projection;
  readonly gen: number;
  /** Position already reflected by this generation; events at or before it are skipped. */
  position: number;
  ops: Op[] = [];
  // Documents as they are after the ops queued so far (null = deleted / absent).
  readonly #overlay = new Map<string, Doc | null>();
  // A fresh generation has nothing on disk that the overlay does not know, so misses need no read.
  #fresh: boolean;

  constructor(store: ReadStore, projection: Projection, gen: number, position: number, o: { fresh?: boolean } = {}) {
    this.store = store;
    this.projection = projection;
    this.gen = gen;
    this.position = position;
    this.#fresh = o.fresh ?? false;
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
    // Ids inside event data were validated at the edge; one that is not an id is simply absent.
    const refs = p.reads(e).filter((r) => isValidId('token', r.id));
    const unknown = refs.filter((r) => !this.#overlay.has(ok(tenant, r.collection, r.id)));
    if (unknown.length && !this.#fresh) return this.#loadAll(tenant, unknown).then(() => this.#applyKnown(e, position));
    for (const r of unknown) this.#overlay.set(ok(tenant, r.collection, r.id), null);
    return this.#applyKnown(e, position);
  }

  /**
   * Reads, in one getMany per tenant, every document the events will ask for that is not known
   * yet, so applying a live batch costs a read round per batch instead of one per event.
   */
  async prefetch(events: Array<{ e: EventEnvelope; position: number }>): Promise<void> {
    if (this.#fresh) return;
    const p = this.projection;
    const byTenant = new Map<string, Map<string, { collection: string; id: string }>>();
    for (const { e, position } of events) {
      if (position <= this.position || !p.types.has(e.type)) continue;
      for (const r of p.reads(e)) {
        if (!isValidId('token', r.id) || this.#overlay.has(ok(e.tenant, r.collection, r.id))) continue;
        let m = byTenant.get(e.tenant);
        if (!m) byTenant.set(e.tenant, (m = new Map()));
        m.set(`${r.collection}\u0000${r.id}`, r);
      }
    }
    for (const [tenant, refs] of byTenant) {
      const list = [...refs.values()];
      const docs = await this.store.tenantSub(p.model, this.gen, tenant).getMany(list.map((r) => docKey(r.collection, r.id)));
      list.forEach((r, i) => this.#overlay.set(ok(tenant, r.collection, r.id), (docs[i] as Doc | undefined) ?? null));
    }
  }

  #applyKnown(e: EventEnvelope, position: number): void | Promise<void> {
    const tenant = e.tenant;
    const docs: Docs = { get: <T extends Doc>(c: string, id: string) => (this.#overlay.get(ok(tenant, c, id)) ?? undefined) as T | undefined };
    const writes = this.projection.apply(e, docs, position);
    // A write to a document it did not read needs the old version for its index entries.
    const targets = writes.filter((w): w is Extract<Write, { collection: string }> => !('global' in w) && !this.projection.collections[w.collection]?.writeOnce && !this.#overlay.has(ok(tenant, w.collection, w.id)));
    if (targets.length && !this.#fresh) {
      return this.#loadAll(tenant, targets).then(() => {
        for (const w of writes) this.#write(tenant, w);
      });
    }
    for (const t of targets) this.#overlay.set(ok(tenant, t.collection, t.id), null);
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

  /** Ops are written; the next batch starts empty. A live writer also drops its cache. */
  flushed(): void {
    this.ops = [];
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
    if ('global' in w) {
      const sub = this.store.globalSub(this.projection.model, this.gen);
      const key = globalKey(w.global, w.key);
      this.ops.push(w.value === null ? { type: 'del', key: sub.prefix + key } : { type: 'put', key: sub.prefix + key, value: JSON.stringify(w.value) });
      return;
    }
    const spec = this.projection.collections[w.collection];
    if (!spec) throw new Error(`model ${this.projection.model} wrote to ${w.collection}, which it does not own`);
    const pre = this.store.tenantSub(this.projection.model, this.gen, tenant).prefix;
    const old = spec.writeOnce ? null : (this.#overlay.get(ok(tenant, w.collection, w.id)) ?? null);
    const next = w.doc;
    if (old) {
      for (const f of spec.indexes) {
        if (next && next.seq === old.seq && String(next[f]) === String(old[f])) continue;
        if (old[f] !== undefined && old[f] !== null) this.ops.push({ type: 'del', key: pre + indexKey(w.collection, f, old[f], old.seq, w.id) });
      }
      if (!next || next.seq !== old.seq) this.ops.push({ type: 'del', key: pre + allKey(w.collection, old.seq, w.id) });
    }
    if (next) {
      this.ops.push({ type: 'put', key: pre + docKey(w.collection, w.id), value: JSON.stringify(next) });
      if (!old || old.seq !== next.seq) this.ops.push({ type: 'put', key: pre + allKey(w.collection, next.seq, w.id), value: EMPTY });
      for (const f of spec.indexes) {
        if (next[f] === undefined || next[f] === null) continue;
        if (old && old.seq === next.seq && String(next[f]) === String(old[f])) continue;
        this.ops.push({ type: 'put', key: pre + indexKey(w.collection, f, next[f], next.seq, w.id), value: EMPTY });
      }
    } else if (old) {
      this.ops.push({ type: 'del', key: pre + docKey(w.collection, w.id) });
    }
    if (!spec.writeOnce) this.#overlay.set(ok(tenant, w.collection, w.id), next);
  }
}

function ok(tenant: string, collection: string, id: string): string {
  return `${tenant}\u0000${collection}\u0000${id}`;
}

/** Meta key of a generation's position. */
export function positionKey(model: string, gen: number): string {
  return `pos!${model}!${gen}`;
}

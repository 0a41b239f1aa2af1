import { isValidId } from '../ids.ts';
import type { EventEnvelope } from '../log/mod.ts';
import { allKey, docKey, globalKey, indexKey } from './keys.ts';
import type { Doc, Docs, Projection, Write } from './model.ts';
import type { ReadStore, Sub } from './store.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Op = { type: 'put'; key: string; value: unknown; sublevel: Sub } | { type: 'del'; key: string; sublevel: Sub };

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

  /** Applies one event at `position`; a no-op if this generation already reflects it. */
  async apply(e: EventEnvelope, position: number): Promise<void> {
    if (position <= this.position) return;
    const p = this.projection;
    if (p.types.has(e.type)) {
      const tenant = e.tenant;
      // Ids inside event data were validated at the edge; one that is not an id is simply absent.
      for (const r of p.reads(e)) if (isValidId('token', r.id)) await this.#load(tenant, r.collection, r.id);
      const docs: Docs = { get: <T extends Doc>(c: string, id: string) => (this.#overlay.get(ok(tenant, c, id)) ?? undefined) as T | undefined };
      for (const w of p.apply(e, docs, position)) await this.#write(tenant, w);
    }
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

  async #load(tenant: string, collection: string, id: string): Promise<Doc | null> {
    const k = ok(tenant, collection, id);
    if (this.#overlay.has(k)) return this.#overlay.get(k)!;
    let doc: Doc | null = null;
    if (!this.#fresh) {
      doc = ((await this.store.tenantSub(this.projection.model, this.gen, tenant).get(docKey(collection, id))) as Doc | undefined) ?? null;
    }
    this.#overlay.set(k, doc);
    return doc;
  }

  async #write(tenant: string, w: Write): Promise<void> {
    if ('global' in w) {
      const sub = this.store.globalSub(this.projection.model, this.gen);
      const key = globalKey(w.global, w.key);
      this.ops.push(w.value === null ? { type: 'del', key, sublevel: sub } : { type: 'put', key, value: w.value, sublevel: sub });
      return;
    }
    const spec = this.projection.collections[w.collection];
    if (!spec) throw new Error(`model ${this.projection.model} wrote to ${w.collection}, which it does not own`);
    const sub = this.store.tenantSub(this.projection.model, this.gen, tenant);
    const old = await this.#load(tenant, w.collection, w.id);
    const next = w.doc;
    if (old) {
      for (const f of spec.indexes) {
        if (next && next.seq === old.seq && String(next[f]) === String(old[f])) continue;
        if (old[f] !== undefined && old[f] !== null) this.ops.push({ type: 'del', key: indexKey(w.collection, f, old[f], old.seq, w.id), sublevel: sub });
      }
      if (!next || next.seq !== old.seq) this.ops.push({ type: 'del', key: allKey(w.collection, old.seq, w.id), sublevel: sub });
    }
    if (next) {
      this.ops.push({ type: 'put', key: docKey(w.collection, w.id), value: next, sublevel: sub });
      if (!old || old.seq !== next.seq) this.ops.push({ type: 'put', key: allKey(w.collection, next.seq, w.id), value: w.id, sublevel: sub });
      for (const f of spec.indexes) {
        if (next[f] === undefined || next[f] === null) continue;
        if (old && old.seq === next.seq && String(next[f]) === String(old[f])) continue;
        this.ops.push({ type: 'put', key: indexKey(w.collection, f, next[f], next.seq, w.id), value: w.id, sublevel: sub });
      }
    } else if (old) {
      this.ops.push({ type: 'del', key: docKey(w.collection, w.id), sublevel: sub });
    }
    this.#overlay.set(ok(tenant, w.collection, w.id), next);
  }
}

function ok(tenant: string, collection: string, id: string): string {
  return `${tenant}\u0000${collection}\u0000${id}`;
}

/** Meta key of a generation's position. */
export function positionKey(model: string, gen: number): string {
  return `pos!${model}!${gen}`;
}

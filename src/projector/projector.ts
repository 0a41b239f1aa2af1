import type { Level } from 'level';
import { StkError } from '../errors.ts';
import { decodeRecordBody, type EventLog, type LogRecord, type StoredMessage } from '../log/mod.ts';
import { ALL_EVENTS, EVENTS_STREAM } from '../log/mod.ts';
import type { Logger } from '../logger.ts';
import { ModelWriter, positionKey, putJson, RawBatch } from '../store/batch.ts';
import type { Projection } from '../store/model.ts';
import { ReadStore } from '../store/store.ts';
import { applyToModels, ModelFeed } from './feed.ts';
import { type ProjectorLifecycle, type ResetMode, resetOfRecord, resetTenant } from './reset.ts';

export interface ProjectorOptions {
  /** Durable consumer name; one per LevelDB, since each process keeps its own read models. */
  durableName: string;
  logger: Logger;
  /** Most records applied in one LevelDB batch. @defaultValue 500 */
  batchMax?: number;
  /** How long a caught-up batch may wait for more after the last one was written (`ModelFeedOptions.lingerMs`). @defaultValue PROJECTOR_LINGER_MS */
  lingerMs?: number;
  /** Told, for every applied batch, how long its oldest record waited since it was stored (metrics). */
  onApplied?: (lagSeconds: number) => void;
  /**
   * The data lifecycle (erasure, retention, offboarding): records are revealed through the log
   * before the projections see them, and a destruction or an offboarding resets its tenant's
   * documents (`src/projector/reset.ts`). @defaultValue none: records applied as stored
   */
  lifecycle?: ProjectorLifecycle;
}

export interface RebuildResult {
  models: string[];
  events: number;
  position: number;
  seconds: number;
}

/**
 * Consumes EVENTS with a durable consumer and applies the projections to LevelDB. Each batch's
 * model changes and each model's position go into one LevelDB batch, and the consumer is acked only
 * after it is written; on start the consumer is re-pointed at the stored position, so LevelDB, not
 * the consumer, decides where to resume: nothing is applied twice, nothing skipped.
 */
/** See `ProjectorOptions.lingerMs`. */
export const PROJECTOR_LINGER_MS = 20;

export class Projector {
  readonly store: ReadStore;
  readonly log: EventLog;
  readonly #o: Required<Omit<ProjectorOptions, 'lifecycle'>>;
  readonly #lifecycle: ProjectorLifecycle | undefined;
  /** Offboarded tenants: nothing of theirs is applied, in live batches or in rebuilds. */
  #gone = new Set<string>();
  readonly #writers = new Map<string, ModelWriter>();
  #lock: Promise<void> = Promise.resolve();
  readonly #feed: ModelFeed<LogRecord>;

  private constructor(store: ReadStore, log: EventLog, o: ProjectorOptions) {
    this.store = store;
    this.log = log;
    const { lifecycle, ...rest } = o;
    this.#o = { batchMax: 500, lingerMs: PROJECTOR_LINGER_MS, onApplied: () => {}, ...rest };
    this.#lifecycle = lifecycle;
    this.#feed = new ModelFeed({
      streams: log.streams,
      stream: EVENTS_STREAM,
      filter: ALL_EVENTS,
      durableName: this.#o.durableName,
      batchMax: this.#o.batchMax,
      lingerMs: this.#o.lingerMs,
      logger: this.#o.logger,
      label: 'projector',
      position: () => this.position,
      decode: (d) => log.decode(d),
      apply: (records) => this.#applyBatch(records),
    });
  }

  static async open(db: Level<string, unknown>, log: EventLog, projections: readonly Projection[], o: ProjectorOptions): Promise<Projector> {
    const store = await ReadStore.open(db, projections);
    const p = new Projector(store, log, o);
    for (const proj of projections) {
      const gen = store.activeGen(proj.model);
      const pos = ((await store.meta.get(positionKey(proj.model, gen))) as number | undefined) ?? 0;
      p.#writers.set(proj.model, new ModelWriter(store, proj, gen, pos));
    }
    return p;
  }

  /** Position up to which every model is applied. */
  get position(): number {
    let min = Infinity;
    for (const w of this.#writers.values()) min = Math.min(min, w.position);
    return Number.isFinite(min) ? min : 0;
  }

  get lastError(): string | null {
    return this.#feed.lastError;
  }

  /** Starts consuming in the background; returns once the consumer is in place. */
  async start(): Promise<void> {
    if (this.#lifecycle) this.#gone = await this.#lifecycle.deletedTenants(this.log);
    await this.#feed.start();
  }

  stop(): Promise<void> {
    return this.#feed.stop();
  }

  /** Resolves true once every model reflects `position`, false after `timeoutMs`. */
  waitFor(position: number, timeoutMs: number): Promise<boolean> {
    return this.#feed.waitFor(position, timeoutMs);
  }

  /** Events not yet applied, and how old the oldest of them is. */
  async lag(): Promise<{ events: number; seconds: number; position: number; last: number }> {
    const last = await this.log.lastPosition();
    const position = this.position;
    if (last <= position) return { events: 0, seconds: 0, position, last };
    const next = await this.log.storedAt(position + 1).catch(() => null);
    const seconds = next ? Math.max(0, (Date.now() - next.getTime()) / 1000) : 0;
    return { events: last - position, seconds, position, last };
  }

  /** Runs `fn` while no batch is being applied. */
  async #locked<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.#lock;
    let release!: () => void;
    this.#lock = new Promise((r) => (release = r));
    await prev;
    try {
      return await fn();
    } finally {
      release();
    }
  }

  async #applyBatch(batch: LogRecord[]): Promise<void> {
    const records = await this.#prepare(batch);
    // A record that resets its tenant is applied alone, after everything before it: the reset
    // replays the tenant up to and including it, in its own LevelDB batch with the position.
    let from = 0;
    for (let i = 0; i < records.length; i++) {
      const reset = this.#lifecycle ? resetOfRecord(this.#lifecycle, records[i]!.events) : null;
      if (!reset) continue;
      if (i > from) await this.#applyRecords(records.slice(from, i));
      await this.#reset(records[i]!, reset.mode, reset.event);
      from = i + 1;
    }
    if (from < records.length) await this.#applyRecords(records.slice(from));
    this.#o.onApplied((Date.now() - records[0]!.storedAt.getTime()) / 1000);
  }

  /** Records as projections see them: revealed, and emptied for offboarded tenants (their positions still count). */
  async #prepare(records: LogRecord[]): Promise<LogRecord[]> {
    if (!this.#lifecycle) return records;
    return Promise.all(records.map((r) => (this.#gone.has(r.tenant) ? { ...r, events: [] } : this.log.reveal(r))));
  }

  /** Enforces what the record's event destroys, then resets its tenant in every live model, with the position. */
  async #reset(r: LogRecord, mode: ResetMode, event: LogRecord['events'][number]): Promise<void> {
    await this.#lifecycle!.enforce(event);
    await this.#locked(async () => {
      const writers = [...this.#writers.values()];
      const res = await resetTenant({
        store: this.store,
        log: this.log,
        tenant: r.tenant,
        upTo: r.position,
        mode,
        models: writers.map((w) => ({ projection: w.projection, gen: w.gen })),
        position: r.position,
      });
      for (const w of writers) {
        w.flushed();
        w.advance(r.position);
      }
      if (mode === 'remove') {
        this.#gone.add(r.tenant);
        await this.#lifecycle!.afterRemove?.(r.tenant);
      }
      this.#o.logger.info({ tenant: r.tenant, mode, position: r.position, ...res }, 'read models of a tenant reset');
    });
  }

  async #applyRecords(records: LogRecord[]): Promise<void> {
    await this.#locked(() =>
      applyToModels(
        this.store,
        [...this.#writers.values()],
        records.flatMap((r) => r.events.map((e) => ({ e, position: r.position }))),
        records[records.length - 1]!.position,
      ),
    );
  }

  /**
   * Replays the whole stream into fresh generations of `models` (all by default) while the live
   * models keep answering queries, then swaps them in atomically once they have caught up.
   */
  async rebuild(models?: string[]): Promise<RebuildResult> {
    const names = models?.length ? models.map((m) => this.store.model(m).model) : [...this.#writers.keys()];
    const t0 = process.hrtime.bigint();
    const writers: ModelWriter[] = [];
    for (const m of names) {
      const gen = ((await this.store.meta.get(`nextgen!${m}`)) as number | undefined) ?? this.store.activeGen(m) + 1;
      await this.store.meta.put(`nextgen!${m}`, gen + 1);
      await this.store.genSub(m, gen).clear();
      writers.push(new ModelWriter(this.store, this.store.model(m), gen, 0, { fresh: true }));
    }
    let events = 0;
    let position = 0;
    let old: Array<{ model: string; gen: number }> | null = null;
    // Offboarded tenants are left out; a tenant whose keys were destroyed while the rebuild read
    // past its earlier events is reset in the new generations before they are swapped in.
    const lc = this.#lifecycle;
    const gone = lc ? await lc.deletedTenants(this.log) : new Set<string>();
    const dirty = new Map<string, ResetMode>();
    // One batch write in flight while the next batch is built: LevelDB works on its own thread.
    let inflight: Promise<void> | null = null;
    let batch = new RawBatch(this.store.db);
    for (const w of writers) w.into(batch);
    let pending = 0;
    const flush = (): void => {
      inflight = this.#writeRebuild(writers, batch, position);
      batch = new RawBatch(this.store.db);
      for (const w of writers) w.into(batch);
      pending = 0;
    };
    try {
      // Read to the end of the stream as it is now, then swap; the live models may have moved on
      // meanwhile, in which case the rebuild reads on to where they are. Swapping only at an end
      // never leaves a model half-built for a projector that may not be running (offline rebuild).
      for (;;) {
        const step = (r: { position: number; events: LogRecord['events'] }): Promise<void> | undefined => {
          const work = this.#applyRebuild(writers, r, inflight);
          position = r.position;
          events += r.events.length;
          const flushNow = ++pending >= 2000;
          if (!work && !flushNow) return;
          return (async () => {
            await work;
            if (!flushNow) return;
            if (inflight) await inflight;
            flush();
          })();
        };
        await this.log.streams.scanEach(EVENTS_STREAM, { fromSeq: position + 1 }, (m) => {
          const r = this.#lean(m);
          if (!lc) return step(r);
          const tenant = r.events[0]?.tenant ?? '';
          if (gone.has(tenant)) return step({ position: r.position, events: [] });
          const reset = resetOfRecord(lc, r.events);
          if (reset) dirty.set(tenant, dirty.get(tenant) === 'remove' ? 'remove' : reset.mode);
          if (!reset && !r.events.some((e) => e.sealed)) return step(r);
          // Destroyed before anything after it is revealed, so the rebuild never reads it.
          return (async () => {
            if (reset) await lc.enforce(reset.event);
            await step({ position: r.position, events: await this.log.revealEvents(r.events) });
          })();
        });
        if (inflight) await inflight;
        if (pending > 0) {
          flush();
          await inflight;
        }
        inflight = null;
        old = await this.#trySwap(writers, position, dirty);
        if (old) break;
      }
    } finally {
      await batch.discard();
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    this.#o.logger.info({ models: names, events, position, seconds }, 'projections rebuilt and swapped in');
    // The replaced generations are no longer read by anyone; dropping them is not rebuild time.
    for (const { model, gen } of old ?? []) {
      await this.store.genSub(model, gen).clear();
      await this.store.meta.del(positionKey(model, gen));
      this.store.forgetGen(model, gen);
    }
    return { models: names, events, position, seconds };
  }

  /**
   * A record as projections need it: position and (upcast) events, whose envelopes already carry
   * tenant and aggregate. Skips the headers and subject parsing of a full decode, which a replay
   * of the whole stream pays once per record for nothing.
   */
  #lean(m: StoredMessage): { position: number; events: LogRecord['events'] } {
    const events = decodeRecordBody(m.data, { stream: EVENTS_STREAM, position: m.seq, subject: m.subject });
    for (let i = 0; i < events.length; i++) events[i] = this.log.upcasters.apply(events[i]!);
    return { position: m.seq, events };
  }

  /**
   * Applies one record to every rebuilding writer. Synchronous on the common path (a fresh model
   * never reads LevelDB); a promise only when a writer must wait, for a read or for the write in
   * flight, and the rest is then done after that wait.
   */
  #applyRebuild(writers: ModelWriter[], r: { position: number; events: LogRecord['events'] }, inflight: Promise<void> | null): Promise<void> | null {
    for (let k = 0; k < writers.length; k++) {
      const w = writers[k]!;
      if (!w.fresh && inflight) return this.#applyRebuildFrom(writers, r, inflight, k, 0, inflight);
      for (let i = 0; i < r.events.length; i++) {
        const p = w.apply(r.events[i]!, r.position);
        if (p) return this.#applyRebuildFrom(writers, r, inflight, k, i + 1, p);
      }
    }
    return null;
  }

  /** The rest of `#applyRebuild` from writer `k`, event `i`, once `wait` is done. */
  async #applyRebuildFrom(
    writers: ModelWriter[],
    r: { position: number; events: LogRecord['events'] },
    inflight: Promise<void> | null,
    k0: number,
    i0: number,
    wait: Promise<void>,
  ): Promise<void> {
    await wait;
    for (let k = k0; k < writers.length; k++) {
      const w = writers[k]!;
      if (k > k0 && !w.fresh && inflight) await inflight;
      for (let i = k === k0 ? i0 : 0; i < r.events.length; i++) {
        const p = w.apply(r.events[i]!, r.position);
        if (p) await p;
      }
    }
  }

  /** Adds the positions to the writers' batch and writes it; the returned promise is the LevelDB write. */
  #writeRebuild(writers: ModelWriter[], batch: RawBatch, position: number): Promise<void> {
    for (const w of writers) w.settle();
    for (const w of writers) putJson(batch, this.store.meta, positionKey(w.projection.model, w.gen), position);
    for (const w of writers) {
      w.flushed();
      w.advance(position);
    }
    return batch.write();
  }

  /** Swaps the rebuilt generations in when they are at least as far as the live ones; returns the replaced ones. */
  async #trySwap(writers: ModelWriter[], position: number, dirty: Map<string, ResetMode>): Promise<Array<{ model: string; gen: number }> | null> {
    return this.#locked(async () => {
      if (position < this.position) return null;
      // Under the lock, right before the swap: the rebuilt writers are never used again after it.
      const models = writers.map((w) => ({ projection: w.projection, gen: w.gen }));
      for (const [tenant, mode] of dirty) await resetTenant({ store: this.store, log: this.log, tenant, upTo: position, mode, models });
      const ops = writers.map((w) => ({ type: 'put' as const, key: `active!${w.projection.model}`, value: w.gen, sublevel: this.store.meta }));
      await this.store.db.batch(ops as never);
      const replaced: Array<{ model: string; gen: number }> = [];
      for (const w of writers) {
        const model = w.projection.model;
        replaced.push({ model, gen: this.store.activeGen(model) });
        this.store.setActiveGen(model, w.gen);
        this.#writers.set(model, new ModelWriter(this.store, w.projection, w.gen, position));
      }
      return replaced;
    });
  }
}

/** Thrown to a reader that asked to wait for a position the projection did not reach in time. */
export function projectionBehind(): StkError {
  // No positions in the answer: they are install-wide, and a tenant must not learn how far they go.
  return new StkError('STK_ERR_PROJECTION_BEHIND', 'the read models have not reached that change yet; retry', { retryAfterSeconds: 1 });
}

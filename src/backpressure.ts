import type { BackpressureConfig } from './config/mod.ts';
import { StkError } from './errors.ts';
import { type Bucket, EVENT_PARTITIONS, EVENTS_STREAM, type ConsumerState, isStreamNotFound, type Streams } from './log/mod.ts';

/** How far sealing and projection may fall behind before the ingress refuses new reports (events). */
export type LagBounds = Omit<BackpressureConfig, 'refreshMs'>;

export interface LagSnapshot {
  sealEvents: number;
  projectionEvents: number;
  at: number;
}

const isSealer = (c: ConsumerState): boolean => c.name.startsWith('stk-sealer');
/** A sealer worker's one consumer of the whole stream (`src/ledger/group.ts`), by the mark in its description. */
const isSealerWorker = (c: ConsumerState): boolean => c.name.startsWith('stk-sealer') && c.description.startsWith('stk-sealer-worker ');
/** The sealer workers' bucket and its per-partition floors (`src/ledger/group.ts`). */
const SEALER_BUCKET = 'stk-sealer';
const isProjector = (c: ConsumerState): boolean => c.name.startsWith('projector_');
// A replica whose process is gone has no pull request waiting and nothing in flight; its
// growing backlog must not hold every agent back. Sealer consumers always count: events must be
// sealed whoever is alive.
const isLive = (c: ConsumerState): boolean => c.waiting > 0 || c.ackPending > 0;

/**
 * Backpressure from the bus itself: how far sealing is behind (the sealer workers' per-partition
 * floors in KV against the stream's end; a consumer of the older kinds by its own backlog) and the
 * backlog of the live projector consumers, read from JetStream (so an ingress process needs no
 * local state and sees every worker), at most once per `refreshMs`.
 */
export class LagMonitor {
  readonly #streams: Streams;
  readonly #bounds: LagBounds;
  readonly #refreshMs: number;
  #last: LagSnapshot | null = null;
  #inflight: Promise<LagSnapshot> | null = null;
  #floors: Promise<Bucket> | null = null;
  readonly #partitions: number;

  constructor(streams: Streams, bounds: LagBounds, o: { refreshMs?: number; partitions?: number } = {}) {
    this.#streams = streams;
    this.#bounds = bounds;
    this.#refreshMs = o.refreshMs ?? 1000;
    this.#partitions = o.partitions ?? EVENT_PARTITIONS;
  }

  /** The current backlog (cached up to refreshMs). */
  async snapshot(): Promise<LagSnapshot> {
    if (this.#last && Date.now() - this.#last.at < this.#refreshMs) return this.#last;
    this.#inflight ??= this.#read().finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  /** Throws STK_ERR_UNAVAILABLE (503 with Retry-After) when either backlog is over its bound. */
  async admit(): Promise<void> {
    const s = await this.snapshot();
    const over =
      s.sealEvents > this.#bounds.maxSealLagEvents
        ? { what: 'sealing', lag: s.sealEvents, bound: this.#bounds.maxSealLagEvents }
        : s.projectionEvents > this.#bounds.maxProjectionLagEvents
          ? { what: 'projection', lag: s.projectionEvents, bound: this.#bounds.maxProjectionLagEvents }
          : null;
    if (over) {
      throw new StkError('STK_ERR_UNAVAILABLE', `${over.what} is ${over.lag} events behind (bound ${over.bound}); retry later`, {
        retryAfterSeconds: 2,
        limit: over.bound,
      });
    }
  }

  async #read(): Promise<LagSnapshot> {
    let seal = 0;
    let projection = 0;
    try {
      const consumers = await this.#streams.consumers(EVENTS_STREAM);
      for (const c of consumers) {
        const backlog = c.pending + c.ackPending;
        // A sealer worker's own consumer: its lag is read from the floors below, live or not.
        if (isSealerWorker(c)) continue;
        if (isSealer(c)) seal += backlog;
        else if (isProjector(c) && isLive(c)) projection = Math.max(projection, backlog);
      }
      seal += await this.#behindFloors();
    } catch (err) {
      throw new StkError('STK_ERR_UNAVAILABLE', 'cannot read the sealing and projection backlog', { retryAfterSeconds: 1 }, { cause: err });
    }
    this.#last = { sealEvents: seal, projectionEvents: projection, at: Date.now() };
    return this.#last;
  }

  /**
   * How far the least-sealed partition is behind the stream's end: sealer workers write each held
   * partition's sealed floor every second, and a floor nobody moves — its worker stopped, stuck, or
   * gone before another took the partition over — falls further behind with every record, whoever
   * is alive. Counted in stream positions (every record since the floor), which over-counts a
   * partition's own records: the bound is reached early, never late.
   */
  async #behindFloors(): Promise<number> {
    // Opened, never created here: the sealers create it with their replicas.
    this.#floors ??= this.#streams.bucket(SEALER_BUCKET, { existing: true });
    let kv: Bucket;
    try {
      kv = await this.#floors;
    } catch {
      // No sealer worker has run yet: no floor to be behind (asked again next time).
      this.#floors = null;
      return 0;
    }
    try {
      const last = (await this.#streams.state(EVENTS_STREAM))?.lastSeq ?? 0;
      let lowest = last;
      for (let p = 0; p < this.#partitions; p++) {
        const e = await kv.get(`floor.p${p}`);
        const floor = e && e.operation === 'PUT' ? Number(e.string()) : Number.NaN;
        if (Number.isInteger(floor)) lowest = Math.min(lowest, floor);
      }
      return Math.max(0, last - lowest);
    } catch (err) {
      this.#floors = null;
      if (isStreamNotFound(err)) return 0;
      throw err;
    }
  }
}

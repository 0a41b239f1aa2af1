import type { BackpressureConfig } from './config/mod.ts';
import { StkError } from './errors.ts';
import { EVENTS_STREAM, type ConsumerState, type Streams } from './log/mod.ts';

/** How far sealing and projection may fall behind before the ingress refuses new reports (events). */
export type LagBounds = Omit<BackpressureConfig, 'refreshMs'>;

export interface LagSnapshot {
  sealEvents: number;
  projectionEvents: number;
  at: number;
}

const isSealer = (c: ConsumerState): boolean => c.name.startsWith('stk-sealer');
const isProjector = (c: ConsumerState): boolean => c.name.startsWith('projector_');
// A replica whose process is gone has no pull request waiting and nothing in flight; its
// growing backlog must not hold every agent back. Sealer consumers always count: events must be
// sealed whoever is alive.
const isLive = (c: ConsumerState): boolean => c.waiting > 0 || c.ackPending > 0;

/**
 * Backpressure from the bus itself: the backlog of the sealer and projector consumers on EVENTS,
 * read from JetStream (so an ingress process needs no local state and sees every worker), at
 * most once per `refreshMs`.
 */
export class LagMonitor {
  readonly #streams: Streams;
  readonly #bounds: LagBounds;
  readonly #refreshMs: number;
  #last: LagSnapshot | null = null;
  #inflight: Promise<LagSnapshot> | null = null;

  constructor(streams: Streams, bounds: LagBounds, o: { refreshMs?: number } = {}) {
    this.#streams = streams;
    this.#bounds = bounds;
    this.#refreshMs = o.refreshMs ?? 1000;
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
        if (isSealer(c)) seal += backlog;
        else if (isProjector(c) && isLive(c)) projection = Math.max(projection, backlog);
      }
    } catch (err) {
      throw new StkError('STK_ERR_UNAVAILABLE', 'cannot read the sealing and projection backlog', { retryAfterSeconds: 1 }, { cause: err });
    }
    this.#last = { sealEvents: seal, projectionEvents: projection, at: Date.now() };
    return this.#last;
  }
}

import { StkError } from '../errors.ts';
import { aggregateTypeFilter, type EventLog, type LogRecord, type Subscription } from '../log/mod.ts';
import type { Logger } from '../logger.ts';

/**
 * Every record of one aggregate type, across tenants, handed in order to `apply` from an ordered
 * consumer: the base of the ingress's small in-memory views (tenants, unanswered commands). It
 * replays from the start of the stream on every start, so there is nothing to persist.
 *
 * `current()` makes a read consistent with the log: it asks the server how far the matching
 * records go and waits until they are applied, so a change appended before a request is always
 * seen by that request (one round trip to the server).
 */
export class AggregateFeed {
  readonly #log: EventLog;
  readonly #logger: Logger;
  readonly #aggregateType: string;
  readonly #apply: (r: LogRecord) => void;
  /** Stream sequence of the last applied record. */
  #applied = 0;
  #sub: Subscription | null = null;
  #waiters = new Set<() => void>();
  #inflight: Promise<number> | null = null;
  #next: Promise<number> | null = null;

  constructor(log: EventLog, logger: Logger, aggregateType: string, apply: (r: LogRecord) => void) {
    this.#log = log;
    this.#logger = logger;
    this.#aggregateType = aggregateType;
    this.#apply = apply;
  }

  async start(): Promise<void> {
    const sub = this.#log.subscribe({ filter: aggregateTypeFilter(this.#aggregateType) });
    await sub.ready();
    this.#sub = sub;
    void (async () => {
      try {
        for await (const r of sub) {
          try {
            this.#apply(r);
          } catch (err) {
            this.#logger.error({ err, position: r.position, aggregateType: this.#aggregateType }, 'ingress view could not apply a record');
          }
          this.#applied = r.position;
          for (const w of this.#waiters) w();
        }
      } catch (err) {
        this.#logger.error({ err, aggregateType: this.#aggregateType }, 'ingress view stopped reading the event log');
      }
    })();
  }

  async close(): Promise<void> {
    await this.#sub?.stop();
    for (const w of this.#waiters) w();
    this.#waiters.clear();
  }

  /**
   * Stream sequence of the newest matching record, asked for after the caller arrived. Concurrent
   * callers share requests: one already in flight was sent too early for a newcomer, who shares
   * the single one sent after it, so a burst of agent requests costs at most two round trips.
   * Asked of the stream (last message by a wildcard subject), not of the consumer: a consumer
   * lost with a failed stream leader cannot answer, the stream's new leader can.
   */
  #freshLast(): Promise<number> {
    if (!this.#inflight) return this.#send();
    this.#next ??= this.#inflight
      .catch(() => undefined)
      .then(() => {
        this.#next = null;
        return this.#send();
      });
    return this.#next;
  }

  #send(): Promise<number> {
    const p = this.#log.lastPositionOf(aggregateTypeFilter(this.#aggregateType));
    this.#inflight = p;
    const clear = (): void => {
      if (this.#inflight === p) this.#inflight = null;
    };
    p.then(clear, clear);
    return p;
  }

  /** Resolves once every matching record the stream holds now is applied; STK_ERR_UNAVAILABLE after `timeoutMs`. */
  async current(timeoutMs = 5000): Promise<void> {
    if (!this.#sub) throw new StkError('STK_ERR_UNAVAILABLE', `the ingress's ${this.#aggregateType} view is not started`, { retryAfterSeconds: 1 });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let last: number;
      try {
        last = await this.#freshLast();
      } catch (err) {
        throw new StkError(
          'STK_ERR_UNAVAILABLE',
          `the ingress cannot reach the event log: ${(err as Error).message}`,
          { retryAfterSeconds: 1 },
          { cause: err },
        );
      }
      // The ordered consumer hands records in stream order, so having applied the newest
      // matching record means having applied every one before it.
      if (this.#applied >= last) return;
      const left = deadline - Date.now();
      if (left <= 0) throw new StkError('STK_ERR_UNAVAILABLE', `the ingress's ${this.#aggregateType} view is behind the event log`, { retryAfterSeconds: 1 });
      let timer: NodeJS.Timeout | undefined;
      let wake: () => void = () => {};
      await new Promise<void>((resolve) => {
        wake = resolve;
        this.#waiters.add(wake);
        timer = setTimeout(resolve, Math.min(left, 100));
      });
      clearTimeout(timer);
      this.#waiters.delete(wake);
    }
  }
}

import { DeliverPolicy, type ConsumerInfo } from '@nats-io/jetstream';
import { StkError } from '../errors.ts';
import { EVENTS_STREAM, aggregateTypeFilter, type EventLog, type LogRecord } from '../log/mod.ts';
import type { Logger } from '../logger.ts';

type OrderedConsumer = Awaited<ReturnType<EventLog['js']['consumers']['get']>>;

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
  /** Consumer (an ordered consumer renames itself when it restarts) and its sequence of the last applied record. */
  #applied = { consumer: '', seq: 0 };
  #consumer: OrderedConsumer | null = null;
  #stop: (() => Promise<void>) | null = null;
  #waiters = new Set<() => void>();
  #inflight: Promise<ConsumerInfo> | null = null;
  #next: Promise<ConsumerInfo> | null = null;

  constructor(log: EventLog, logger: Logger, aggregateType: string, apply: (r: LogRecord) => void) {
    this.#log = log;
    this.#logger = logger;
    this.#aggregateType = aggregateType;
    this.#apply = apply;
  }

  async start(): Promise<void> {
    const consumer = await this.#log.js.consumers.get(EVENTS_STREAM, { filter_subjects: aggregateTypeFilter(this.#aggregateType), deliver_policy: DeliverPolicy.All });
    this.#consumer = consumer;
    const messages = await consumer.consume({ max_messages: 1024 });
    this.#stop = async () => {
      await messages.close().catch(() => {});
    };
    void (async () => {
      for await (const m of messages) {
        try {
          this.#apply(this.#log.decode({ seq: m.seq, subject: m.subject, data: m.data, time: m.time, headers: m.headers }));
        } catch (err) {
          this.#logger.error({ err, position: m.seq, aggregateType: this.#aggregateType }, 'ingress view could not apply a record');
        }
        this.#applied = { consumer: m.info.consumer, seq: m.info.deliverySequence };
        for (const w of this.#waiters) w();
      }
    })();
  }

  async close(): Promise<void> {
    await this.#stop?.();
    for (const w of this.#waiters) w();
    this.#waiters.clear();
  }

  /**
   * Consumer info asked for after the caller arrived. Concurrent callers share requests: one
   * already in flight was sent too early for a newcomer, who shares the single one sent after it,
   * so a burst of agent requests costs at most two round trips, not one each.
   */
  #freshInfo(): Promise<ConsumerInfo> {
    if (!this.#inflight) return this.#send();
    this.#next ??= this.#inflight
      .catch(() => undefined)
      .then(() => {
        this.#next = null;
        return this.#send();
      });
    return this.#next;
  }

  #send(): Promise<ConsumerInfo> {
    const p = this.#consumer!.info();
    this.#inflight = p;
    const clear = (): void => {
      if (this.#inflight === p) this.#inflight = null;
    };
    p.then(clear, clear);
    return p;
  }

  /** Resolves once every matching record the stream holds now is applied; STK_ERR_UNAVAILABLE after `timeoutMs`. */
  async current(timeoutMs = 5000): Promise<void> {
    if (!this.#consumer) throw new StkError('STK_ERR_UNAVAILABLE', `the ingress's ${this.#aggregateType} view is not started`, { retryAfterSeconds: 1 });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let info;
      try {
        info = await this.#freshInfo();
      } catch (err) {
        throw new StkError('STK_ERR_UNAVAILABLE', `the ingress cannot reach the event log: ${(err as Error).message}`, { retryAfterSeconds: 1 }, { cause: err });
      }
      // Nothing matching is left on the server, and this client applied the last record the
      // server handed over (consumer sequences, since a filtered consumer's stream sequence also
      // moves over records it skips).
      const handed = info.delivered.consumer_seq;
      if (info.num_pending === 0 && (handed === 0 || (info.name === this.#applied.consumer && this.#applied.seq >= handed))) return;
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

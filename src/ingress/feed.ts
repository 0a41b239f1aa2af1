import { StkError } from '../errors.ts';
import type { HealthCheck } from '../health.ts';
import { aggregateTypeFilter, EVENTS_STREAM, type EventLog, type Follow, type LogRecord, type StoredMessage } from '../log/mod.ts';
import type { Logger } from '../logger.ts';
import { Freshness } from './freshness.ts';

/** A read that is behind the log and has handed out nothing for this long is opened again. */
const STALL_MS = 10_000;
/** An ingress whose views need longer than this to reach the log's end answers `/healthz` 503. */
export const READY_WITHIN_MS = 1_000;

/** What a view does with the records of the aggregate types it keeps. */
export interface FeedHandler {
  /** Aggregate types whose every record the view needs, from the start of the stream. */
  replayed: readonly string[];
  /** Called with each record of those types, in stream order. */
  apply(r: LogRecord): void;
  /**
   * Called with every other stored message, live only (from the start of the feed on), before it is
   * decoded: a view that keeps some aggregates of a type on demand (agents) looks at what it holds.
   */
  live?(m: StoredMessage, type: string): void;
}

/**
 * The ingress's one read of the event log: every record, in order, handed to the small in-memory
 * views (tenants, unanswered commands, collection settings, the agents of recent requests). It
 * replays the aggregate types the views keep (one bounded, server-filtered scan per type, up to the
 * stream's end at start), then follows the whole stream with **one** ordered consumer without a
 * filter — nothing for the server to evaluate per message, and the feed's position is the stream's.
 *
 * `current()` makes a read consistent with the log: it waits until the feed has applied everything
 * stored before the caller arrived. The stream's last sequence is asked for by a check shared by
 * every caller and sent at most once per `freshnessIntervalMs` (`src/ingress/freshness.ts`), so a
 * burst of agent requests costs one round trip, not one each.
 */
export class IngressFeed {
  readonly #log: EventLog;
  readonly #logger: Logger;
  readonly #handlers: FeedHandler[] = [];
  readonly #byType = new Map<string, FeedHandler[]>();
  readonly #freshness: Freshness;
  /** Stream sequence of the last message applied. */
  #applied = 0;
  #follow: Follow | null = null;
  /**
   * Callers waiting for the views to reach a position, grouped by that position, lowest first.
   * An applied message wakes only the groups it reaches: thousands of requests waiting at once
   * (a new ingress taking a fleet's first requests) cost nothing per message until theirs comes.
   */
  readonly #waiting: Array<{ seq: number; wake: Set<() => void> }> = [];
  #loop: Promise<void> | null = null;
  #closing = false;
  /** When the follow last handed out a message (or was opened). */
  #progressAt = Date.now();

  constructor(log: EventLog, logger: Logger, o: { freshnessIntervalMs?: number } = {}) {
    this.#log = log;
    this.#logger = logger;
    this.#freshness = new Freshness(() => this.#log.lastPosition(), o.freshnessIntervalMs ?? 10);
  }

  /** Adds a view; before `start()` only. */
  add(h: FeedHandler): void {
    this.#handlers.push(h);
    for (const t of h.replayed) this.#byType.set(t, [...(this.#byType.get(t) ?? []), h]);
  }

  /** Stream sequence of the last message applied. */
  get position(): number {
    return this.#applied;
  }

  /** Freshness checks sent so far (metrics, the load bench). */
  get checks(): number {
    return this.#freshness.sent;
  }

  async start(): Promise<void> {
    const end = await this.#log.lastPosition();
    for (const type of this.#byType.keys()) {
      await this.#log.scanRecords({ filter: aggregateTypeFilter(type), toSeq: end }, (r) => this.#applyRecord(r, type));
    }
    this.#applied = end;
    // No filter: every message comes, and the server evaluates nothing per message for this reader.
    const first = this.#log.streams.follow(EVENTS_STREAM, { after: end });
    await first.ready();
    this.#follow = first;
    this.#loop = this.#run(first);
  }

  /**
   * Applies what the follow hands out. A follow that ends or fails (its consumer lost with a stream
   * leader that went away, and not recovered by the client) is opened again from the last message
   * applied: left stopped, every request would wait for views that never move again.
   */
  async #run(first: Follow): Promise<void> {
    let follow = first;
    for (let pause = 100; !this.#closing; pause = Math.min(pause * 2, 5_000)) {
      try {
        for await (const m of follow) {
          if (m.seq <= this.#applied) continue;
          this.#take(m);
          this.#applied = m.seq;
          this.#progressAt = Date.now();
          pause = 100;
          while (this.#waiting.length > 0 && this.#waiting[0]!.seq <= m.seq) for (const wake of this.#waiting.shift()!.wake) wake();
        }
        if (this.#closing) return;
        this.#logger.warn({ position: this.#applied }, "the ingress views' read of the event log ended; reading on");
      } catch (err) {
        if (this.#closing) return;
        this.#logger.error({ err, position: this.#applied }, "the ingress views' read of the event log failed; reading on");
      }
      await new Promise((r) => setTimeout(r, pause));
      if (this.#closing) return;
      try {
        const next = this.#log.streams.follow(EVENTS_STREAM, { after: this.#applied });
        await next.ready();
        follow = next;
        this.#follow = next;
        this.#progressAt = Date.now();
      } catch (err) {
        this.#logger.warn({ err }, 'the ingress views cannot read the event log yet; trying again');
      }
    }
  }

  async close(): Promise<void> {
    this.#closing = true;
    await this.#follow?.stop();
    await this.#loop;
    for (const group of this.#waiting.splice(0)) for (const wake of group.wake) wake();
  }

  /**
   * Whether agents should be sent here: the views hold everything the log stored before this call,
   * or reach it within `withinMs` — stricter than a request's 5 s, so a load balancer that follows
   * the ingress's `/healthz` holds agents back before their requests are refused as behind. Not
   * ready before the views have started, after they stopped, or while the log cannot be reached.
   */
  async readiness(withinMs = READY_WITHIN_MS): Promise<HealthCheck> {
    const t0 = performance.now();
    try {
      await this.current(withinMs);
      return { ok: true, position: this.#applied, caughtUpMs: Math.round(performance.now() - t0) };
    } catch (err) {
      return { ok: false, position: this.#applied, error: (err as Error).message };
    }
  }

  /** Resolves once every record stored before this call is applied; STK_ERR_UNAVAILABLE after `timeoutMs`. */
  async current(timeoutMs = 5000): Promise<void> {
    if (!this.#follow || this.#closing) {
      throw new StkError('STK_ERR_UNAVAILABLE', `the ingress's views are ${this.#closing ? 'stopped' : 'not started'}`, { retryAfterSeconds: 1 });
    }
    const deadline = Date.now() + timeoutMs;
    let last: number;
    try {
      last = await this.#freshness.latest();
    } catch (err) {
      throw new StkError('STK_ERR_UNAVAILABLE', `the ingress cannot reach the event log: ${(err as Error).message}`, { retryAfterSeconds: 1 }, { cause: err });
    }
    // The follow hands every message in stream order, so having applied the stream's last one
    // means having applied every one before it.
    if (this.#applied >= last) return;
    const reached = await this.#reach(last, deadline - Date.now());
    if (this.#closing) throw new StkError('STK_ERR_UNAVAILABLE', "the ingress's views are stopped", { retryAfterSeconds: 1 });
    if (reached) return;
    // Behind, and nothing has come for a while: a read stuck on a consumer that no longer
    // delivers (a stream leader gone) is stopped, and the loop reads on from where it was.
    if (Date.now() - this.#progressAt > STALL_MS) {
      this.#logger.warn({ position: this.#applied, last }, 'the ingress views are behind and their read is silent; reading again');
      this.#progressAt = Date.now();
      void this.#follow.stop();
    }
    throw new StkError('STK_ERR_UNAVAILABLE', "the ingress's views are behind the event log", { retryAfterSeconds: 1 });
  }

  /** Resolves true once the views have applied `seq`, false after `ms` (or at once when closing). */
  #reach(seq: number, ms: number): Promise<boolean> {
    if (this.#applied >= seq) return Promise.resolve(true);
    if (ms <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      // Positions come from the shared check, so they mostly arrive in order: found from the end.
      let i = this.#waiting.length;
      while (i > 0 && this.#waiting[i - 1]!.seq > seq) i--;
      let group = this.#waiting[i - 1];
      if (group?.seq !== seq) {
        group = { seq, wake: new Set() };
        this.#waiting.splice(i, 0, group);
      }
      const own = group;
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      own.wake.add(wake);
      const timer = setTimeout(() => {
        own.wake.delete(wake);
        if (own.wake.size === 0) {
          const at = this.#waiting.indexOf(own);
          if (at >= 0) this.#waiting.splice(at, 1);
        }
        resolve(false);
      }, ms);
    });
  }

  #take(m: StoredMessage): void {
    // ev.<p>.<tenant>.<type>.<id>: the type is the fourth token.
    const a = m.subject.indexOf('.', 3);
    const b = m.subject.indexOf('.', a + 1);
    const type = m.subject.slice(b + 1, m.subject.indexOf('.', b + 1));
    const handlers = this.#byType.get(type);
    if (handlers) {
      let r: LogRecord;
      try {
        r = this.#log.decode(m);
      } catch (err) {
        this.#logger.error({ err, position: m.seq }, 'ingress views could not decode a record');
        return;
      }
      this.#applyRecord(r, type, handlers);
      return;
    }
    for (const h of this.#handlers) {
      try {
        h.live?.(m, type);
      } catch (err) {
        this.#logger.error({ err, position: m.seq }, 'ingress view could not apply a record');
      }
    }
  }

  #applyRecord(r: LogRecord, type: string, handlers = this.#byType.get(type) ?? []): void {
    for (const h of handlers) {
      try {
        h.apply(r);
      } catch (err) {
        this.#logger.error({ err, position: r.position, aggregateType: type }, 'ingress view could not apply a record');
      }
    }
  }
}

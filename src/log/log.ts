import type { NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type StoredMsg,
} from '@nats-io/jetstream';
import { StkError } from '../errors.ts';
import { assertId, newId } from '../ids.ts';
import {
  ALL_EVENTS,
  tenantFilter,
  decodeRecordBody,
  encodeRecord,
  eventSubject,
  parseEventSubject,
  type EventEnvelope,
  type LogRecord,
  type NewEvent,
  type StreamId,
  type Actor,
} from './envelope.ts';
import { EVENTS_STREAM, ensureEventsStream, type EventsStreamOptions } from './stream.ts';
import { AckPublisher, PublishRefused } from './publisher.ts';
import { retryTransient } from './retry.ts';
import { Upcasters } from './upcast.ts';

/** What an append expects of the aggregate: an exact version, no events yet, or anything. */
export type ExpectedVersion = number | 'no_stream' | 'any';

export interface AppendOptions {
  expectedVersion: ExpectedVersion;
  /** Actor for events that do not name one. @defaultValue system */
  actor?: Actor;
  correlationId?: string | null;
  causationId?: string | null;
}

/** A successful append. A retried append of the same event ids returns the original with `duplicate`. */
export interface Appended {
  /** Stream sequence of the record: what a reader waits for (read-your-writes). */
  position: number;
  /** Aggregate version after the append. */
  version: number;
  events: EventEnvelope[];
  duplicate: boolean;
}

/** A version conflict is an expected outcome, so it is a value the caller must look at. */
export type AppendResult = { ok: true; value: Appended } | { ok: false; error: StkError };

export interface EventLogOptions extends EventsStreamOptions {
  upcasters?: Upcasters;
  /** Time to wait for the server's acknowledgement of an append. @defaultValue 5000 */
  publishTimeoutMs?: number;
  /** Aggregates whose (version, position) are remembered to skip a read before appending. @defaultValue 10000 */
  versionCacheSize?: number;
  /** Clock for events that do not bring their time. */
  now?: () => Date;
  /**
   * How long an operation keeps retrying transient failures (leader election, reconnect) before it
   * fails with STK_ERR_LOG_UNAVAILABLE. Appends retry with the same msg-id, so never twice. @defaultValue 5000
   */
  transientRetryMs?: number;
  /** Skip creating/updating the stream (a read-only or restricted NATS user). */
  skipEnsureStream?: boolean;
}

interface Head {
  version: number;
  position: number;
}

const SYSTEM: Actor = { kind: 'system', id: 'stockade' };
/**
 * Lifetime of a pull request. The client notices a consumer lost with its server (a stream leader
 * that died takes its ordered consumers along) after two missed heartbeats of half this, and
 * recreates it: 5 s instead of the client's default 30 s bounds how long a reader stalls.
 */
export const PULL_EXPIRES_MS = 5000;
/** Header with the aggregate version after a commit; lets an appender learn the version from one lookup. */
export const VERSION_HEADER = 'Stk-Version';

/**
 * An eventstore-style log over the JetStream stream EVENTS. One message per commit (so a
 * multi-event append is atomic), `Nats-Msg-Id` = first event id (so a retry is a no-op), and
 * `Nats-Expected-Last-Subject-Sequence` (so two writers racing on one aggregate cannot both win).
 */
export class EventLog {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly upcasters: Upcasters;
  readonly #publisher: AckPublisher;
  readonly #retryMs: number;
  readonly #now: () => Date;
  readonly #heads = new Map<string, Head>();
  readonly #cacheSize: number;

  private constructor(nc: NatsConnection, jsm: JetStreamManager, o: EventLogOptions) {
    this.nc = nc;
    this.js = jetstream(nc, { timeout: o.publishTimeoutMs ?? 5000 });
    this.jsm = jsm;
    this.upcasters = o.upcasters ?? new Upcasters();
    this.#publisher = new AckPublisher(nc, o.publishTimeoutMs ?? 5000);
    this.#retryMs = o.transientRetryMs ?? 5000;
    this.#now = o.now ?? (() => new Date());
    this.#cacheSize = o.versionCacheSize ?? 10_000;
  }

  /** Opens the log on a connection, creating the EVENTS stream if needed. */
  static async open(nc: NatsConnection, o: EventLogOptions = {}): Promise<EventLog> {
    let jsm: JetStreamManager;
    try {
      jsm = await jetstreamManager(nc, { timeout: o.publishTimeoutMs ?? 5000 });
    } catch (err) {
      throw new StkError('STK_ERR_LOG_UNAVAILABLE', `JetStream is not available: ${(err as Error).message}`, {}, { cause: err });
    }
    if (!o.skipEnsureStream) await ensureEventsStream(jsm, o);
    return new EventLog(nc, jsm, o);
  }

  /**
   * Appends events to one aggregate as one atomic commit.
   * Returns a conflict value (STK_ERR_LOG_VERSION_CONFLICT, with expected and actual versions)
   * when the aggregate is not at `expectedVersion`; throws on invalid ids and infrastructure faults.
   */
  async append(stream: StreamId, events: NewEvent[], o: AppendOptions): Promise<AppendResult> {
    validateStream(stream);
    if (events.length === 0) throw new StkError('STK_ERR_VALIDATION', 'append needs at least one event', { ...stream });
    for (const e of events) if (e.id !== undefined) assertId('token', e.id, 'event id');
    const subject = eventSubject(stream);
    const ids = events.map((e) => e.id ?? newId());

    let head = await this.#expectedHead(subject, o.expectedVersion);
    // Two attempts at most: the second only when the cached head was stale but the caller's
    // expectation still holds against the server's truth.
    for (let attempt = 0; ; attempt++) {
      if (typeof o.expectedVersion === 'number' && head.version !== o.expectedVersion) {
        return conflict(stream, o.expectedVersion, head.version);
      }
      if (o.expectedVersion === 'no_stream' && head.version !== 0) {
        return conflict(stream, 'no_stream', head.version);
      }
      const at = this.#now().toISOString();
      const envelopes: EventEnvelope[] = events.map((e, i) => ({
        id: ids[i]!,
        type: e.type,
        tenant: stream.tenant,
        aggregate: { type: stream.aggregateType, id: stream.aggregateId },
        version: head.version + i + 1,
        at: e.at ?? at,
        actor: e.actor ?? o.actor ?? SYSTEM,
        causationId: e.causationId ?? o.causationId ?? null,
        correlationId: e.correlationId ?? o.correlationId ?? null,
        schema: e.schema ?? 1,
        data: e.data,
      }));
      const version = head.version + envelopes.length;
      try {
        const body = encodeRecord(envelopes);
        const expectedLast = head.position;
        const ack = await retryTransient(
          () =>
            this.#publisher.publish(subject, body, {
              msgId: ids[0]!,
              expectedLastSubjectSequence: expectedLast,
              headers: { [VERSION_HEADER]: String(version) },
            }),
          this.#retryMs,
        );
        if (ack.duplicate) return { ok: true, value: await this.#original(ack.seq, subject, ids[0]!) };
        this.#remember(subject, { version, position: ack.seq });
        return { ok: true, value: { position: ack.seq, version, events: envelopes, duplicate: false } };
      } catch (err) {
        if (isWrongLastSequence(err) && attempt === 0) {
          this.#heads.delete(subject);
          head = await this.#head(subject);
          if (o.expectedVersion === 'any' || head.version === o.expectedVersion) continue;
          return conflict(stream, o.expectedVersion, head.version);
        }
        if (isWrongLastSequence(err)) return conflict(stream, o.expectedVersion, (await this.#head(subject)).version);
        throw unavailable(err, 'append', { subject });
      }
    }
  }

  /** Stops the log's publisher; pending appends fail. The connection stays open. */
  close(): void {
    this.#publisher.close();
  }

  /** `append`, throwing the conflict instead of returning it; for callers that treat it as a failure. */
  async appendOrThrow(stream: StreamId, events: NewEvent[], o: AppendOptions): Promise<Appended> {
    const r = await this.append(stream, events, o);
    if (!r.ok) throw r.error;
    return r.value;
  }

  /** Current version and position of an aggregate (0/0 when it has no events). */
  async head(stream: StreamId): Promise<Head> {
    validateStream(stream);
    return this.#head(eventSubject(stream));
  }

  /** Events of one aggregate with version ≥ `fromVersion`, upcast to the newest schemas. */
  async readAggregate(stream: StreamId, fromVersion = 1): Promise<{ events: EventEnvelope[]; version: number; position: number }> {
    validateStream(stream);
    const subject = eventSubject(stream);
    const head = await this.#head(subject);
    if (head.version < fromVersion) return { events: [], version: head.version, position: head.position };
    const events: EventEnvelope[] = [];
    for await (const r of this.#range(subject, 1, head.position)) {
      for (const e of r.events) if (e.version >= fromVersion) events.push(e);
    }
    return { events, version: head.version, position: head.position };
  }

  /** Records of one tenant with position > `after`, up to the end of the stream when called. */
  async readTenant(tenant: string, after = 0, limit = Infinity): Promise<LogRecord[]> {
    assertId('tenant', tenant, 'tenant');
    const out: LogRecord[] = [];
    const last = await this.lastPosition();
    if (last <= after) return out;
    for await (const r of this.#range(tenantFilter(tenant), after + 1, last)) {
      out.push(r);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Stream sequence of the newest record (0 when empty). */
  async lastPosition(): Promise<number> {
    try {
      const info = await retryTransient(() => this.jsm.streams.info(EVENTS_STREAM), this.#retryMs);
      return info.state.last_seq;
    } catch (err) {
      throw unavailable(err, 'info', {});
    }
  }

  /**
   * Live subscription from just after `after` (0 = from the beginning), over an ordered consumer:
   * records arrive in position order with no gap; the caller keeps its position and resumes by
   * passing it again, so a resume neither skips nor repeats a record.
   */
  subscribe(o: { filter?: string; after?: number } = {}): Subscription {
    return new Subscription(this, o.filter ?? ALL_EVENTS, o.after ?? 0);
  }

  /**
   * Durable pull consumer `name` (created if missing, starting after `after`): survives restarts
   * of this process, delivers at least once, and moves only when the caller acks.
   */
  async durable(name: string, o: { filter?: string; after?: number; ackWaitMs?: number } = {}): Promise<DurableSubscription> {
    assertId('token', name, 'consumer name');
    try {
      const existing = await this.jsm.consumers.info(EVENTS_STREAM, name).catch((err: unknown) => {
        if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound) return null;
        throw err;
      });
      if (!existing) {
        const after = o.after ?? 0;
        await this.jsm.consumers.add(EVENTS_STREAM, {
          durable_name: name,
          ack_policy: AckPolicy.Explicit,
          ack_wait: (o.ackWaitMs ?? 30_000) * 1_000_000,
          filter_subject: o.filter ?? ALL_EVENTS,
          max_ack_pending: 10_000,
          ...(after > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 } : { deliver_policy: DeliverPolicy.All }),
        });
      }
      const consumer = await this.js.consumers.get(EVENTS_STREAM, name);
      return new DurableSubscription(this, consumer);
    } catch (err) {
      throw unavailable(err, 'durable consumer', { name });
    }
  }

  /** Decodes one stored message into a record, upcasting its events. */
  decode(m: { seq: number; subject: string; data: Uint8Array; time: Date; headers?: { get(k: string): string } | undefined }): LogRecord {
    const where = { stream: EVENTS_STREAM, position: m.seq, subject: m.subject };
    const sid = parseEventSubject(m.subject);
    const events = decodeRecordBody(m.data, where).map((e) => this.upcasters.apply(e));
    const last = events[events.length - 1]!;
    return {
      position: m.seq,
      subject: m.subject,
      tenant: sid.tenant,
      aggregate: { type: sid.aggregateType, id: sid.aggregateId },
      msgId: m.headers?.get('Nats-Msg-Id') || events[0]!.id,
      version: last.version,
      storedAt: m.time,
      events,
      raw: m.data,
    };
  }

  async *#range(filter: string, fromPosition: number, toPosition: number): AsyncGenerator<LogRecord> {
    let consumer;
    let pending: number;
    try {
      [consumer, pending] = await retryTransient(async () => {
        const c = await this.js.consumers.get(EVENTS_STREAM, {
          filter_subjects: filter,
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: fromPosition,
        });
        return [c, (await c.info(true)).num_pending] as const;
      }, this.#retryMs);
    } catch (err) {
      throw unavailable(err, 'read', { filter });
    }
    if (pending === 0) return;
    const messages = await consumer.consume({ max_messages: 512, expires: PULL_EXPIRES_MS });
    try {
      for await (const m of messages) {
        if (m.seq > toPosition) break;
        yield this.decode(storedFromJs(m));
        if (m.seq >= toPosition || m.info.pending === 0) break;
      }
    } finally {
      await messages.close().catch(() => {});
    }
  }

  async #expectedHead(subject: string, expected: ExpectedVersion): Promise<Head> {
    if (expected === 'no_stream' || expected === 0) return { version: 0, position: 0 };
    const cached = this.#heads.get(subject);
    if (cached && (expected === 'any' || cached.version === expected)) return cached;
    return this.#head(subject);
  }

  async #head(subject: string): Promise<Head> {
    let m: StoredMsg | null;
    try {
      m = await retryTransient(() => this.jsm.streams.getMessage(EVENTS_STREAM, { last_by_subj: subject }), this.#retryMs);
    } catch (err) {
      throw unavailable(err, 'read head', { subject });
    }
    if (!m) return { version: 0, position: 0 };
    const version = Number(m.header.get(VERSION_HEADER));
    if (!Number.isInteger(version) || version < 1) {
      throw new StkError('STK_ERR_LOG_CORRUPT_RECORD', `record ${m.seq} has no valid ${VERSION_HEADER}`, { position: m.seq, subject });
    }
    const head = { version, position: m.seq };
    this.#remember(subject, head);
    return head;
  }

  async #original(position: number, subject: string, msgId: string): Promise<Appended> {
    let m: StoredMsg | null;
    try {
      m = await retryTransient(() => this.jsm.streams.getMessage(EVENTS_STREAM, { seq: position }), this.#retryMs);
    } catch (err) {
      throw unavailable(err, 'read duplicate', { position });
    }
    if (!m) throw new StkError('STK_ERR_LOG_CORRUPT_RECORD', `duplicate append points at missing record ${position}`, { position });
    if (m.subject !== subject) {
      // Msg ids are stream-wide: the same event id used on another aggregate is a client error,
      // not a retry, and must not be reported as success.
      throw new StkError('STK_ERR_VALIDATION', `event id ${msgId} was already used for another aggregate`, { eventId: msgId });
    }
    const r = this.decode({ seq: m.seq, subject: m.subject, data: m.data, time: m.time, headers: m.header });
    return { position: r.position, version: r.version, events: r.events, duplicate: true };
  }

  #remember(subject: string, head: Head): void {
    const known = this.#heads.get(subject);
    if (known && known.position > head.position) return;
    // The cache only saves a read; dropping it all when full is correct and costs O(1) amortised.
    if (this.#heads.size >= this.#cacheSize && !known) this.#heads.clear();
    this.#heads.set(subject, head);
  }
}

/** A live, ordered, resumable subscription. Iterate it; `stop()` ends the iteration. */
export class Subscription implements AsyncIterable<LogRecord> {
  readonly #log: EventLog;
  readonly #filter: string;
  #after: number;
  #stopped = false;
  #close: (() => Promise<void>) | null = null;

  constructor(log: EventLog, filter: string, after: number) {
    this.#log = log;
    this.#filter = filter;
    this.#after = after;
  }

  /** Position of the last record handed out. */
  get position(): number {
    return this.#after;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<LogRecord> {
    const consumer = await this.#log.js.consumers.get(EVENTS_STREAM, {
      filter_subjects: this.#filter,
      ...(this.#after > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.#after + 1 } : { deliver_policy: DeliverPolicy.All }),
    });
    const messages = await consumer.consume({ max_messages: 1024, expires: PULL_EXPIRES_MS });
    this.#close = async () => {
      await messages.close().catch(() => {});
    };
    if (this.#stopped) await this.#close();
    try {
      for await (const m of messages) {
        // The ordered consumer restarts itself after a gap or reconnect from the last sequence it
        // delivered; this guard keeps a restart from ever handing out a record twice.
        if (m.seq <= this.#after) continue;
        const r = this.#log.decode(storedFromJs(m));
        this.#after = m.seq;
        yield r;
        if (this.#stopped) break;
      }
    } finally {
      await this.#close();
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#close?.();
  }
}

/** A record from a durable consumer, to be acked once its effects are stored. */
export interface DurableRecord {
  record: LogRecord;
  ack(): void;
  /** Ask for redelivery (after `delayMs`). */
  nak(delayMs?: number): void;
  redelivered: boolean;
}

/** Iterates a durable pull consumer; at-least-once: unacked records come again. */
export class DurableSubscription implements AsyncIterable<DurableRecord> {
  readonly #log: EventLog;
  readonly #consumer: Awaited<ReturnType<JetStreamClient['consumers']['get']>>;
  #close: (() => Promise<void>) | null = null;
  #stopped = false;

  constructor(log: EventLog, consumer: Awaited<ReturnType<JetStreamClient['consumers']['get']>>) {
    this.#log = log;
    this.#consumer = consumer;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<DurableRecord> {
    const messages = await this.#consumer.consume({ max_messages: 512, expires: PULL_EXPIRES_MS });
    this.#close = async () => {
      await messages.close().catch(() => {});
    };
    if (this.#stopped) await this.#close();
    try {
      for await (const m of messages) {
        yield { record: this.#log.decode(storedFromJs(m)), ack: () => m.ack(), nak: (d) => m.nak(d), redelivered: m.redelivered };
        if (this.#stopped) break;
      }
    } finally {
      await this.#close();
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#close?.();
  }
}

function storedFromJs(m: JsMsg): { seq: number; subject: string; data: Uint8Array; time: Date; headers?: { get(k: string): string } } {
  return { seq: m.seq, subject: m.subject, data: m.data, time: m.time, ...(m.headers ? { headers: m.headers } : {}) };
}

function validateStream(s: StreamId): void {
  assertId('tenant', s.tenant, 'tenant');
  assertId('aggregateType', s.aggregateType, 'aggregate type');
  assertId('token', s.aggregateId, 'aggregate id');
}

function conflict(s: StreamId, expected: ExpectedVersion, actual: number): AppendResult {
  return {
    ok: false,
    error: new StkError('STK_ERR_LOG_VERSION_CONFLICT', `${s.aggregateType}/${s.aggregateId} is at version ${actual}, expected ${expected}`, {
      tenant: s.tenant,
      stream: eventSubject(s),
      expected,
      actual,
    }),
  };
}

function isWrongLastSequence(err: unknown): boolean {
  return (
    err instanceof PublishRefused &&
    (err.apiCode === JetStreamApiCodes.StreamWrongLastSequence || err.apiCode === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

function unavailable(err: unknown, op: string, data: Record<string, unknown>): StkError {
  if (err instanceof StkError) return err;
  return new StkError(
    'STK_ERR_LOG_UNAVAILABLE',
    `event log ${op} failed: ${(err as Error)?.message ?? err}`,
    { stream: EVENTS_STREAM, ...data },
    { cause: err },
  );
}

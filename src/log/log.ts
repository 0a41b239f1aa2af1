import { StkError } from '../errors.ts';
import { assertId, isValidId, newId } from '../ids.ts';
import { birthPlace, bornId } from './births.ts';
import {
  ALL_EVENTS,
  RECORD_FORMAT,
  RECORD_FORMAT_BIRTHS,
  commitsOf,
  decodeRecordBody,
  encodeRecord,
  eventSubject,
  parseEventSubject,
  tenantFilter,
  type Actor,
  type EventEnvelope,
  type LogRecord,
  type NewEvent,
  type StreamId,
} from './envelope.ts';
import { isWrongLastSequence } from './publisher.ts';
import { retryTransient } from './retry.ts';
import { EVENTS_STREAM, eventsStreamSpec, type EventsStreamOptions } from './stream.ts';
import type { NatsConnection } from '@nats-io/transport-node';
import { type Consumption, type Delivery, type Follow, type ScanOptions, type StoredMessage, Streams, unavailable } from './streams.ts';
import { PAYLOAD_UPCASTERS } from '../../commands/upcasters.ts';
import { Upcasters } from './upcast.ts';

/** What an append expects of the aggregate: an exact version, no events yet, or anything. */
export type ExpectedVersion = number | 'no_stream' | 'any';

export interface AppendOptions {
  expectedVersion: ExpectedVersion;
  /**
   * Stream position of the aggregate's newest commit on its own subject, as the caller knows it
   * together with `expectedVersion` (0: none yet): spares the lookup of the head. A stale value
   * costs one refused publish and a lookup, never a wrong write — the server checks it.
   */
  knownPosition?: number;
  /**
   * Aggregates born in this commit (`src/log/births.ts`): each gets an id made from this aggregate,
   * the time and its `seed`, and its events ride in the same message, after this aggregate's.
   */
  births?: Birth[];
  /** Actor for events that do not name one. @defaultValue system */
  actor?: Actor;
  correlationId?: string | null;
  causationId?: string | null;
}

/** A new aggregate born in another's commit: its type, the seed that tells it apart there, its first events. */
export interface Birth {
  aggregateType: string;
  seed: string;
  events: NewEvent[];
}

/** A successful append. A retried append of the same event ids returns the original with `duplicate`. */
export interface Appended {
  /** Stream sequence of the record: what a reader waits for (read-your-writes). */
  position: number;
  /** Aggregate version after the append. */
  version: number;
  /** This aggregate's events. */
  events: EventEnvelope[];
  /** The aggregates born in the commit, in the order of `births` (of the original commit, for a duplicate). */
  born: Array<{ aggregateId: string; aggregateType: string; version: number; events: EventEnvelope[] }>;
  duplicate: boolean;
}

/** A version conflict is an expected outcome, so it is a value the caller must look at. */
export type AppendResult = { ok: true; value: Appended } | { ok: false; error: StkError };

/**
 * Field encryption in the write path (src/privacy): `seal` turns the events of a commit into what
 * is stored, `reveal` turns stored events back into readable ones. Absent, events are stored as
 * they are.
 */
export interface FieldSealer {
  seal(events: EventEnvelope[]): Promise<EventEnvelope[]>;
  /** `seal` without a promise when it can (every key at hand); null otherwise. */
  sealNow?(events: EventEnvelope[]): EventEnvelope[] | null;
  reveal(events: EventEnvelope[]): Promise<EventEnvelope[]>;
}

export interface EventLogOptions extends EventsStreamOptions {
  /** Seals personal fields at append; the log's own reads (aggregates, last commits) reveal them. */
  fields?: FieldSealer;
  /** @defaultValue the domains' upcasters (`commands/upcasters.ts`) */
  upcasters?: Upcasters;
  /** Aggregates whose (version, position) are remembered to skip a read before appending. @defaultValue 100000 */
  versionCacheSize?: number;
  /** Clock for events that do not bring their time. */
  now?: () => Date;
  /**
   * How long an append keeps retrying transient failures (leader election, reconnect) before it
   * fails with STK_ERR_LOG_UNAVAILABLE. Appends retry with the same msg-id, so never twice. @defaultValue 5000
   */
  transientRetryMs?: number;
  /** Skip creating/updating the stream (a read-only or restricted NATS user). */
  skipEnsureStream?: boolean;
  /** Told how long each append took, from the call to the server's acknowledgement (metrics). */
  onAppend?: (seconds: number) => void;
}

interface Head {
  version: number;
  position: number;
}

const SYSTEM: Actor = { kind: 'system', id: 'stockade' };
/** Header with the aggregate version after a commit; lets an appender learn the version from one lookup. */
export const VERSION_HEADER = 'Stk-Version';

/**
 * An eventstore-style log over the JetStream stream EVENTS. One message per commit (so a
 * multi-event append is atomic), `Nats-Msg-Id` = first event id (so a retry is a no-op), and
 * `Nats-Expected-Last-Subject-Sequence` (so two writers racing on one aggregate cannot both win).
 * Its reads are the log's operations over the door to JetStream (`Streams`), decoded into records.
 */
export class EventLog {
  readonly streams: Streams;
  readonly upcasters: Upcasters;
  readonly #retryMs: number;
  readonly #now: () => Date;
  readonly #heads = new Map<string, Head>();
  /** Births found by a scan (a born aggregate's first events never change), by the born aggregate's subject. */
  readonly #births = new Map<string, FoundBirth>();
  readonly #cacheSize: number;
  readonly #onAppend: ((seconds: number) => void) | undefined;
  readonly #fields: FieldSealer | undefined;

  private constructor(streams: Streams, o: EventLogOptions) {
    this.streams = streams;
    // The domains' upcasters by default: every reader must know every schema a writer may write.
    this.upcasters = o.upcasters ?? new Upcasters([...PAYLOAD_UPCASTERS]);
    this.#retryMs = o.transientRetryMs ?? 5000;
    this.#now = o.now ?? (() => new Date());
    this.#cacheSize = o.versionCacheSize ?? 100_000;
    this.#onAppend = o.onAppend;
    this.#fields = o.fields;
  }

  /**
   * Opens a door to JetStream on `nc` and the log over it: for tools and tests that need only the
   * log. `publishTimeoutMs` bounds one request and one append's acknowledgement (@defaultValue 5000).
   */
  static async connect(nc: NatsConnection, o: EventLogOptions & { publishTimeoutMs?: number } = {}): Promise<EventLog> {
    const streams = await Streams.open(nc, { timeoutMs: o.publishTimeoutMs ?? 5000, retryMs: o.transientRetryMs ?? 5000 });
    return EventLog.open(streams, o);
  }

  /** Closes the log's door (its publisher); pending appends fail. The connection stays open. */
  close(): void {
    this.streams.close();
  }

  /** Opens the log over the door to JetStream, creating the EVENTS stream if needed. */
  static async open(streams: Streams, o: EventLogOptions = {}): Promise<EventLog> {
    if (!o.skipEnsureStream) await streams.ensureStream(eventsStreamSpec(o));
    return new EventLog(streams, o);
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
    const births = o.births ?? [];
    for (const b of births) {
      assertId('aggregateType', b.aggregateType, 'aggregate type');
      if (b.events.length === 0) throw new StkError('STK_ERR_VALIDATION', 'a birth needs at least one event', { ...stream, aggregateType: b.aggregateType });
      for (const e of b.events) if (e.id !== undefined) assertId('token', e.id, 'event id');
    }
    const subject = eventSubject(stream);
    const ids = events.map((e) => e.id ?? newId());
    const bornIds = births.map((b) => b.events.map((e) => e.id ?? newId()));
    const t0 = this.#onAppend ? performance.now() : 0;

    let head =
      typeof o.expectedVersion === 'number' && o.knownPosition !== undefined
        ? { version: o.expectedVersion, position: o.knownPosition }
        : await this.#expectedHead(subject, o.expectedVersion, stream);
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
      const nowMs = this.#now().getTime();
      const born = births.map((b, bi) => {
        const aggregateId = bornId(stream, nowMs, b.seed);
        if (!aggregateId) throw new StkError('STK_ERR_VALIDATION', `${stream.aggregateType} ids are too long to have births`, { ...stream });
        const bornEvents: EventEnvelope[] = b.events.map((e, i) => ({
          id: bornIds[bi]![i]!,
          type: e.type,
          tenant: stream.tenant,
          aggregate: { type: b.aggregateType, id: aggregateId },
          version: i + 1,
          at: e.at ?? at,
          actor: e.actor ?? o.actor ?? SYSTEM,
          causationId: e.causationId ?? o.causationId ?? null,
          correlationId: e.correlationId ?? o.correlationId ?? null,
          schema: e.schema ?? 1,
          data: e.data,
        }));
        return { aggregateId, aggregateType: b.aggregateType, version: bornEvents.length, events: bornEvents };
      });
      // Personal fields are sealed in every event of the commit, births included.
      const all = born.length ? [...envelopes, ...born.flatMap((b) => b.events)] : envelopes;
      const stored = this.#fields ? (this.#fields.sealNow?.(all) ?? (await this.#fields.seal(all))) : all;
      try {
        const body = encodeRecord(stored, born.length ? RECORD_FORMAT_BIRTHS : RECORD_FORMAT);
        const expectedLast = head.position;
        const ack = await retryTransient(
          () =>
            this.streams.publish(subject, body, {
              msgId: ids[0]!,
              expectedLastSubjectSequence: expectedLast,
              headers: { [VERSION_HEADER]: String(version) },
            }),
          this.#retryMs,
        );
        if (ack.duplicate) return { ok: true, value: await this.#original(ack.seq, subject, ids[0]!) };
        this.#remember(subject, { version, position: ack.seq });
        this.#onAppend?.((performance.now() - t0) / 1000);
        return { ok: true, value: { position: ack.seq, version, events: envelopes, born, duplicate: false } };
      } catch (err) {
        if (isWrongLastSequence(err) && attempt === 0) {
          this.#heads.delete(subject);
          head = await this.#head(subject, stream);
          if (o.expectedVersion === 'any' || head.version === o.expectedVersion) continue;
          return conflict(stream, o.expectedVersion, head.version);
        }
        if (isWrongLastSequence(err)) return conflict(stream, o.expectedVersion, (await this.#head(subject, stream)).version);
        throw unavailable(err, 'event log append failed', { stream: EVENTS_STREAM, subject });
      }
    }
  }

  /** `append`, throwing the conflict instead of returning it; for callers that treat it as a failure. */
  async appendOrThrow(stream: StreamId, events: NewEvent[], o: AppendOptions): Promise<Appended> {
    const r = await this.append(stream, events, o);
    if (!r.ok) throw r.error;
    return r.value;
  }

  /** Events of one aggregate with version ≥ `fromVersion`, upcast to the newest schemas. */
  async readAggregate(stream: StreamId, fromVersion = 1): Promise<{ events: EventEnvelope[]; version: number; position: number }> {
    validateStream(stream);
    const subject = eventSubject(stream);
    const head = await this.#head(subject, stream);
    if (head.version < fromVersion) return { events: [], version: head.version, position: head.position };
    const events: EventEnvelope[] = [];
    if (head.position > 0) {
      await this.streams.scanEach(EVENTS_STREAM, { filter: subject, toSeq: head.position }, (m) => {
        // Only this aggregate's events: a commit on its subject may carry aggregates born in it.
        for (const e of this.decode(m).events) if (e.version >= fromVersion && isOf(e, stream)) events.push(e);
      });
    }
    // A first event on its own subject past version 1 means the aggregate was born in another's commit.
    let position = head.position;
    if ((events[0]?.version ?? head.version + 1) > fromVersion) {
      const birth = await this.#birth(stream);
      if (birth) {
        events.unshift(...birth.events.filter((e) => e.version >= fromVersion));
        position ||= birth.position;
      }
    }
    return { events: await this.revealEvents(events), version: head.version, position };
  }

  /** The events with their personal fields readable (or marked erased); as they are when the log seals nothing. */
  revealEvents(events: EventEnvelope[]): Promise<EventEnvelope[]> {
    return this.#fields && events.some((e) => e.sealed) ? this.#fields.reveal(events) : Promise.resolve(events);
  }

  /** A record whose events are revealed (`revealEvents`); `raw` stays the stored bytes. */
  async reveal(r: LogRecord): Promise<LogRecord> {
    if (!this.#fields || !r.events.some((e) => e.sealed)) return r;
    return { ...r, events: await this.#fields.reveal(r.events) };
  }

  /**
   * The newest commit of one aggregate (one direct get), or null when it has none: only this
   * aggregate's part of it, and for an aggregate born in another's commit with no commit of its
   * own yet, its birth.
   */
  async lastCommit(stream: StreamId): Promise<LogRecord | null> {
    validateStream(stream);
    const m = await this.streams.last(EVENTS_STREAM, eventSubject(stream));
    const birth = m ? null : await this.#birth(stream);
    const part = m ? partOf(this.decode(m), stream) : birth ? partOf(birth.record, stream) : null;
    return part ? this.reveal(part) : null;
  }

  /** Records of one tenant with position > `after`, up to the end of the stream when called. */
  async readTenant(tenant: string, after = 0, limit = Number.POSITIVE_INFINITY): Promise<LogRecord[]> {
    assertId('tenant', tenant, 'tenant');
    const out: LogRecord[] = [];
    for await (const m of this.streams.scan(EVENTS_STREAM, { filter: tenantFilter(tenant), fromSeq: after + 1 })) {
      out.push(this.decode(m));
      if (out.length >= limit) break;
    }
    return Promise.all(out.map((r) => this.reveal(r)));
  }

  /** Every record of the stream (or of `o.filter`) in a bounded range, decoded (not revealed), handed to `each`; see `Streams.scanEach`. */
  scanRecords(o: ScanOptions, each: (r: LogRecord) => void | Promise<void>): Promise<number> {
    return this.streams.scanEach(EVENTS_STREAM, o, (m) => each(this.decode(m)));
  }

  /** Stream sequence of the newest record (0 when empty). */
  async lastPosition(): Promise<number> {
    return (await this.streams.state(EVENTS_STREAM))?.lastSeq ?? 0;
  }

  /** Sequence of the newest record matching a subject filter (0 when none): one direct get. */
  async lastPositionOf(filter: string): Promise<number> {
    return (await this.streams.last(EVENTS_STREAM, filter))?.seq ?? 0;
  }

  /** When the record at `position` was stored; null when there is none. */
  async storedAt(position: number): Promise<Date | null> {
    return (await this.streams.at(EVENTS_STREAM, position))?.time ?? null;
  }

  /**
   * Live subscription from just after `after` (0 = from the beginning), over an ordered consumer:
   * records arrive in position order with no gap; the caller keeps its position and resumes by
   * passing it again, so a resume neither skips nor repeats a record.
   */
  subscribe(o: { filter?: string; after?: number } = {}): Subscription {
    return new Subscription(this, this.streams.follow(EVENTS_STREAM, { filter: o.filter ?? ALL_EVENTS, after: o.after ?? 0 }));
  }

  /**
   * Starts pulling durable consumer `name` of EVENTS (made by `streams.resetConsumer`), decoding
   * each delivery into a record. At least once: what is not acked comes again.
   */
  async work(name: string, o: { max?: number; inOrder?: boolean } = {}): Promise<Consumption<WorkItem>> {
    const feed = await this.streams.consume(EVENTS_STREAM, name, o);
    const decode = (m: Delivery): WorkItem => ({ delivery: m, record: this.decode(m) });
    return {
      async *[Symbol.asyncIterator]() {
        for await (const m of feed) yield decode(m);
      },
      close: () => feed.close(),
      buffered: () => feed.buffered(),
    };
  }

  /** Decodes one stored message into a record, upcasting its events. */
  decode(m: StoredMessage): LogRecord {
    const where = { stream: EVENTS_STREAM, position: m.seq, subject: m.subject };
    const sid = parseEventSubject(m.subject);
    const events = decodeRecordBody(m.data, where).map((e) => this.upcasters.apply(e));
    // The subject's aggregate's events come first; those of aggregates born in the commit follow.
    let last = events[events.length - 1]!;
    if (!isOf(last, sid)) for (const e of events) if (isOf(e, sid)) last = e;
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

  async #expectedHead(subject: string, expected: ExpectedVersion, stream: StreamId): Promise<Head> {
    // An id of the born form must not be created a second time on its own subject: its birth is looked for.
    if ((expected === 'no_stream' || expected === 0) && !birthPlace(stream.aggregateId)) return { version: 0, position: 0 };
    const cached = this.#heads.get(subject);
    if (cached && (expected === 'any' || cached.version === expected)) return cached;
    return this.#head(subject, stream);
  }

  /** Version and own-subject position of an aggregate's newest commit; a born aggregate without commits of its own is at its birth's version, position 0. */
  async #head(subject: string, stream: StreamId): Promise<Head> {
    const m = await this.streams.last(EVENTS_STREAM, subject);
    if (!m) {
      const birth = await this.#birth(stream);
      if (!birth) return { version: 0, position: 0 };
      const head = { version: birth.events[birth.events.length - 1]!.version, position: 0 };
      this.#remember(subject, head);
      return head;
    }
    const version = Number(m.headers?.get(VERSION_HEADER));
    if (!Number.isInteger(version) || version < 1) {
      throw new StkError('STK_ERR_LOG_CORRUPT_RECORD', `record ${m.seq} has no valid ${VERSION_HEADER}`, { position: m.seq, subject });
    }
    const head = { version, position: m.seq };
    this.#remember(subject, head);
    return head;
  }

  async #original(position: number, subject: string, msgId: string): Promise<Appended> {
    const m = await this.streams.at(EVENTS_STREAM, position);
    if (!m) throw new StkError('STK_ERR_LOG_CORRUPT_RECORD', `duplicate append points at missing record ${position}`, { position });
    if (m.subject !== subject) {
      // Msg ids are stream-wide: the same event id used on another aggregate is a client error,
      // not a retry, and must not be reported as success.
      throw new StkError('STK_ERR_VALIDATION', `event id ${msgId} was already used for another aggregate`, { eventId: msgId });
    }
    const r = await this.reveal(this.decode(m));
    const [own, ...born] = commitsOf(r);
    const bornParts = own!.aggregate.id === r.aggregate.id && own!.aggregate.type === r.aggregate.type ? born : [own!, ...born];
    return {
      position: r.position,
      version: r.version,
      events: r.events.filter((e) => isOf(e, r.aggregate)),
      born: bornParts.map((p) => ({ aggregateId: p.aggregate.id, aggregateType: p.aggregate.type, version: p.version, events: p.events })),
      duplicate: true,
    };
  }

  /**
   * The birth of an aggregate born in another's commit: its id names the parent and a time the
   * commit cannot be older than (`src/log/births.ts`), so the parent's subject is scanned from
   * there, and from its start if that finds nothing. Null when the id is not of that form or no
   * such birth is stored. Found births are remembered: a birth never changes.
   */
  async #birth(stream: StreamId): Promise<FoundBirth | null> {
    const place = birthPlace(stream.aggregateId);
    if (!place || !isValidId('aggregateType', place.parentType)) return null;
    const subject = eventSubject(stream);
    const known = this.#births.get(subject);
    if (known) return known;
    const parent = eventSubject({ tenant: stream.tenant, aggregateType: place.parentType, aggregateId: place.parentId });
    const needle = Buffer.from(`"${stream.aggregateId}"`);
    const find = async (o: ScanOptions): Promise<FoundBirth | null> => {
      for await (const m of this.streams.scan(EVENTS_STREAM, { ...o, filter: parent })) {
        // Most of the parent's commits do not name the id at all: a byte search spares decoding them.
        if (Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength).indexOf(needle) < 0) continue;
        const record = this.decode(m);
        const events = record.events.filter((e) => isOf(e, stream));
        if (events.length && events[0]!.version === 1) return { position: record.position, events, record };
      }
      return null;
    };
    const birth = (await find({ fromTime: new Date(place.notBeforeMs) })) ?? (await find({}));
    if (birth) {
      if (this.#births.size >= 10_000) this.#births.delete(this.#births.keys().next().value!);
      this.#births.set(subject, birth);
    }
    return birth;
  }

  #remember(subject: string, head: Head): void {
    const known = this.#heads.get(subject);
    if (known && known.position > head.position) return;
    // The cache only saves a read. Re-inserting keeps the map in order of use, so when it is full
    // the entry dropped is the one unused the longest (one agent of a large fleet, not all of them).
    if (known) this.#heads.delete(subject);
    else if (this.#heads.size >= this.#cacheSize) this.#heads.delete(this.#heads.keys().next().value!);
    this.#heads.set(subject, head);
  }
}

interface FoundBirth {
  /** Stream position of the commit the aggregate was born in. */
  position: number;
  /** The born aggregate's first events. */
  events: EventEnvelope[];
  /** The whole commit. */
  record: LogRecord;
}

function isOf(e: EventEnvelope, s: { aggregateType: string; aggregateId: string } | { type: string; id: string }): boolean {
  return 'aggregateType' in s
    ? e.aggregate.type === s.aggregateType && e.aggregate.id === s.aggregateId
    : e.aggregate.type === s.type && e.aggregate.id === s.id;
}

/** The part of a record that is `stream`'s commit. */
function partOf(r: LogRecord, stream: StreamId): LogRecord | null {
  return commitsOf(r).find((p) => p.aggregate.type === stream.aggregateType && p.aggregate.id === stream.aggregateId) ?? null;
}

/** A delivery of a durable consumer with its decoded record; ack the delivery once the record's effects are stored. */
export interface WorkItem {
  delivery: Delivery;
  record: LogRecord;
}

/** A live, ordered, resumable subscription to records. Iterate it; `stop()` ends the iteration. */
export class Subscription implements AsyncIterable<LogRecord> {
  readonly #log: EventLog;
  readonly #follow: Follow;

  constructor(log: EventLog, follow: Follow) {
    this.#log = log;
    this.#follow = follow;
  }

  /** Position of the last record handed out. */
  get position(): number {
    return this.#follow.position;
  }

  /** Opens the read now rather than on the first iteration, so a failure to open surfaces here. */
  ready(): Promise<void> {
    return this.#follow.ready();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<LogRecord> {
    for await (const m of this.#follow) yield this.#log.decode(m);
  }

  stop(): Promise<void> {
    return this.#follow.stop();
  }
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

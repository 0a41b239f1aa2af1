import { StkError } from '../errors.ts';

export type { Actor, ActorKind, EventEnvelope, NewEvent, StreamId } from '../domain/events.ts';
import type { EventEnvelope, StreamId } from '../domain/events.ts';

/**
 * One stored message of the EVENTS stream: a commit of one or more events of one aggregate (the
 * subject's), written atomically, and possibly the first events of aggregates born in it
 * (`src/log/births.ts`). `raw` is the exact stored body, which the ledger hashes. A reader that
 * cares which aggregate an event belongs to reads the event's own `aggregate`, or splits the
 * record with `commitsOf`.
 */
export interface LogRecord {
  /** Stream sequence of the message: the global position. */
  position: number;
  subject: string;
  tenant: string;
  aggregate: { type: string; id: string };
  /** `Nats-Msg-Id` of the message (the first event's id). */
  msgId: string;
  /** Version of the subject's aggregate after this commit. */
  version: number;
  /** Time the server stored the message. */
  storedAt: Date;
  /** Every event of the commit: the subject's aggregate's first, then those of the aggregates born in it. */
  events: EventEnvelope[];
  raw: Uint8Array;
}

/** Body format version of a record; bumped only with a reader for the old one. */
export const RECORD_FORMAT = 1;
/**
 * Body format of a commit that carries births: the same shape, but events may belong to other
 * aggregates than the subject's. A reader that knew only format 1 would take them for the
 * subject's own, so it refuses such a record instead.
 */
export const RECORD_FORMAT_BIRTHS = 2;

interface RecordBody {
  format: number;
  events: EventEnvelope[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeRecord(events: EventEnvelope[], format: number = RECORD_FORMAT): Uint8Array {
  const body: RecordBody = { format, events };
  return encoder.encode(JSON.stringify(body));
}

/** Decodes a stored body; a body that is not a record of a known format is a corrupt record. */
export function decodeRecordBody(raw: Uint8Array, where: Record<string, unknown>): EventEnvelope[] {
  let body: RecordBody;
  try {
    body = JSON.parse(decoder.decode(raw)) as RecordBody;
  } catch (err) {
    throw new StkError('STK_ERR_LOG_CORRUPT_RECORD', 'event record is not JSON', where, { cause: err });
  }
  if (!body || (body.format !== RECORD_FORMAT && body.format !== RECORD_FORMAT_BIRTHS) || !Array.isArray(body.events) || body.events.length === 0) {
    throw new StkError('STK_ERR_LOG_CORRUPT_RECORD', 'event record has an unknown format', where);
  }
  return body.events;
}

/**
 * Number of event partitions. Tenants map to partitions by `partitionOf`; projector and sealer
 * workers lease partitions (src/partitions), so at most this many workers of one kind share the
 * work. Fixed for an install: changing it would move tenants between partitions while workers run.
 */
export const EVENT_PARTITIONS = 16;

/** Filter for every record of every tenant. */
export const ALL_EVENTS = 'ev.>';

/**
 * The partition of a tenant: FNV-1a (32 bit) of the tenant id modulo P — the hash nats-server's
 * `{{partition(P,n)}}` subject mapping uses for one token, so a mapping in the server and this
 * function agree on where a tenant lives.
 */
export function partitionOf(tenant: string, partitions = EVENT_PARTITIONS): number {
  let h = 0x811c9dc5;
  for (const byte of encoder.encode(tenant)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % partitions;
}

/**
 * NATS subject of an aggregate's records: `ev.<partition>.<tenant>.<aggregateType>.<aggregateId>`.
 * The partition token lets a worker consume exactly its partitions with one server-side filter
 * (nats-server 2.9 consumers take a single filter subject).
 */
export function eventSubject(s: StreamId): string {
  return `ev.${partitionOf(s.tenant)}.${s.tenant}.${s.aggregateType}.${s.aggregateId}`;
}

/** Subject filter for all of a tenant's records. */
export function tenantFilter(tenant: string): string {
  return `ev.${partitionOf(tenant)}.${tenant}.>`;
}

/**
 * Subject filter for every aggregate of one type across all tenants, for a role that keeps a small
 * index of one aggregate type in memory (the ingress's command outbox).
 */
export function aggregateTypeFilter(aggregateType: string): string {
  return `ev.*.*.${aggregateType}.*`;
}

/** Subject filter for all records of one partition. */
export function partitionFilter(partition: number): string {
  return `ev.${partition}.>`;
}

/**
 * A record as one commit per aggregate: the subject's own events first (when it has any), then one
 * part for each aggregate born in it, each with that aggregate, its events, its version and its own
 * subject. A record without births is returned as it is.
 */
export function commitsOf(r: LogRecord): LogRecord[] {
  const events = r.events;
  let mixed = false;
  for (let i = 0; i < events.length && !mixed; i++) {
    const a = events[i]!.aggregate;
    mixed = a.type !== r.aggregate.type || a.id !== r.aggregate.id;
  }
  if (!mixed) return [r];
  const parts = new Map<string, LogRecord>();
  for (const e of events) {
    const key = `${e.aggregate.type}.${e.aggregate.id}`;
    let part = parts.get(key);
    if (!part) {
      const own = e.aggregate.type === r.aggregate.type && e.aggregate.id === r.aggregate.id;
      part = {
        ...r,
        subject: own ? r.subject : eventSubject({ tenant: r.tenant, aggregateType: e.aggregate.type, aggregateId: e.aggregate.id }),
        aggregate: e.aggregate,
        events: [],
      };
      parts.set(key, part);
    }
    part.events.push(e);
    part.version = e.version;
  }
  return [...parts.values()];
}

/** Splits a record subject into its parts; the inverse of eventSubject. */
export function parseEventSubject(subject: string): StreamId & { partition: number } {
  const parts = subject.split('.');
  if (parts.length !== 5 || parts[0] !== 'ev') {
    throw new StkError('STK_ERR_LOG_CORRUPT_RECORD', `not an event subject: ${subject}`, { subject });
  }
  return { partition: Number(parts[1]), tenant: parts[2]!, aggregateType: parts[3]!, aggregateId: parts[4]! };
}

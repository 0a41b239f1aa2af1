import { StkError } from '../errors.ts';

export type ActorKind = 'operator' | 'agent' | 'system';

/** Who caused an event. */
export interface Actor {
  kind: ActorKind;
  id: string;
}

/** Where an event belongs: the tenant and the aggregate. Every part is validated before use. */
export interface StreamId {
  tenant: string;
  aggregateType: string;
  aggregateId: string;
}

/** The stored event, the envelope of DESIGN.md. */
export interface EventEnvelope<T = unknown> {
  id: string;
  type: string;
  tenant: string;
  aggregate: { type: string; id: string };
  /** Position of this event within its aggregate: 1, 2, 3, … with no gaps. */
  version: number;
  /** ISO-8601 time of the append. */
  at: string;
  actor: Actor;
  causationId: string | null;
  correlationId: string | null;
  /** Version of the payload's schema, for upcasting old payloads on read. */
  schema: number;
  data: T;
}

/** An event as a writer proposes it; the log fills in tenant, aggregate, version and defaults. */
export interface NewEvent<T = unknown> {
  /** Event id; generated when omitted. Re-appending the same ids is a no-op (idempotent retry). */
  id?: string;
  type: string;
  data: T;
  /** @defaultValue 1 */
  schema?: number;
  actor?: Actor;
  causationId?: string | null;
  correlationId?: string | null;
  /** Time of the event; the log's clock when omitted. */
  at?: string;
}

/**
 * One stored message of the EVENTS stream: a commit of one or more events of one aggregate,
 * written atomically. `raw` is the exact stored body, which the ledger hashes.
 */
export interface LogRecord {
  /** Stream sequence of the message: the global position. */
  position: number;
  subject: string;
  tenant: string;
  aggregate: { type: string; id: string };
  /** `Nats-Msg-Id` of the message (the first event's id). */
  msgId: string;
  /** Aggregate version after this commit. */
  version: number;
  /** Time the server stored the message. */
  storedAt: Date;
  events: EventEnvelope[];
  raw: Uint8Array;
}

/** Body format version of a record; bumped only with a reader for the old one. */
export const RECORD_FORMAT = 1;

interface RecordBody {
  format: number;
  events: EventEnvelope[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeRecord(events: EventEnvelope[]): Uint8Array {
  const body: RecordBody = { format: RECORD_FORMAT, events };
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
  if (!body || body.format !== RECORD_FORMAT || !Array.isArray(body.events) || body.events.length === 0) {
    throw new StkError('STK_ERR_LOG_CORRUPT_RECORD', 'event record has an unknown format', where);
  }
  return body.events;
}

/** NATS subject of an aggregate's records: `ev.<tenant>.<aggregateType>.<aggregateId>`. */
export function eventSubject(s: StreamId): string {
  return `ev.${s.tenant}.${s.aggregateType}.${s.aggregateId}`;
}

/** Subject filter for all of a tenant's records. */
export function tenantFilter(tenant: string): string {
  return `ev.${tenant}.>`;
}

/** Splits a record subject into its parts; the inverse of eventSubject. */
export function parseEventSubject(subject: string): StreamId {
  const parts = subject.split('.');
  if (parts.length !== 4 || parts[0] !== 'ev') {
    throw new StkError('STK_ERR_LOG_CORRUPT_RECORD', `not an event subject: ${subject}`, { subject });
  }
  return { tenant: parts[1]!, aggregateType: parts[2]!, aggregateId: parts[3]! };
}

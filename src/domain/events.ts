/**
 * The shapes of events, shared by the pure parts (deciders, projections) and the log. This module
 * depends on nothing: a decider or a projection imports its envelope types from here, never from
 * the log's runtime.
 */

export type ActorKind = 'operator' | 'agent' | 'system';

/** Who caused an event. */
export interface Actor {
  kind: ActorKind;
  id: string;
  /** How a user acted: `token:<id>`, `session:<id>` or `sso:<issuer>#<subject>`; absent for others. */
  via?: string;
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
  /**
   * Personal fields of `data`, encrypted at write time (src/privacy): `data` holds placeholders at
   * those paths. Present on stored events; gone once a reader has revealed them.
   */
  sealed?: SealedFields;
  /** Paths of `data` a reader could not reveal because their keys were destroyed (erased). */
  erased?: string[];
}

/**
 * The sealed personal fields of one event: AES-256-GCM over the JSON of `{path: value}` under a
 * key derived from the data keys `keys` (every one of them is needed, so destroying any one
 * shreds the fields).
 */
export interface SealedFields {
  v: 1;
  /** Data key ids, in the order the key is derived from them. */
  keys: string[];
  /** Paths of `data` that hold placeholders. */
  fields: string[];
  /** Nonce, base64url (12 bytes). */
  iv: string;
  /** Ciphertext and tag, base64url. */
  ct: string;
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

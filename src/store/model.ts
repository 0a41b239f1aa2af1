import type { EventEnvelope } from '../domain/events.ts';

/**
 * A read-model document. `seq` is the stream position of the event that created it: it orders
 * lists (newest first) and is the same on every replay, so a rebuild is byte-identical.
 */
export interface Doc {
  id: string;
  seq: number;
  [field: string]: unknown;
}

/** A document an event needs to see, always in the event's own tenant. */
export interface DocRef {
  collection: string;
  id: string;
}

/**
 * What a projection writes. There is deliberately no tenant here: a projection can only write into
 * the tenant of the event it applies, which is what makes a cross-tenant write unrepresentable.
 * `global` entries are the admin indexes (secret lookups, agent → tenant), read only by the
 * store's `admin*` functions.
 */
export type Write = { collection: string; id: string; doc: Doc | null } | { global: string; key: string; value: unknown | null };

/** The documents a projection asked for, as they are before the event. */
export interface Docs {
  get<T extends Doc = Doc>(collection: string, id: string): T | undefined;
}

/** A collection of a model: its documents and the fields that lists can filter on. */
export interface CollectionSpec {
  /** Fields with an index; a list filtered on one of them reads only the matching entries. */
  indexes: readonly string[];
  /** Fields a list can also filter on without an index, by checking the documents it walks. */
  scan?: readonly string[];
  /**
   * Orders a list can be read in besides creation order: a name and the document's value for it (a
   * string compared byte-wise: ISO times, rank digits, names), null for none. Pure, like the rest of
   * a projection, so a rebuild writes the same keys.
   */
  sorts?: Readonly<Record<string, (doc: Doc) => string | null>>;
  /**
   * Documents are written once, under an id never used before, and never read by a projection
   * (the audit trail): the projector keeps no copy of them, which spares a rebuild most of its memory.
   */
  writeOnce?: boolean;
}

/**
 * One read model: pure functions from events to writes. No clock, no I/O: time is `e.at`, order
 * is `position`.
 */
export interface Projection {
  model: string;
  collections: Record<string, CollectionSpec>;
  /** Event types this model reacts to; others are skipped without a read. */
  types: ReadonlySet<string>;
  /** Documents of the event's tenant the event needs to see before `apply`. */
  reads(e: EventEnvelope): DocRef[];
  apply(e: EventEnvelope, docs: Docs, position: number): Write[];
}

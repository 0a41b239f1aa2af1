import type { EventEnvelope } from '../src/domain/events.ts';
import type { CollectionSpec, Doc, DocRef, Docs, Projection, Write } from '../src/store/model.ts';

/** How one event type changes a model: the documents it reads, then a pure function to writes. */
export interface Handler {
  /** @defaultValue the event's own aggregate in the model's main collection */
  reads?: (e: EventEnvelope) => DocRef[];
  apply: (e: EventEnvelope, docs: Docs, position: number) => Write[];
}

/** Builds a Projection from handlers by event type; `main` is the collection of the model's aggregate. */
export function defineProjection(o: { model: string; main: string; collections: Record<string, CollectionSpec>; on: Record<string, Handler> }): Projection {
  const own = (e: EventEnvelope): DocRef[] => [{ collection: o.main, id: e.aggregate.id }];
  return {
    model: o.model,
    collections: o.collections,
    types: new Set(Object.keys(o.on)),
    reads: (e) => (o.on[e.type]?.reads ?? own)(e),
    apply: (e, docs, position) => o.on[e.type]?.apply(e, docs, position) ?? [],
  };
}

/** A write that changes fields of an existing document; nothing when the document is absent. */
export function patch<T extends Doc>(collection: string, doc: T | undefined, changes: Partial<T>): Write[] {
  return doc ? [{ collection, id: doc.id, doc: { ...doc, ...changes } }] : [];
}

/**
 * A per-tenant counts document with `change` applied: the one kept, or — only when the event creates
 * a document it counts (`creates`) — the one `start` makes, which names that first document so
 * readers can tell counts kept since the tenant's first document from counts a model not rebuilt
 * started later (`keptSinceFirst`, src/api/counts.ts). Without counts, an event that changes an
 * older document writes none: that document predates them.
 */
export function tallied<T extends Doc>(docs: Docs, collection: string, id: string, creates: boolean, start: () => T, change: (c: T) => T): Write[] {
  const kept = docs.get<T>(collection, id);
  if (!kept && !creates) return [];
  return [{ collection, id, doc: change(kept ?? start()) }];
}

/** Who did it, as read models show it. */
export function by(e: EventEnvelope): string {
  return `${e.actor.kind}:${e.actor.id}`;
}

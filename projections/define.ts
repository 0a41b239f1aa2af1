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

/** Who did it, as read models show it. */
export function by(e: EventEnvelope): string {
  return `${e.actor.kind}:${e.actor.id}`;
}

import type { EventEnvelope } from '../src/domain/events.ts';
import type { Doc, Projection } from '../src/store/model.ts';

let n = 0;

/** An event as the log would hand it to a projection (tenant `t` unless said). */
export function event(
  type: string,
  aggregate: { type: string; id: string },
  data: unknown,
  o: { tenant?: string; actor?: EventEnvelope['actor']; at?: string } = {},
): EventEnvelope {
  n++;
  return {
    id: `ev${n}`,
    type,
    tenant: o.tenant ?? 't',
    aggregate,
    version: 1,
    at: o.at ?? `2026-01-01T00:00:${String(n % 60).padStart(2, '0')}.000Z`,
    actor: o.actor ?? { kind: 'operator', id: 'admin' },
    causationId: null,
    correlationId: null,
    schema: 1,
    data,
  };
}

/**
 * Folds events through a projection's pure functions and returns the documents by
 * `<tenant>/<collection>/<id>`, and the admin index entries by `<index>/<key>`: what the projector
 * would write, without the storage (the storage has its own tests).
 */
export function run(p: Projection, events: EventEnvelope[]): { docs: Map<string, Doc>; global: Map<string, unknown> } {
  const docs = new Map<string, Doc>();
  const global = new Map<string, unknown>();
  events.forEach((e, i) => {
    if (!p.types.has(e.type)) return;
    const view = { get: <T extends Doc>(c: string, id: string) => docs.get(`${e.tenant}/${c}/${id}`) as T | undefined };
    for (const w of p.apply(e, view, i + 1)) {
      if ('global' in w) {
        if (w.value === null) global.delete(`${w.global}/${w.key}`);
        else global.set(`${w.global}/${w.key}`, w.value);
      } else if (w.doc === null) docs.delete(`${e.tenant}/${w.collection}/${w.id}`);
      else docs.set(`${e.tenant}/${w.collection}/${w.id}`, w.doc);
    }
  });
  return { docs, global };
}

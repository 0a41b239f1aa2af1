import type { EventEnvelope } from '../../src/domain/events.ts';
import type { Doc, Projection } from '../../src/store/model.ts';

export interface AuditDoc extends Doc {
  at: string;
  actorKind: 'operator' | 'agent' | 'system';
  actorId: string;
  /** How a user acted (`token:…`, `session:…`, `sso:…`); absent for everyone else. */
  via?: string;
  /** The event type: what was done. */
  action: string;
  aggregateType: string;
  targetId: string;
  /** `ok` for every recorded change; a command's result carries the agent's outcome. */
  outcome: string;
}

/**
 * The audit trail: one entry per event of the tenant (who, through what, what, when, outcome).
 * Refused requests write no event and therefore no entry here; they are kept in the REFUSALS
 * stream (`src/people/refusals.ts`) and merged into the audit export.
 */
export const auditProjection: Projection = {
  model: 'audit',
  collections: {
    audit: { indexes: ['actorId', 'aggregateType'], scan: ['actorKind', 'action', 'outcome', 'via'], writeOnce: true, sorts: { at: (d) => String(d.at) } },
  },
  // Every type: the set is consulted through `has`, so a proxy that says yes to all is enough.
  types: { has: () => true } as unknown as ReadonlySet<string>,
  reads: () => [],
  apply(e: EventEnvelope, _docs, seq) {
    const outcome = e.type === 'command.completed' ? String((e.data as { outcome?: string }).outcome ?? 'ok') : 'ok';
    const doc: AuditDoc = {
      id: e.id,
      seq,
      at: e.at,
      actorKind: e.actor.kind,
      actorId: e.actor.id,
      ...(e.actor.via ? { via: e.actor.via } : {}),
      action: e.type,
      aggregateType: e.aggregate.type,
      targetId: e.aggregate.id,
      outcome,
    };
    return [{ collection: 'audit', id: e.id, doc }];
  },
};

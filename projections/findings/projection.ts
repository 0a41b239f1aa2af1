import type { Severity } from '../../commands/alerts/events.ts';
import { FindingEvents as E, type FindingObserved, type FindingReported, type FindingState, type FindingStateChanged } from '../../commands/findings/events.ts';
import type { Product } from '../../src/domain/products.ts';
import type { Doc } from '../../src/store/model.ts';
import { by, defineProjection, patch } from '../define.ts';
import { SEVERITY_RANK } from '../hours.ts';

export interface FindingDoc extends Doc {
  agentId: string;
  product: Product;
  title: string;
  severity: Severity;
  subject: string;
  details: Record<string, unknown>;
  state: FindingState;
  observedAt: string;
  reportedAt: string;
  /** The exposure's dedup key, for findings kept one per key across scans and inventories. */
  key: string | null;
  /** When a scan or inventory last saw it, and how many times one did. */
  lastSeenAt: string;
  occurrences: number;
  /** State changes, oldest first, each with its reason. */
  history: Array<{ at: string; by: string; state: FindingState; reason: string }>;
}

export const findingsProjection = defineProjection({
  model: 'findings',
  main: 'findings',
  collections: {
    findings: {
      indexes: ['state', 'severity', 'agentId', 'product'],
      sorts: { reportedAt: (d) => String(d.reportedAt), severity: (d) => SEVERITY_RANK[String(d.severity)] ?? null },
    },
  },
  on: {
    [E.reported]: {
      apply: (e, _docs, seq) => {
        const d = e.data as FindingReported;
        const doc: FindingDoc = {
          id: e.aggregate.id,
          seq,
          agentId: d.agentId,
          product: d.product,
          title: d.title,
          severity: d.severity,
          subject: d.subject,
          details: d.details ?? {},
          state: 'open',
          observedAt: d.observedAt,
          reportedAt: e.at,
          key: d.key ?? null,
          lastSeenAt: d.observedAt,
          occurrences: 1,
          history: [],
        };
        return [{ collection: 'findings', id: doc.id, doc }];
      },
    },
    [E.stateChanged]: {
      apply: (e, docs) => {
        const d = e.data as FindingStateChanged;
        const doc = docs.get<FindingDoc>('findings', e.aggregate.id);
        return patch<FindingDoc>('findings', doc, {
          state: d.state,
          history: [...(doc?.history ?? []), { at: e.at, by: by(e), state: d.state, reason: d.reason }],
        });
      },
    },
    [E.observed]: {
      apply: (e, docs) => {
        const d = e.data as FindingObserved;
        const doc = docs.get<FindingDoc>('findings', e.aggregate.id);
        return patch<FindingDoc>('findings', doc, {
          title: d.title,
          severity: d.severity,
          details: d.details,
          lastSeenAt: d.observedAt,
          occurrences: (doc?.occurrences ?? 1) + 1,
        });
      },
    },
    [E.reopened]: {
      apply: (e, docs) => {
        const d = e.data as FindingObserved;
        const doc = docs.get<FindingDoc>('findings', e.aggregate.id);
        return patch<FindingDoc>('findings', doc, {
          state: 'open',
          title: d.title,
          severity: d.severity,
          details: d.details,
          lastSeenAt: d.observedAt,
          occurrences: (doc?.occurrences ?? 1) + 1,
          history: [...(doc?.history ?? []), { at: e.at, by: by(e), state: 'open', reason: `seen again by ${d.ref}` }],
        });
      },
    },
  },
});

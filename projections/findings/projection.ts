import type { Severity } from '../../commands/alerts/events.ts';
import {
  FINDING_STATES,
  FindingEvents as E,
  type FindingObserved,
  type FindingReported,
  type FindingState,
  type FindingStateChanged,
} from '../../commands/findings/events.ts';
import type { Product } from '../../src/domain/products.ts';
import type { Doc, Docs, Write } from '../../src/store/model.ts';
import type { EventEnvelope } from '../../src/domain/events.ts';
import { by, defineProjection, patch, tallied } from '../define.ts';
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

/**
 * A tenant's findings by state, kept as they are reported and triaged, so an overview reads one
 * document however many findings there are. `firstFinding` is the finding whose report created it:
 * a tenant whose oldest finding is another had findings before a build that added these counts to a
 * model not rebuilt since (readers then count the findings).
 */
export interface FindingCountsDoc extends Doc {
  byState: Record<FindingState, number>;
  firstFinding: string;
}

/** The id of a tenant's `finding-counts` document (one per tenant). */
export const findingCountsId = (tenant: string): string => tenant;

const withCounts = (e: EventEnvelope) => [
  { collection: 'findings', id: e.aggregate.id },
  { collection: 'finding-counts', id: findingCountsId(e.tenant) },
];

/** The tenant's counts with one finding moved from `from` (none: a new one, which may start them) to `to`. */
function moved(e: EventEnvelope, docs: Docs, seq: number, from: FindingState | null, to: FindingState): Write[] {
  if (from === to) return [];
  const id = findingCountsId(e.tenant);
  return tallied<FindingCountsDoc>(
    docs,
    'finding-counts',
    id,
    from === null,
    () => ({ id, seq, byState: Object.fromEntries(FINDING_STATES.map((s) => [s, 0])) as Record<FindingState, number>, firstFinding: e.aggregate.id }),
    (c) => {
      const byState = { ...c.byState, [to]: c.byState[to] + 1 };
      if (from) byState[from] -= 1;
      return { ...c, byState };
    },
  );
}

export const findingsProjection = defineProjection({
  model: 'findings',
  main: 'findings',
  collections: {
    findings: {
      indexes: ['state', 'severity', 'agentId', 'product'],
      sorts: { reportedAt: (d) => String(d.reportedAt), severity: (d) => SEVERITY_RANK[String(d.severity)] ?? null },
    },
    'finding-counts': { indexes: [] },
  },
  on: {
    [E.reported]: {
      reads: withCounts,
      apply: (e, docs, seq) => {
        const before = docs.get<FindingDoc>('findings', e.aggregate.id);
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
        return [{ collection: 'findings', id: doc.id, doc }, ...moved(e, docs, seq, before?.state ?? null, 'open')];
      },
    },
    [E.stateChanged]: {
      reads: withCounts,
      apply: (e, docs, seq) => {
        const d = e.data as FindingStateChanged;
        const doc = docs.get<FindingDoc>('findings', e.aggregate.id);
        if (!doc) return [];
        return [
          ...patch<FindingDoc>('findings', doc, {
            state: d.state,
            history: [...doc.history, { at: e.at, by: by(e), state: d.state, reason: d.reason }],
          }),
          ...moved(e, docs, seq, doc.state, d.state),
        ];
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
      reads: withCounts,
      apply: (e, docs, seq) => {
        const d = e.data as FindingObserved;
        const doc = docs.get<FindingDoc>('findings', e.aggregate.id);
        if (!doc) return [];
        return [
          ...patch<FindingDoc>('findings', doc, {
            state: 'open',
            title: d.title,
            severity: d.severity,
            details: d.details,
            lastSeenAt: d.observedAt,
            occurrences: doc.occurrences + 1,
            history: [...doc.history, { at: e.at, by: by(e), state: 'open', reason: `seen again by ${d.ref}` }],
          }),
          ...moved(e, docs, seq, doc.state, 'open'),
        ];
      },
    },
  },
});

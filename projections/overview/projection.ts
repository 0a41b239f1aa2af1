import { AlertEvents as E, type AlertRaised, SEVERITIES, type Severity } from '../../commands/alerts/events.ts';
import type { Doc } from '../../src/store/model.ts';
import { defineProjection } from '../define.ts';

/** An alert that is not resolved yet, as the all-customers overview counts it. */
export interface OpenAlertDoc extends Doc {
  severity: Severity;
  acked: 'yes' | 'no';
  raisedAt: string;
  title: string;
}

/**
 * One per customer: its alerts counted by state, so an overview reads one document instead of
 * counting a customer's alerts (which grow without bound). `open` counts alerts not resolved
 * (acknowledged or not) by severity; `unacknowledgedBy` those nobody acknowledged yet (status
 * `open`) by severity; `resolved` the resolved ones. The last two came later: a document written
 * before them lacks them until the model is rebuilt.
 */
export interface AlertCountsDoc extends Doc {
  open: Record<Severity, number>;
  unacknowledged: number;
  unacknowledgedBy?: Record<Severity, number>;
  resolved?: number;
}

/** A count taken down by one, never below zero. */
const less = (c: Record<Severity, number>, s: Severity): Record<Severity, number> => ({ ...c, [s]: Math.max(0, (c[s] ?? 0) - 1) });
const more = (c: Record<Severity, number>, s: Severity): Record<Severity, number> => ({ ...c, [s]: (c[s] ?? 0) + 1 });

/** The counters' document id is the tenant's own id (unique across tenants, like every id). */
export const countsDocId = (tenant: string): string => tenant;

/**
 * Lists are newest first by `seq`. Here `seq` runs backwards (a constant minus the position), so
 * the first entry of a list is the OLDEST open alert: the overview reads "oldest unacknowledged"
 * with one seek instead of walking a customer's alerts.
 */
const OLDEST_FIRST = 9_000_000_000_000_000;

const zero = (): Record<Severity, number> => Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;

const reads = (e: { tenant: string; aggregate: { id: string } }) => [
  { collection: 'open-alerts', id: e.aggregate.id },
  { collection: 'alert-counts', id: countsDocId(e.tenant) },
];

/**
 * Counters for the all-customers overview, kept per customer so that a page over 200 customers
 * reads two documents per customer instead of counting their alerts.
 */
export const overviewProjection = defineProjection({
  model: 'overview',
  main: 'open-alerts',
  collections: { 'open-alerts': { indexes: ['severity', 'acked'] }, 'alert-counts': { indexes: [] } },
  on: {
    [E.raised]: {
      reads,
      apply: (e, docs, position) => {
        const d = e.data as AlertRaised;
        const c = docs.get<AlertCountsDoc>('alert-counts', countsDocId(e.tenant)) ?? {
          id: countsDocId(e.tenant),
          seq: position,
          open: zero(),
          unacknowledged: 0,
          unacknowledgedBy: zero(),
          resolved: 0,
        };
        const doc: OpenAlertDoc = { id: e.aggregate.id, seq: OLDEST_FIRST - position, severity: d.severity, acked: 'no', raisedAt: e.at, title: d.title };
        const counts: AlertCountsDoc = {
          ...c,
          open: more(c.open, d.severity),
          unacknowledged: c.unacknowledged + 1,
          // A document from before these counters keeps lacking them (readers then count) until a rebuild.
          ...(c.unacknowledgedBy ? { unacknowledgedBy: more(c.unacknowledgedBy, d.severity) } : {}),
        };
        return [
          { collection: 'open-alerts', id: doc.id, doc },
          { collection: 'alert-counts', id: countsDocId(e.tenant), doc: counts },
        ];
      },
    },
    [E.acknowledged]: {
      reads,
      apply: (e, docs) => {
        const a = docs.get<OpenAlertDoc>('open-alerts', e.aggregate.id);
        const c = docs.get<AlertCountsDoc>('alert-counts', countsDocId(e.tenant));
        if (!a || !c || a.acked === 'yes') return [];
        return [
          { collection: 'open-alerts', id: a.id, doc: { ...a, acked: 'yes' } },
          {
            collection: 'alert-counts',
            id: countsDocId(e.tenant),
            doc: {
              ...c,
              unacknowledged: Math.max(0, c.unacknowledged - 1),
              ...(c.unacknowledgedBy ? { unacknowledgedBy: less(c.unacknowledgedBy, a.severity) } : {}),
            },
          },
        ];
      },
    },
    [E.resolved]: {
      reads,
      apply: (e, docs) => {
        const a = docs.get<OpenAlertDoc>('open-alerts', e.aggregate.id);
        const c = docs.get<AlertCountsDoc>('alert-counts', countsDocId(e.tenant));
        if (!a || !c) return [];
        const counts: AlertCountsDoc = {
          ...c,
          open: less(c.open, a.severity),
          unacknowledged: a.acked === 'no' ? Math.max(0, c.unacknowledged - 1) : c.unacknowledged,
          ...(c.unacknowledgedBy && c.resolved !== undefined
            ? { unacknowledgedBy: a.acked === 'no' ? less(c.unacknowledgedBy, a.severity) : c.unacknowledgedBy, resolved: c.resolved + 1 }
            : {}),
        };
        return [
          { collection: 'open-alerts', id: a.id, doc: null },
          { collection: 'alert-counts', id: countsDocId(e.tenant), doc: counts },
        ];
      },
    },
  },
});

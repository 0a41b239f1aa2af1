import { AlertEvents as E, type AlertRaised, type Severity } from '../../commands/alerts/events.ts';
import { IncidentEvents } from '../../commands/incidents/events.ts';
import type { Product } from '../../src/domain/products.ts';
import type { Doc } from '../../src/store/model.ts';
import { by, defineProjection, patch } from '../define.ts';

export interface AlertDoc extends Doc {
  agentId: string;
  product: Product | 'core';
  rule: string;
  severity: Severity;
  title: string;
  details: Record<string, unknown>;
  status: 'open' | 'acknowledged' | 'resolved';
  observedAt: string;
  raisedAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  resolvedAt: string | null;
  resolvedBy: string | null;
  resolution: string | null;
  /** The incident it was linked to, if any. */
  incidentId: string | null;
}

const alertIds = (e: { data: unknown }): string[] => (e.data as { alertIds?: string[] }).alertIds ?? [];

/**
 * Alerts. Incident events link alerts: the alert is read in the incident's tenant, so an alert id
 * of another tenant finds nothing and links nothing.
 */
export const alertsProjection = defineProjection({
  model: 'alerts',
  main: 'alerts',
  collections: { alerts: { indexes: ['status', 'severity', 'agentId', 'incidentId', 'product'] } },
  on: {
    [E.raised]: {
      apply: (e, _docs, seq) => {
        const d = e.data as AlertRaised;
        const doc: AlertDoc = {
          id: e.aggregate.id,
          seq,
          agentId: d.agentId,
          product: d.product ?? 'core',
          rule: d.rule,
          severity: d.severity,
          title: d.title,
          details: d.details ?? {},
          status: 'open',
          observedAt: d.observedAt,
          raisedAt: e.at,
          acknowledgedAt: null,
          acknowledgedBy: null,
          resolvedAt: null,
          resolvedBy: null,
          resolution: null,
          incidentId: null,
        };
        return [{ collection: 'alerts', id: doc.id, doc }];
      },
    },
    [E.acknowledged]: {
      apply: (e, docs) =>
        patch<AlertDoc>('alerts', docs.get('alerts', e.aggregate.id), { status: 'acknowledged', acknowledgedAt: e.at, acknowledgedBy: by(e) }),
    },
    [E.resolved]: {
      apply: (e, docs) =>
        patch<AlertDoc>('alerts', docs.get('alerts', e.aggregate.id), {
          status: 'resolved',
          resolvedAt: e.at,
          resolvedBy: by(e),
          resolution: (e.data as { reason: string }).reason,
        }),
    },
    [IncidentEvents.opened]: {
      reads: (e) => alertIds(e).map((id) => ({ collection: 'alerts', id })),
      apply: (e, docs) => alertIds(e).flatMap((id) => patch<AlertDoc>('alerts', docs.get('alerts', id), { incidentId: e.aggregate.id })),
    },
    [IncidentEvents.alertsLinked]: {
      reads: (e) => alertIds(e).map((id) => ({ collection: 'alerts', id })),
      apply: (e, docs) => alertIds(e).flatMap((id) => patch<AlertDoc>('alerts', docs.get('alerts', id), { incidentId: e.aggregate.id })),
    },
  },
});

import { AlertEvents as E, type AlertOccurred, type AlertRaised, type EvidenceRef, type Severity } from '../../commands/alerts/events.ts';
import { IncidentEvents } from '../../commands/incidents/events.ts';
import type { Product } from '../../src/domain/products.ts';
import type { Doc } from '../../src/store/model.ts';
import { by, defineProjection, patch } from '../define.ts';
import { hourId, hourStart, SEVERITY_RANK, tally } from '../hours.ts';

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
  /** Occurrences: matches of a detector alert's group (1 for an alert an agent reported). */
  count: number;
  firstSeenAt: string;
  lastSeenAt: string;
  /** Detector alerts: the host's name, the rule's version and ATT&CK ids, the group. Null or empty otherwise. */
  hostname: string | null;
  ruleVersion: string | null;
  overrideVersion: string | null;
  attack: string[];
  tags: string[];
  logsource: string | null;
  groupKey: string | null;
  /** The first MAX_ALERT_REFS matching messages (TELEMETRY or EVENTS sequences); every one is in the alert's events. */
  refs: EvidenceRef[];
}

/** Matching messages an alert document lists; its events keep all of them. */
export const MAX_ALERT_REFS = 100;

/** Alerts raised in one hour (by the time Stockade received them): by severity, rule and agent. */
export interface AlertHourDoc extends Doc {
  hour: string;
  low: number;
  medium: number;
  high: number;
  critical: number;
  rules: Record<string, number>;
  agents: Record<string, number>;
}

const alertIds = (e: { data: unknown }): string[] => (e.data as { alertIds?: string[] }).alertIds ?? [];

/**
 * Alerts. Incident events link alerts: the alert is read in the incident's tenant, so an alert id
 * of another tenant finds nothing and links nothing.
 */
export const alertsProjection = defineProjection({
  model: 'alerts',
  main: 'alerts',
  collections: {
    alerts: {
      indexes: ['status', 'severity', 'agentId', 'incidentId', 'product'],
      sorts: {
        raisedAt: (d) => String(d.raisedAt),
        severity: (d) => SEVERITY_RANK[String(d.severity)] ?? null,
        status: (d) => String(d.status),
      },
    },
    'alert-hours': { indexes: [] },
  },
  on: {
    [E.raised]: {
      reads: (e) => [
        { collection: 'alerts', id: e.aggregate.id },
        { collection: 'alert-hours', id: hourId(e.at) },
      ],
      apply: (e, docs, seq) => {
        const d = e.data as AlertRaised;
        const det = d.detection;
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
          count: det ? det.refs.length : 1,
          firstSeenAt: det?.firstSeenAt ?? d.observedAt,
          lastSeenAt: det?.lastSeenAt ?? d.observedAt,
          hostname: det?.hostname ?? null,
          ruleVersion: det?.ruleVersion ?? null,
          overrideVersion: det?.overrideVersion ?? null,
          attack: det?.attack ?? [],
          tags: det?.tags ?? [],
          logsource: det?.logsource ?? null,
          groupKey: det?.groupKey ?? null,
          refs: (det?.refs ?? []).slice(0, MAX_ALERT_REFS),
        };
        const id = hourId(e.at);
        const h = docs.get<AlertHourDoc>('alert-hours', id) ?? { id, seq, hour: hourStart(id), low: 0, medium: 0, high: 0, critical: 0, rules: {}, agents: {} };
        const hour: AlertHourDoc = { ...h, [d.severity]: h[d.severity] + 1, rules: tally(h.rules, d.rule), agents: tally(h.agents, d.agentId) };
        return [
          { collection: 'alerts', id: doc.id, doc },
          { collection: 'alert-hours', id, doc: hour },
        ];
      },
    },
    [E.occurred]: {
      apply: (e, docs) => {
        const a = docs.get<AlertDoc>('alerts', e.aggregate.id);
        if (!a) return [];
        const d = e.data as AlertOccurred;
        const room = Math.max(0, MAX_ALERT_REFS - a.refs.length);
        const refs = room
          ? [...a.refs, ...d.seqs.slice(0, room).map((seq, i) => ({ stream: d.stream, seq, ...(d.items?.[i] !== undefined ? { item: d.items[i] } : {}) }))]
          : a.refs;
        return patch<AlertDoc>('alerts', a, { count: d.count, lastSeenAt: [a.lastSeenAt, d.lastSeenAt].sort()[1]!, refs });
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

import type { Severity } from '../../commands/alerts/events.ts';
import {
  IncidentEvents as E,
  type IncidentCommented,
  type IncidentOpened,
  type IncidentReopened,
  type IncidentRetitled,
  type IncidentSeverityChanged,
  type IncidentStatus,
} from '../../commands/incidents/events.ts';
import type { Doc } from '../../src/store/model.ts';
import { by, defineProjection, patch } from '../define.ts';
import { SEVERITY_RANK } from '../hours.ts';

export interface IncidentDoc extends Doc {
  title: string;
  severity: Severity;
  status: IncidentStatus | 'closed';
  assignee: string | null;
  alertIds: string[];
  openedAt: string;
  openedBy: string;
  updatedAt: string;
  closedAt: string | null;
  closeReason: string | null;
  /** What happened to it, oldest first. */
  timeline: Array<{ at: string; by: string; change: string }>;
  /** Notes of the people working on it, oldest first. */
  comments: Array<{ at: string; by: string; text: string }>;
}

function step(doc: IncidentDoc | undefined, e: { at: string }, who: string, change: string, fields: Partial<IncidentDoc>) {
  return patch<IncidentDoc>('incidents', doc, { ...fields, updatedAt: e.at, timeline: [...(doc?.timeline ?? []), { at: e.at, by: who, change }] });
}

export const incidentsProjection = defineProjection({
  model: 'incidents',
  main: 'incidents',
  collections: {
    incidents: {
      indexes: ['status', 'severity', 'assignee'],
      sorts: { openedAt: (d) => String(d.openedAt), updatedAt: (d) => String(d.updatedAt), severity: (d) => SEVERITY_RANK[String(d.severity)] ?? null },
    },
  },
  on: {
    [E.opened]: {
      apply: (e, _docs, seq) => {
        const d = e.data as IncidentOpened;
        const doc: IncidentDoc = {
          id: e.aggregate.id,
          seq,
          title: d.title,
          severity: d.severity,
          status: 'open',
          assignee: null,
          alertIds: d.alertIds,
          openedAt: e.at,
          openedBy: by(e),
          updatedAt: e.at,
          closedAt: null,
          closeReason: null,
          timeline: [{ at: e.at, by: by(e), change: 'opened' }],
          comments: [],
        };
        return [{ collection: 'incidents', id: doc.id, doc }];
      },
    },
    [E.assigned]: {
      apply: (e, docs) => {
        const a = (e.data as { assignee: string }).assignee;
        return step(docs.get('incidents', e.aggregate.id), e, by(e), `assigned to ${a}`, { assignee: a });
      },
    },
    [E.statusChanged]: {
      apply: (e, docs) => {
        const s = (e.data as { status: IncidentStatus }).status;
        return step(docs.get('incidents', e.aggregate.id), e, by(e), `status ${s}`, { status: s });
      },
    },
    [E.alertsLinked]: {
      apply: (e, docs) => {
        const doc = docs.get<IncidentDoc>('incidents', e.aggregate.id);
        const ids = (e.data as { alertIds: string[] }).alertIds;
        return step(doc, e, by(e), `linked ${ids.length} alert(s)`, { alertIds: [...(doc?.alertIds ?? []), ...ids] });
      },
    },
    [E.unassigned]: {
      apply: (e, docs) => step(docs.get('incidents', e.aggregate.id), e, by(e), 'unassigned', { assignee: null }),
    },
    [E.retitled]: {
      apply: (e, docs) => {
        const t = (e.data as IncidentRetitled).title;
        return step(docs.get('incidents', e.aggregate.id), e, by(e), `title changed to "${t}"`, { title: t });
      },
    },
    [E.severityChanged]: {
      apply: (e, docs) => {
        const s = (e.data as IncidentSeverityChanged).severity;
        return step(docs.get('incidents', e.aggregate.id), e, by(e), `severity ${s}`, { severity: s });
      },
    },
    [E.commented]: {
      apply: (e, docs) => {
        const doc = docs.get<IncidentDoc>('incidents', e.aggregate.id);
        const text = (e.data as IncidentCommented).text;
        return step(doc, e, by(e), 'commented', { comments: [...(doc?.comments ?? []), { at: e.at, by: by(e), text }] });
      },
    },
    [E.reopened]: {
      apply: (e, docs) => {
        const r = (e.data as IncidentReopened).reason;
        return step(docs.get('incidents', e.aggregate.id), e, by(e), `reopened: ${r}`, { status: 'open', closedAt: null, closeReason: null });
      },
    },
    [E.closed]: {
      apply: (e, docs) => {
        const r = (e.data as { reason: string }).reason;
        return step(docs.get('incidents', e.aggregate.id), e, by(e), 'closed', { status: 'closed', closedAt: e.at, closeReason: r });
      },
    },
  },
});

import { accept, invalidTransition, notFound, refuse, type Decider } from '../../src/domain/decider.ts';
import type { NewEvent } from '../../src/domain/events.ts';
import type { Severity } from '../alerts/events.ts';
import { INCIDENT, IncidentEvents as E, type IncidentOpened, type IncidentStatus } from './events.ts';

export interface IncidentState {
  exists: boolean;
  status: IncidentStatus | 'closed';
  assignee: string | null;
  alertIds: string[];
  title: string;
  severity: Severity;
}

/** Alert ids are checked to exist in the tenant before the command reaches the decider. */
export type IncidentCommand =
  | { kind: 'open'; incident: IncidentOpened }
  | { kind: 'update'; status?: IncidentStatus; assignee?: string | null; title?: string; severity?: Severity }
  | { kind: 'link-alerts'; alertIds: string[] }
  | { kind: 'close'; reason: string }
  | { kind: 'comment'; text: string }
  | { kind: 'reopen'; reason: string };

export const incidentDecider: Decider<IncidentState, IncidentCommand> = {
  aggregateType: INCIDENT,
  initialState: () => ({ exists: false, status: 'open', assignee: null, alertIds: [], title: '', severity: 'low' }),
  evolve(s, e) {
    const d = e.data as { alertIds: string[]; assignee: string | null; status: IncidentState['status']; title: string; severity: Severity };
    switch (e.type) {
      case E.opened:
        return { exists: true, status: 'open', assignee: null, alertIds: [...d.alertIds], title: d.title, severity: d.severity };
      case E.assigned:
        return { ...s, assignee: d.assignee };
      case E.unassigned:
        return { ...s, assignee: null };
      case E.retitled:
        return { ...s, title: d.title };
      case E.severityChanged:
        return { ...s, severity: d.severity };
      case E.reopened:
        return { ...s, status: 'open' };
      case E.statusChanged:
        return { ...s, status: d.status };
      case E.alertsLinked:
        return { ...s, alertIds: [...s.alertIds, ...d.alertIds] };
      case E.closed:
        return { ...s, status: 'closed' };
      default:
        return s;
    }
  },
  decide(c, s) {
    if (c.kind === 'open') {
      if (s.exists) return refuse(invalidTransition('incident', s.status, 'open it again'));
      return accept({ type: E.opened, data: { ...c.incident, alertIds: [...new Set(c.incident.alertIds)] } });
    }
    if (!s.exists) return refuse(notFound('incident', ''));
    // Notes go on after a closure (a post-mortem); reopening is the way back to work.
    if (c.kind === 'comment') return accept({ type: E.commented, data: { text: c.text } });
    if (c.kind === 'reopen') {
      if (s.status !== 'closed') return refuse(invalidTransition('incident', s.status, 'reopen it'));
      return accept({ type: E.reopened, data: { reason: c.reason } });
    }
    if (s.status === 'closed') return refuse(invalidTransition('incident', 'closed', c.kind === 'close' ? 'close' : 'change'));
    if (c.kind === 'close') return accept({ type: E.closed, data: { reason: c.reason } });
    if (c.kind === 'link-alerts') {
      const fresh = [...new Set(c.alertIds)].filter((id) => !s.alertIds.includes(id));
      return fresh.length ? accept({ type: E.alertsLinked, data: { alertIds: fresh } }) : accept();
    }
    const events: NewEvent[] = [];
    if (c.title !== undefined && c.title !== s.title) events.push({ type: E.retitled, data: { title: c.title } });
    if (c.severity !== undefined && c.severity !== s.severity) events.push({ type: E.severityChanged, data: { severity: c.severity } });
    if (c.assignee === null && s.assignee !== null) events.push({ type: E.unassigned, data: {} });
    else if (c.assignee !== undefined && c.assignee !== null && c.assignee !== s.assignee) events.push({ type: E.assigned, data: { assignee: c.assignee } });
    if (c.status !== undefined && c.status !== s.status) events.push({ type: E.statusChanged, data: { status: c.status } });
    return accept(...events);
  },
};

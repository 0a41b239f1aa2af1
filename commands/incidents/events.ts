import type { Severity } from '../alerts/events.ts';
import { personSubject, TENANT_SUBJECT, type PersonalFields } from '../../src/domain/personal.ts';

/** Incidents: aggregate `incident`, opened by an operator, from alerts or by hand. */
export const INCIDENT = 'incident';

export const IncidentEvents = {
  opened: 'incident.opened',
  assigned: 'incident.assigned',
  statusChanged: 'incident.status-changed',
  alertsLinked: 'incident.alerts-linked',
  closed: 'incident.closed',
  /** The assignee was cleared: nobody works on it. */
  unassigned: 'incident.unassigned',
  retitled: 'incident.retitled',
  severityChanged: 'incident.severity-changed',
  commented: 'incident.commented',
  /** A closed incident is open again (new evidence, a wrong closure). */
  reopened: 'incident.reopened',
} as const;

/** Working states; `closed` is reached only by closing, with a reason. */
export const INCIDENT_STATUSES = ['open', 'investigating', 'contained', 'resolved'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export interface IncidentOpened {
  title: string;
  severity: Severity;
  alertIds: string[];
}
export interface IncidentAssigned {
  assignee: string;
}
export interface IncidentStatusChanged {
  status: IncidentStatus;
}
export interface IncidentAlertsLinked {
  alertIds: string[];
}
export interface IncidentClosed {
  reason: string;
}
export interface IncidentRetitled {
  title: string;
}
export interface IncidentSeverityChanged {
  severity: Severity;
}
export interface IncidentCommented {
  text: string;
}
export interface IncidentReopened {
  reason: string;
}

/** Incident text is the customer's; an assignee is a person. */
export const IncidentPersonal: PersonalFields = {
  [IncidentEvents.opened]: { fields: ['title'], subjects: () => [TENANT_SUBJECT] },
  [IncidentEvents.assigned]: { fields: ['assignee'], subjects: (e) => [personSubject((e.data as IncidentAssigned).assignee)] },
  [IncidentEvents.closed]: { fields: ['reason'], subjects: () => [TENANT_SUBJECT] },
  [IncidentEvents.retitled]: { fields: ['title'], subjects: () => [TENANT_SUBJECT] },
  [IncidentEvents.commented]: { fields: ['text'], subjects: () => [TENANT_SUBJECT] },
  [IncidentEvents.reopened]: { fields: ['reason'], subjects: () => [TENANT_SUBJECT] },
};

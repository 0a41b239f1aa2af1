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

/** Incident text is the customer's; an assignee is a person. */
export const IncidentPersonal: PersonalFields = {
  [IncidentEvents.opened]: { fields: ['title'], subjects: () => [TENANT_SUBJECT] },
  [IncidentEvents.assigned]: { fields: ['assignee'], subjects: (e) => [personSubject((e.data as IncidentAssigned).assignee)] },
  [IncidentEvents.closed]: { fields: ['reason'], subjects: () => [TENANT_SUBJECT] },
};

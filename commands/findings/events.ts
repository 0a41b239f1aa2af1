import type { Product } from '../../src/domain/products.ts';
import type { Severity } from '../alerts/events.ts';
import { accountSubject, agentSubject, TENANT_SUBJECT, subjectsOf, type PersonalFields } from '../../src/domain/personal.ts';
import { ACCOUNT_DETAIL_FIELDS } from '../alerts/events.ts';

/** Findings: aggregate `finding`, reported by agents (vulnerabilities, exposures, missing patches). */
export const FINDING = 'finding';

export const FindingEvents = {
  reported: 'finding.reported',
  stateChanged: 'finding.state-changed',
} as const;

/** `open` until triaged; triage always carries a reason. */
export const FINDING_STATES = ['open', 'accepted-risk', 'remediated', 'false-positive'] as const;
export type FindingState = (typeof FINDING_STATES)[number];

export interface FindingReported {
  agentId: string;
  product: Product;
  title: string;
  severity: Severity;
  /** What is affected (package, port, account), as the agent names it. */
  subject: string;
  details?: Record<string, unknown>;
  observedAt: string;
}
export interface FindingStateChanged {
  state: Exclude<FindingState, 'open'>;
  reason: string;
}

/** A finding is about its machine, and about any account its details name. */
export const FindingPersonal: PersonalFields = {
  [FindingEvents.reported]: {
    fields: ['title', 'subject', 'details'],
    subjects: (e) => {
      const d = e.data as FindingReported;
      return [agentSubject(d.agentId), ...subjectsOf(d.details, ACCOUNT_DETAIL_FIELDS, accountSubject)];
    },
  },
  [FindingEvents.stateChanged]: { fields: ['reason'], subjects: () => [TENANT_SUBJECT] },
};

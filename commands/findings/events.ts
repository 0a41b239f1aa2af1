import type { Product } from '../../src/domain/products.ts';
import type { Severity } from '../alerts/events.ts';
import { accountSubject, agentSubject, TENANT_SUBJECT, subjectsOf, type PersonalFields } from '../../src/domain/personal.ts';
import { ACCOUNT_DETAIL_FIELDS } from '../alerts/events.ts';

/**
 * Findings: aggregate `finding`, reported by agents (vulnerabilities, exposures, missing patches).
 * A finding with a dedup `key` (a scan exposure, a missing security update) is one aggregate per
 * key and tenant across runs: seen again, it is `observed`; no longer seen, it is remediated by
 * the system; seen again after that, it is `reopened`.
 */
export const FINDING = 'finding';

export const FindingEvents = {
  reported: 'finding.reported',
  stateChanged: 'finding.state-changed',
  observed: 'finding.observed',
  reopened: 'finding.reopened',
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
  /** The exposure's dedup key (`asm:…`, `patch:…`), for findings kept one per key across runs. */
  key?: string;
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
/** Seen again (or, for `reopened`, seen again after it was remediated): the facts as they are now. */
export interface FindingObserved {
  observedAt: string;
  /** What saw it: a scan run id, or the time of a host inventory. */
  ref: string;
  title: string;
  severity: Severity;
  details: Record<string, unknown>;
}

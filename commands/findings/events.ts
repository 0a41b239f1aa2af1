import type { Product } from '../../src/domain/products.ts';
import type { Severity } from '../alerts/events.ts';

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

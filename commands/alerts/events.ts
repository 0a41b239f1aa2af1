import type { Product } from '../../src/domain/products.ts';
import { accountSubject, agentSubject, TENANT_SUBJECT, subjectsOf, type PersonalFields } from '../../src/domain/personal.ts';

/** Alerts: aggregate `alert`, raised from agent reports. */
export const ALERT = 'alert';

export const AlertEvents = {
  raised: 'alert.raised',
  acknowledged: 'alert.acknowledged',
  resolved: 'alert.resolved',
} as const;

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface AlertRaised {
  agentId: string;
  /** The product that produced it; null for core (agent health) alerts. */
  product: Product | null;
  rule: string;
  severity: Severity;
  title: string;
  details?: Record<string, unknown>;
  /** When the agent observed it (the report's `at`). */
  observedAt: string;
}
export interface AlertResolved {
  reason: string;
}

/** Fields of an alert's or finding's `details` that name an account, and so a subject of their own. */
export const ACCOUNT_DETAIL_FIELDS = ['account', 'user', 'targetUser'] as const;

/** An alert is about its machine, and about any account its details name. */
export const AlertPersonal: PersonalFields = {
  [AlertEvents.raised]: {
    fields: ['title', 'details'],
    subjects: (e) => {
      const d = e.data as AlertRaised;
      return [agentSubject(d.agentId), ...subjectsOf(d.details, ACCOUNT_DETAIL_FIELDS, accountSubject)];
    },
  },
  [AlertEvents.resolved]: { fields: ['reason'], subjects: () => [TENANT_SUBJECT] },
};

import type { Product } from '../../src/domain/products.ts';

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

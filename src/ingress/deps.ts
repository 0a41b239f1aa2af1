import type { ConsistencyTokens } from '../api/consistency.ts';
import type { EvidenceStore } from '../evidence/store.ts';
import type { EventLog } from '../log/mod.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { Issuer } from '../pki/issuer.ts';
import type { TenantGate } from './identity.ts';
import type { AgentHeads } from './agents.ts';
import type { AgentCertificates } from './certificates.ts';
import type { AgentCommandOutbox } from './outbox.ts';
import type { SettingsView } from './settings-view.ts';
import type { Waiters } from './waiters.ts';

/** Everything the ingress's routes use. */
export interface IngressDeps {
  log: EventLog;
  /** The install's CA behind its issuing threads. */
  issuer: Issuer;
  tenants: TenantGate;
  /** Which certificate of each agent may talk for it (renewals retire the one they replace). */
  certificates: AgentCertificates;
  outbox: AgentCommandOutbox;
  /** Collection settings of tenants and agents (`GET /agent/v1/config`). */
  settings: SettingsView;
  /** The agents of recent requests; told of the agent's own writes. */
  agents?: AgentHeads;
  /** Agents holding a long-poll for their commands. */
  waiters?: Waiters;
  /** Long-polls held at once; past it a poll is answered at once. @defaultValue 100000 */
  maxWaiting?: number;
  /** Connections open at once; more are refused. @defaultValue Node's (no limit) */
  maxConnections?: number;
  /** `refusals`: only requests answered 400 or above are logged (one line each); `all`: every request, received and answered. */
  accessLog: 'all' | 'refusals';
  /** Where uploaded evidence bytes go (one object store bucket per tenant). */
  evidence: EvidenceStore;
  /** Largest evidence upload. */
  evidenceMaxBytes: number;
  logger: Logger;
  metrics?: Metrics;
  /** Validity of issued agent certificates. @defaultValue 30 */
  certValidityDays?: number;
  /** Enrollments allowed per source address per window. @defaultValue 30 per 60000 ms */
  enrollRateLimit?: { max: number; timeWindowMs: number };
  /** Clock for certificate validity. */
  now?: () => Date;
  /** Read-your-writes tokens for what a report wrote. */
  tokens: ConsistencyTokens;
  /** Whether agents should be sent here (`GET /healthz`: 200, or 503 while the views are behind). @defaultValue always */
  ready?: () => Promise<{ ok: boolean }>;
  /** Refuses reports with 503 + Retry-After while sealing or projection is too far behind. */
  backpressure?: { admit(): Promise<void> };
}

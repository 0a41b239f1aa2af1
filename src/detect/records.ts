/**
 * The items rules read. Telemetry items are the agent's (HELPERS.md, fixed there); the records
 * below are what the detector derives from events for the `product: stockade` logsources, so
 * a rule can watch agent health, certificates and isolation the same way it watches processes.
 */

import type { AccountChangeItem, ConnectionItem, ProcessItem } from '../telemetry/types.ts';

export type { AccountChangeItem, ConnectionItem, ProcessItem };

/** Values of the agent-health record's `event` (Sigma field `Event`). */
export const AGENT_HEALTH_EVENTS = ['started', 'stopped', 'silent', 'resumed', 'clock_skew', 'restarted_unexpectedly'] as const;
export type AgentHealthEvent = (typeof AGENT_HEALTH_EVENTS)[number];

/**
 * Something about the agent itself: it started or stopped cleanly, went silent (no report for
 * `silentSeconds`), was heard from again (`resumed`), its clock is off by `skewSeconds` (agent
 * minus server), or it started again without having said it stopped.
 */
export interface AgentHealthRecord {
  kind: 'agent-health';
  event: AgentHealthEvent;
  skewSeconds?: number;
  silentSeconds?: number;
  agentVersion?: string;
}

/** A certificate the platform watches: an agent's client certificate, the ingress's, the CA, or a scanned endpoint's. */
export interface CertificateRecord {
  kind: 'certificate';
  subject: string;
  issuer: string;
  serialNumber: string;
  notAfter: string;
  /** Whole days from the record's time to `notAfter`, rounded down; negative once expired. */
  daysToExpiry: number;
  selfSigned: boolean;
  purpose: 'agent-client' | 'ingress-server' | 'ca' | 'endpoint';
  host?: string;
  port?: number;
}

/** Host isolation changed state (from the isolate-host / release-host command results). */
export interface HostIsolationRecord {
  kind: 'host-isolation';
  state: 'isolated' | 'released';
  actor?: string;
  reason?: string;
}

export type DetectItem = ProcessItem | ConnectionItem | AccountChangeItem | AgentHealthRecord | CertificateRecord | HostIsolationRecord;

const DAY_MS = 86_400_000;

/** Builds a certificate record, with `daysToExpiry` counted from `nowMs` (time comes in as data). */
export function certificateRecord(cert: Omit<CertificateRecord, 'kind' | 'daysToExpiry'>, nowMs: number): CertificateRecord {
  const notAfterMs = Date.parse(cert.notAfter);
  const daysToExpiry = Number.isFinite(notAfterMs) ? Math.floor((notAfterMs - nowMs) / DAY_MS) : Number.NaN;
  return { kind: 'certificate', ...cert, daysToExpiry };
}

/**
 * The items rules read. Telemetry items are the agent's (HELPERS.md, fixed there); the records
 * below are what the detector derives from events for the `product: stockade` logsources, so
 * a rule can watch agent health, certificates and isolation the same way it watches processes.
 */

/** A process seen for the first time (telemetry). */
export interface ProcessItem {
  kind: 'process';
  pid: number;
  ppid: number;
  uid: number;
  user: string;
  exe: string;
  name: string;
  sha256: string | null;
  cmdline: string;
  cmdlineTruncated: boolean;
  startedAt: string;
  cwd: string | null;
  parentExe: string | null;
  parentName: string | null;
  parentCmdline: string | null;
}

/** A connection or listener seen for the first time (telemetry). */
export interface ConnectionItem {
  kind: 'connection';
  protocol: 'tcp' | 'tcp6' | 'udp' | 'udp6';
  state: string;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  pid: number | null;
  exe: string | null;
  user: string | null;
}

/**
 * A difference between two identity snapshots (telemetry). The built-in directory rules expect
 * `details` of an attribute change as `{ attribute, added?: string[], removed?: string[] }`
 * (`servicePrincipalName` values, `userAccountControl` flag names such as `DONT_REQ_PREAUTH`), and
 * of a new account its attributes by name (`{ servicePrincipalName: [...], userAccountControl: [...] }`).
 */
export interface AccountChangeItem {
  kind: 'account-change';
  source: 'local' | 'directory';
  change: 'added' | 'removed' | 'modified' | 'group-member-added' | 'group-member-removed' | 'key-added' | 'key-removed' | 'sudo-added' | 'sudo-removed';
  account: string;
  uid: number | null;
  group: string | null;
  privileged: boolean;
  details: Record<string, unknown>;
}

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

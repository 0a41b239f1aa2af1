import { agentSubject, type PersonalFields } from '../../src/domain/personal.ts';
/** Agents: aggregate `agent`, id = the server-chosen agent id (the certificate's CN). */
export const AGENT = 'agent';

export const AgentEvents = {
  enrolled: 'agent.enrolled',
  /** A heartbeat, with the inventory when the agent sends one. */
  heartbeat: 'agent.heartbeat',
  /** Something about the agent itself: started, stopped, its clock skew, its spool (agent-health reports). */
  health: 'agent.health',
  certificateRenewed: 'agent.certificate-renewed',
  revoked: 'agent.revoked',
} as const;

export interface AgentEnrolled {
  hostname: string;
  os: string;
  agentVersion: string;
  /** SHA-256 of the issued certificate (hex) and its expiry. */
  certFingerprint: string;
  certNotAfter: string;
  /** The machine fingerprint the agent sent (hex SHA-256 of its machine id and the install's CA); absent for older agents. */
  machine?: string;
}
export interface AgentHeartbeat {
  inventory?: Record<string, unknown> | null;
  /** The agent's clock when it sent the heartbeat (the report event's `at`, put here by the ingress). */
  agentTime?: string;
  /** When the agent process started: a new value is a new start (the detector's `started`, `restarted_unexpectedly`). */
  agentStartedAt?: string;
  /** The agent announces a clean stop. */
  stopping?: boolean;
  agentVersion?: string;
}
/** What an agent-health report says; the agent's own clock is in `observedAt`. */
export interface AgentHealth {
  event: 'started' | 'stopped' | 'clock_skew' | 'spool';
  observedAt: string;
  agentVersion?: string;
  /** Agent clock minus server clock. */
  skewSeconds?: number;
  spool?: { pendingBatches: number; pendingItems: number; diskBytes: number; droppedBatches: number; droppedItems: number };
}
export interface CertificateRenewed {
  certFingerprint: string;
  certNotAfter: string;
  /** The fingerprint of the certificate that asked for the renewal (retired once the new one is used); absent in older events. */
  replaces?: string;
}
export interface AgentRevoked {
  reason: string;
}

/** What an agent says about its machine belongs to the machine (`agent:<agentId>`). */
export const AgentPersonal: PersonalFields = {
  [AgentEvents.enrolled]: { fields: ['hostname'], subjects: (e) => [agentSubject(e.aggregate.id)] },
  [AgentEvents.heartbeat]: { fields: ['inventory'], subjects: (e) => [agentSubject(e.aggregate.id)] },
  [AgentEvents.revoked]: { fields: ['reason'], subjects: (e) => [agentSubject(e.aggregate.id)] },
};

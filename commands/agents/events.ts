import { agentSubject, type PersonalFields } from '../../src/domain/personal.ts';
/** Agents: aggregate `agent`, id = the server-chosen agent id (the certificate's CN). */
export const AGENT = 'agent';

export const AgentEvents = {
  enrolled: 'agent.enrolled',
  /** A heartbeat, with the inventory when the agent sends one. */
  heartbeat: 'agent.heartbeat',
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
}
export interface CertificateRenewed {
  certFingerprint: string;
  certNotAfter: string;
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

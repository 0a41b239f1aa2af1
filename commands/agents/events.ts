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

import { accept, invalidTransition, notFound, refuse, type Decider } from '../../src/domain/decider.ts';
import { AGENT, AgentEvents as E, type AgentEnrolled, type AgentHealth, type AgentHeartbeat, type CertificateRenewed } from './events.ts';

export interface AgentState {
  exists: boolean;
  revoked: boolean;
}

export type AgentLifecycleCommand =
  | { kind: 'enroll'; agent: AgentEnrolled }
  | { kind: 'heartbeat'; heartbeat: AgentHeartbeat }
  /** The heartbeats and health reports of one report batch, in one commit. */
  | { kind: 'heartbeats'; heartbeats: AgentHeartbeat[]; health?: AgentHealth[] }
  | { kind: 'renew'; certificate: CertificateRenewed }
  | { kind: 'revoke'; reason: string };

/** A revoked agent stays revoked and visible: nothing brings it back, enrolling again makes a new agent. */
export const agentDecider: Decider<AgentState, AgentLifecycleCommand> = {
  aggregateType: AGENT,
  initialState: () => ({ exists: false, revoked: false }),
  evolve(s, e) {
    if (e.type === E.enrolled) return { exists: true, revoked: false };
    if (e.type === E.revoked) return { ...s, revoked: true };
    return s;
  },
  decide(c, s) {
    if (c.kind === 'enroll') return s.exists ? refuse(invalidTransition('agent', 'enrolled', 'enroll it again')) : accept({ type: E.enrolled, data: c.agent });
    if (!s.exists) return refuse(notFound('agent', ''));
    if (c.kind === 'revoke') return s.revoked ? accept() : accept({ type: E.revoked, data: { reason: c.reason } });
    if (s.revoked) return refuse(invalidTransition('agent', 'revoked', c.kind));
    if (c.kind === 'heartbeat') return accept({ type: E.heartbeat, data: c.heartbeat });
    if (c.kind === 'heartbeats')
      return accept(...c.heartbeats.map((h) => ({ type: E.heartbeat, data: h })), ...(c.health ?? []).map((h) => ({ type: E.health, data: h })));
    return accept({ type: E.certificateRenewed, data: c.certificate });
  },
};

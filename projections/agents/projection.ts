import { AgentEvents as E, type AgentEnrolled, type AgentHeartbeat, type CertificateRenewed } from '../../commands/agents/events.ts';
import { CommandEvents, type CommandDispatched } from '../../commands/agent-commands/events.ts';
import type { Doc } from '../../src/store/model.ts';
import { by, defineProjection, patch } from '../define.ts';

export interface AgentDoc extends Doc {
  hostname: string;
  os: string;
  agentVersion: string;
  status: 'active' | 'revoked';
  enrolledAt: string;
  /** Time of the last heartbeat (event time); whether that is "online" is decided at read time. */
  lastSeenAt: string;
  inventory: Record<string, unknown> | null;
  certFingerprint: string;
  certNotAfter: string;
  revokedAt: string | null;
  revokedBy: string | null;
  revokeReason: string | null;
  lastCommandAt: string | null;
  /** The machine fingerprint sent at enrollment (null for older agents): what a revocation can block. */
  machine?: string | null;
}

/** Agents, plus the admin index `agent` (agent id → tenant) for the ingress, which knows only the certificate. */
export const agentsProjection = defineProjection({
  model: 'agents',
  main: 'agents',
  collections: { agents: { indexes: ['status', 'hostname'] } },
  on: {
    [E.enrolled]: {
      apply: (e, _docs, seq) => {
        const d = e.data as AgentEnrolled;
        const doc: AgentDoc = {
          id: e.aggregate.id,
          seq,
          hostname: d.hostname,
          os: d.os,
          agentVersion: d.agentVersion,
          status: 'active',
          enrolledAt: e.at,
          lastSeenAt: e.at,
          inventory: null,
          certFingerprint: d.certFingerprint,
          certNotAfter: d.certNotAfter,
          revokedAt: null,
          revokedBy: null,
          revokeReason: null,
          lastCommandAt: null,
          machine: d.machine ?? null,
        };
        return [
          { collection: 'agents', id: doc.id, doc },
          { global: 'agent', key: doc.id, value: e.tenant },
        ];
      },
    },
    [E.heartbeat]: {
      apply: (e, docs) => {
        const inv = (e.data as AgentHeartbeat).inventory;
        return patch<AgentDoc>('agents', docs.get('agents', e.aggregate.id), { lastSeenAt: e.at, ...(inv ? { inventory: inv } : {}) });
      },
    },
    [E.certificateRenewed]: {
      apply: (e, docs) => {
        const d = e.data as CertificateRenewed;
        return patch<AgentDoc>('agents', docs.get('agents', e.aggregate.id), {
          certFingerprint: d.certFingerprint,
          certNotAfter: d.certNotAfter,
          lastSeenAt: e.at,
        });
      },
    },
    [E.revoked]: {
      apply: (e, docs) =>
        patch<AgentDoc>('agents', docs.get('agents', e.aggregate.id), {
          status: 'revoked',
          revokedAt: e.at,
          revokedBy: by(e),
          revokeReason: (e.data as { reason: string }).reason,
        }),
    },
    [CommandEvents.dispatched]: {
      reads: (e) => [{ collection: 'agents', id: (e.data as CommandDispatched).agentId }],
      apply: (e, docs) => patch<AgentDoc>('agents', docs.get('agents', (e.data as CommandDispatched).agentId), { lastCommandAt: e.at }),
    },
  },
});

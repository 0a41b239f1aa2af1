import { AgentEvents as E, type AgentEnrolled, type AgentHeartbeat, type CertificateRenewed } from '../../commands/agents/events.ts';
import { CommandEvents, type CommandDispatched } from '../../commands/agent-commands/events.ts';
import type { Doc } from '../../src/store/model.ts';
import type { EventEnvelope } from '../../src/domain/events.ts';
import type { Docs, Write } from '../../src/store/model.ts';
import { by, defineProjection, patch, tallied } from '../define.ts';
import { hourId, hourStart } from '../hours.ts';

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
  /** The hour it was last heard from (`hourId`), so each agent counts once per hour in `agent-hours`. */
  lastSeenHour?: string;
}

/**
 * A tenant's agents by status, kept as they enroll and are revoked, so an overview reads one
 * document however many agents there are. `firstAgent` is the agent whose enrollment created it: a
 * tenant whose oldest agent is another had agents before a build that added these counts to a model
 * not rebuilt since, so they count only the agents enrolled after (readers then count the agents).
 */
export interface AgentCountsDoc extends Doc {
  active: number;
  revoked: number;
  firstAgent: string;
}

/** The id of a tenant's `agent-counts` document (one per tenant). */
export const agentCountsId = (tenant: string): string => tenant;

/**
 * How finely the `seen` sort buckets the time an active agent was last heard from. Coarse, so an
 * agent reporting every minute rewrites its key every few reports, not every one; finer than any
 * online window it answers for (`agentPresence`, src/api/presence.ts), so only the agents last heard
 * from in one bucket are read to decide who is online.
 */
export const SEEN_BUCKET_MS = 150_000;

/** The start of the `seen` bucket of a time, as an ISO time (its sort value). */
export function seenBucket(at: string | number): string {
  const t = typeof at === 'number' ? at : Date.parse(at);
  return new Date(Math.floor(t / SEEN_BUCKET_MS) * SEEN_BUCKET_MS).toISOString();
}

/** How many distinct agents were heard from in one hour (enrolled, heartbeat, renewal). */
export interface AgentHourDoc extends Doc {
  hour: string;
  seen: number;
}

const withHour = (e: EventEnvelope) => [
  { collection: 'agents', id: e.aggregate.id },
  { collection: 'agent-hours', id: hourId(e.at) },
];
const withCounts = (e: EventEnvelope) => [
  { collection: 'agents', id: e.aggregate.id },
  { collection: 'agent-counts', id: agentCountsId(e.tenant) },
];

/** The tenant's counts changed by `active` and `revoked`; an enrollment (`active` 1) may start them. */
function counted(e: EventEnvelope, docs: Docs, seq: number, active: number, revoked: number): Write[] {
  const id = agentCountsId(e.tenant);
  return tallied<AgentCountsDoc>(
    docs,
    'agent-counts',
    id,
    active === 1,
    () => ({ id, seq, active: 0, revoked: 0, firstAgent: e.aggregate.id }),
    (c) => ({ ...c, active: c.active + active, revoked: c.revoked + revoked }),
  );
}

/** The agent heard from at `e.at`: its patch, and its hour's count when this is its first sign in that hour. */
function seen(e: EventEnvelope, docs: Docs, seq: number, changes: Partial<AgentDoc>): Write[] {
  const agent = docs.get<AgentDoc>('agents', e.aggregate.id);
  if (!agent) return [];
  const id = hourId(e.at);
  const out = patch<AgentDoc>('agents', agent, { ...changes, lastSeenHour: id });
  if (agent.lastSeenHour === id) return out;
  const h = docs.get<AgentHourDoc>('agent-hours', id) ?? { id, seq, hour: hourStart(id), seen: 0 };
  return [...out, { collection: 'agent-hours', id, doc: { ...h, seen: h.seen + 1 } }];
}

/** Agents, plus the admin index `agent` (agent id → tenant) for the ingress, which knows only the certificate. */
export const agentsProjection = defineProjection({
  model: 'agents',
  main: 'agents',
  collections: {
    agents: {
      indexes: ['status', 'hostname'],
      sorts: {
        hostname: (d) => String(d.hostname).toLowerCase(),
        enrolledAt: (d) => String(d.enrolledAt),
        // Active agents only: when last heard from (by bucket), and when their certificate ends.
        seen: (d) => (d.status === 'active' ? seenBucket(String(d.lastSeenAt)) : null),
        certNotAfter: (d) => (d.status === 'active' ? String(d.certNotAfter) : null),
      },
    },
    'agent-hours': { indexes: [] },
    'agent-counts': { indexes: [] },
  },
  on: {
    [E.enrolled]: {
      reads: (e) => [...withHour(e), { collection: 'agent-counts', id: agentCountsId(e.tenant) }],
      apply: (e, docs, seq) => {
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
          lastSeenHour: hourId(e.at),
        };
        const id = hourId(e.at);
        const h = docs.get<AgentHourDoc>('agent-hours', id) ?? { id, seq, hour: hourStart(id), seen: 0 };
        return [
          { collection: 'agents', id: doc.id, doc },
          { collection: 'agent-hours', id, doc: { ...h, seen: h.seen + 1 } },
          ...counted(e, docs, seq, 1, 0),
          { global: 'agent', key: doc.id, value: e.tenant },
        ];
      },
    },
    [E.heartbeat]: {
      reads: withHour,
      apply: (e, docs, seq) => {
        const inv = (e.data as AgentHeartbeat).inventory;
        return seen(e, docs, seq, { lastSeenAt: e.at, ...(inv ? { inventory: inv } : {}) });
      },
    },
    [E.certificateRenewed]: {
      reads: withHour,
      apply: (e, docs, seq) => {
        const d = e.data as CertificateRenewed;
        return seen(e, docs, seq, { certFingerprint: d.certFingerprint, certNotAfter: d.certNotAfter, lastSeenAt: e.at });
      },
    },
    [E.revoked]: {
      reads: withCounts,
      apply: (e, docs, seq) => {
        const agent = docs.get<AgentDoc>('agents', e.aggregate.id);
        if (!agent || agent.status === 'revoked') return [];
        return [
          ...patch<AgentDoc>('agents', agent, { status: 'revoked', revokedAt: e.at, revokedBy: by(e), revokeReason: (e.data as { reason: string }).reason }),
          ...counted(e, docs, seq, -1, 1),
        ];
      },
    },
    [CommandEvents.dispatched]: {
      reads: (e) => [{ collection: 'agents', id: (e.data as CommandDispatched).agentId }],
      apply: (e, docs) => patch<AgentDoc>('agents', docs.get('agents', (e.data as CommandDispatched).agentId), { lastCommandAt: e.at }),
    },
  },
});

import { CommandEvents, type CommandCompleted, type CommandDispatched } from '../../commands/agent-commands/events.ts';
import { AgentEvents, type AgentEnrolled, type AgentHealth } from '../../commands/agents/events.ts';
import type { Doc } from '../../src/store/model.ts';
import { by, defineProjection, patch } from '../define.ts';

/** The isolation actions whose results change a host's isolation state. */
const ISOLATION_ACTIONS = new Set(['isolate-host', 'release-host']);

/** A host as EDR shows it: its isolation state and the agent's own health reports. */
export interface HostDoc extends Doc {
  hostname: string;
  /** From the last isolate-host / release-host that succeeded. */
  isolation: 'isolated' | 'not-isolated';
  isolationChangedAt: string | null;
  isolationBy: string | null;
  isolationCommandId: string | null;
  /** An isolation command dispatched and not answered yet. */
  pendingIsolation: 'isolate-host' | 'release-host' | null;
  /** The output of the last isolation command that failed, when the last one failed. */
  isolationError: string | null;
  health: {
    lastEvent: AgentHealth['event'] | null;
    lastEventAt: string | null;
    startedAt: string | null;
    stoppedAt: string | null;
    agentVersion: string | null;
    skewSeconds: number | null;
    spool: AgentHealth['spool'] | null;
  };
}

/** An isolation command, kept until its result says what it did. */
interface HostActionDoc extends Doc {
  agentId: string;
  action: string;
  by: string;
}

/** Hosts (one per agent) with their isolation state and health; fed by agent and command events. */
export const hostsProjection = defineProjection({
  model: 'hosts',
  main: 'hosts',
  collections: { hosts: { indexes: ['isolation', 'hostname'] }, 'host-actions': { indexes: [] } },
  on: {
    [AgentEvents.enrolled]: {
      reads: () => [],
      apply: (e, _docs, seq) => {
        const doc: HostDoc = {
          id: e.aggregate.id,
          seq,
          hostname: (e.data as AgentEnrolled).hostname,
          isolation: 'not-isolated',
          isolationChangedAt: null,
          isolationBy: null,
          isolationCommandId: null,
          pendingIsolation: null,
          isolationError: null,
          health: { lastEvent: null, lastEventAt: null, startedAt: null, stoppedAt: null, agentVersion: null, skewSeconds: null, spool: null },
        };
        return [{ collection: 'hosts', id: doc.id, doc }];
      },
    },
    [AgentEvents.health]: {
      apply: (e, docs) => {
        const h = e.data as AgentHealth;
        const doc = docs.get<HostDoc>('hosts', e.aggregate.id);
        if (!doc) return [];
        const health = { ...doc.health, lastEvent: h.event, lastEventAt: h.observedAt };
        if (h.event === 'started') Object.assign(health, { startedAt: h.observedAt, agentVersion: h.agentVersion ?? health.agentVersion });
        if (h.event === 'stopped') health.stoppedAt = h.observedAt;
        if (h.skewSeconds !== undefined) health.skewSeconds = h.skewSeconds;
        if (h.spool) health.spool = h.spool;
        return patch<HostDoc>('hosts', doc, { health });
      },
    },
    [CommandEvents.dispatched]: {
      reads: (e) => [{ collection: 'hosts', id: (e.data as CommandDispatched).agentId }],
      apply: (e, docs, seq) => {
        const d = e.data as CommandDispatched;
        if (!ISOLATION_ACTIONS.has(d.action)) return [];
        const action: HostActionDoc = { id: e.aggregate.id, seq, agentId: d.agentId, action: d.action, by: by(e) };
        return [
          { collection: 'host-actions', id: action.id, doc: action },
          ...patch<HostDoc>('hosts', docs.get<HostDoc>('hosts', d.agentId), { pendingIsolation: d.action as HostDoc['pendingIsolation'] }),
        ];
      },
    },
    [CommandEvents.completed]: {
      // The agent that answers is the actor of the completion: only an agent's own result counts.
      reads: (e) => [{ collection: 'host-actions', id: e.aggregate.id }, ...(e.actor.kind === 'agent' ? [{ collection: 'hosts', id: e.actor.id }] : [])],
      apply: (e, docs) => {
        const action = docs.get<HostActionDoc>('host-actions', e.aggregate.id);
        if (!action || e.actor.kind !== 'agent' || action.agentId !== e.actor.id) return [];
        const host = docs.get<HostDoc>('hosts', action.agentId);
        const d = e.data as CommandCompleted;
        const done = [{ collection: 'host-actions', id: action.id, doc: null }];
        if (d.outcome !== 'succeeded') return [...done, ...patch<HostDoc>('hosts', host, { pendingIsolation: null, isolationError: d.output.slice(0, 2000) })];
        return [
          ...done,
          ...patch<HostDoc>('hosts', host, {
            isolation: action.action === 'isolate-host' ? 'isolated' : 'not-isolated',
            isolationChangedAt: e.at,
            isolationBy: action.by,
            isolationCommandId: action.id,
            pendingIsolation: null,
            isolationError: null,
          }),
        ];
      },
    },
  },
});

import {
  CommandEvents as E,
  type CommandCancelled,
  type CommandCompleted,
  type CommandDispatched,
  type CommandOutcome,
} from '../../commands/agent-commands/events.ts';
import type { Doc } from '../../src/store/model.ts';
import { by, defineProjection, patch } from '../define.ts';

export interface AgentCommandDoc extends Doc {
  agentId: string;
  action: string;
  args: Record<string, unknown>;
  status: 'pending' | 'delivered' | 'completed' | 'cancelled' | 'expired';
  dispatchedAt: string;
  dispatchedBy: string;
  deliveredAt: string | null;
  completedAt: string | null;
  outcome: CommandOutcome | null;
  output: string | null;
  /** When it stops being handed out (null for commands dispatched before expiries). */
  expiresAt?: string | null;
  /** The result came after the expiry. */
  late?: boolean;
  cancelledAt?: string | null;
  cancelledBy?: string | null;
  cancelReason?: string | null;
}

/**
 * Agent commands and their results. The model and collection keep the name `commands` they have on
 * the wire (`/commands`) and in LevelDB; `agentId` + `status` = pending is the agent's outbox.
 */
export const agentCommandsProjection = defineProjection({
  model: 'commands',
  main: 'commands',
  collections: { commands: { indexes: ['agentId', 'status'], sorts: { dispatchedAt: (d) => String(d.dispatchedAt) } } },
  on: {
    [E.dispatched]: {
      apply: (e, _docs, seq) => {
        const d = e.data as CommandDispatched;
        const doc: AgentCommandDoc = {
          id: e.aggregate.id,
          seq,
          agentId: d.agentId,
          action: d.action,
          args: d.args,
          status: 'pending',
          dispatchedAt: e.at,
          dispatchedBy: by(e),
          deliveredAt: null,
          completedAt: null,
          outcome: null,
          output: null,
          expiresAt: d.expiresAt ?? null,
        };
        return [{ collection: 'commands', id: doc.id, doc }];
      },
    },
    [E.delivered]: { apply: (e, docs) => patch<AgentCommandDoc>('commands', docs.get('commands', e.aggregate.id), { status: 'delivered', deliveredAt: e.at }) },
    [E.cancelled]: {
      apply: (e, docs) =>
        patch<AgentCommandDoc>('commands', docs.get('commands', e.aggregate.id), {
          status: 'cancelled',
          cancelledAt: e.at,
          cancelledBy: by(e),
          cancelReason: (e.data as CommandCancelled).reason,
        }),
    },
    [E.completed]: {
      apply: (e, docs) => {
        const d = e.data as CommandCompleted;
        return patch<AgentCommandDoc>('commands', docs.get('commands', e.aggregate.id), {
          status: 'completed',
          completedAt: e.at,
          outcome: d.outcome,
          output: d.output,
          ...(d.late ? { late: true } : {}),
        });
      },
    },
    [E.expired]: { apply: (e, docs) => patch<AgentCommandDoc>('commands', docs.get('commands', e.aggregate.id), { status: 'expired' }) },
  },
});

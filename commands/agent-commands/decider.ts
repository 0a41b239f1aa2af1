import { accept, invalidTransition, notFound, refuse, type Decider } from '../../src/domain/decider.ts';
import { type ActionFacts, checkActionArgs } from '../../src/domain/action-args.ts';
import { ACTIONS, type Product } from '../../src/domain/products.ts';
import { StkError } from '../../src/errors.ts';
import { COMMAND, CommandEvents as E, type CommandCompleted, type CommandDispatched } from './events.ts';

export type CommandStatus = 'none' | 'pending' | 'delivered' | 'completed' | 'cancelled';
export interface CommandFold {
  status: CommandStatus;
  agentId: string;
}

/**
 * What a dispatch depends on outside the command's own aggregate, read by the caller just before:
 * the tenant's products and suspension, the addressed agent's status, and the facts an action's
 * arguments are judged by (the scan allowlist, the maintenance window: `ActionFacts`).
 */
export interface DispatchContext extends ActionFacts {
  products: readonly Product[];
  suspended: boolean;
  agentStatus: 'active' | 'revoked';
}

/** The agent id on deliver/complete is the caller's (from its certificate): only the addressee may answer. */
export type AgentCommandTransition =
  | { kind: 'dispatch'; command: CommandDispatched; context: DispatchContext }
  | { kind: 'deliver'; agentId: string }
  | { kind: 'cancel'; reason: string }
  | ({ kind: 'complete'; agentId: string } & CommandCompleted);

export const agentCommandDecider: Decider<CommandFold, AgentCommandTransition> = {
  aggregateType: COMMAND,
  initialState: () => ({ status: 'none', agentId: '' }),
  evolve(s, e) {
    if (e.type === E.dispatched) return { status: 'pending', agentId: (e.data as CommandDispatched).agentId };
    if (e.type === E.delivered) return { ...s, status: 'delivered' };
    if (e.type === E.completed) return { ...s, status: 'completed' };
    if (e.type === E.cancelled) return { ...s, status: 'cancelled' };
    return s;
  },
  decide(c, s) {
    if (c.kind === 'dispatch') {
      if (s.status !== 'none') return refuse(invalidTransition('command', s.status, 'dispatch it again'));
      const product = ACTIONS[c.command.action] ?? null;
      if (product && !c.context.products.includes(product)) {
        return refuse(new StkError('STK_ERR_PRODUCT_DISABLED', `${c.command.action} needs the product ${product}, which is off for this tenant`, { product }));
      }
      if (c.context.suspended) return refuse(new StkError('STK_ERR_TENANT_SUSPENDED', 'the tenant is suspended'));
      if (c.context.agentStatus === 'revoked') return refuse(new StkError('STK_ERR_AGENT_REVOKED', 'the agent is revoked'));
      // The command carries its arguments as checked (normalised, with what the server adds).
      const args = checkActionArgs(c.command.action, c.command.args, c.context);
      if (!args.ok) return refuse(args.error);
      return accept({ type: E.dispatched, data: { ...c.command, args: args.args } });
    }
    if (c.kind === 'cancel') {
      if (s.status === 'none') return refuse(notFound('command', ''));
      // Once the agent has it, it may already be running: only a result tells what happened.
      if (s.status !== 'pending') return refuse(invalidTransition('command', s.status, 'cancel it'));
      return accept({ type: E.cancelled, data: { reason: c.reason } });
    }
    // Another agent's command answers exactly like a missing one.
    if (s.status === 'cancelled' && s.agentId === c.agentId) {
      // A pull racing the cancellation takes nothing; a result for it is refused.
      return c.kind === 'deliver' ? accept() : refuse(invalidTransition('command', 'cancelled', 'complete it'));
    }
    if (s.status === 'none' || s.agentId !== c.agentId) return refuse(notFound('command', ''));
    if (c.kind === 'deliver') return s.status === 'pending' ? accept({ type: E.delivered, data: {} }) : accept();
    if (s.status === 'completed') return refuse(invalidTransition('command', 'completed', 'complete it again'));
    return accept({ type: E.completed, data: { outcome: c.outcome, output: c.output } });
  },
};

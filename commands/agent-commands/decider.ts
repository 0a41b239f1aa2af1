import { accept, invalidTransition, notFound, refuse, type Decider } from '../../src/domain/decider.ts';
import { type ActionFacts, checkActionArgs } from '../../src/domain/action-args.ts';
import { ACTIONS, type Product } from '../../src/domain/products.ts';
import { StkError } from '../../src/errors.ts';
import { COMMAND, CommandEvents as E, type CommandCompleted, type CommandDispatched } from './events.ts';

export type CommandStatus = 'none' | 'pending' | 'delivered' | 'completed' | 'cancelled' | 'expired';
export interface CommandFold {
  status: CommandStatus;
  agentId: string;
  /** ISO instant after which the command is not handed out; null for commands without one. */
  expiresAt: string | null;
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

/** How long a command of one action may wait for its agent (`--command-expiry`, src/config/settings.ts). */
export interface ExpiryPolicy {
  defaultSeconds: number;
  maxSeconds: number;
}

/** The clock and the policy a dispatch's expiry is decided with; time comes in as data. */
export interface DispatchExpiry {
  /** ISO time of the dispatch. */
  now: string;
  /** Asked for by the operator; the action's default when absent. */
  ttlSeconds?: number;
  policy: ExpiryPolicy;
}

/**
 * The agent id on deliver/complete is the caller's (from its certificate): only the addressee may
 * answer. `now` (ISO) on deliver/complete/expire is the caller's clock, against which the expiry is
 * judged; a dispatch without `expiry` has none (as before expiries existed).
 */
export type AgentCommandTransition =
  | { kind: 'dispatch'; command: Omit<CommandDispatched, 'expiresAt'>; context: DispatchContext; expiry?: DispatchExpiry }
  | { kind: 'deliver'; agentId: string; now?: string }
  | { kind: 'cancel'; reason: string }
  | { kind: 'expire'; now: string }
  | ({ kind: 'complete'; agentId: string; now?: string } & Omit<CommandCompleted, 'late'>);

const expiredAt = (s: CommandFold, now: string | undefined): boolean => s.expiresAt !== null && now !== undefined && Date.parse(now) >= Date.parse(s.expiresAt);

export const agentCommandDecider: Decider<CommandFold, AgentCommandTransition> = {
  aggregateType: COMMAND,
  initialState: () => ({ status: 'none', agentId: '', expiresAt: null }),
  evolve(s, e) {
    if (e.type === E.dispatched) {
      const d = e.data as CommandDispatched;
      return { status: 'pending', agentId: d.agentId, expiresAt: d.expiresAt ?? null };
    }
    if (e.type === E.delivered) return { ...s, status: 'delivered' };
    if (e.type === E.completed) return { ...s, status: 'completed' };
    if (e.type === E.cancelled) return { ...s, status: 'cancelled' };
    if (e.type === E.expired) return { ...s, status: 'expired' };
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
      const command = { ...c.command, args: args.args };
      if (!c.expiry) return accept({ type: E.dispatched, data: command });
      const { now, ttlSeconds, policy } = c.expiry;
      const ttl = ttlSeconds ?? policy.defaultSeconds;
      if (ttl > policy.maxSeconds) {
        return refuse(
          new StkError('STK_ERR_AGENT_COMMAND_TTL', `${c.command.action} may wait at most ${policy.maxSeconds} s for its agent (--command-expiry)`, {
            field: 'expiresInSeconds',
            limit: policy.maxSeconds,
          }),
        );
      }
      const expiresAt = new Date(Date.parse(now) + ttl * 1000).toISOString();
      return accept({ type: E.dispatched, data: { ...command, expiresAt } satisfies CommandDispatched });
    }
    if (c.kind === 'cancel') {
      if (s.status === 'none') return refuse(notFound('command', ''));
      // Once the agent has it, it may already be running: only a result tells what happened.
      if (s.status !== 'pending') return refuse(invalidTransition('command', s.status, 'cancel it'));
      return accept({ type: E.cancelled, data: { reason: c.reason } });
    }
    if (c.kind === 'expire') {
      if (s.status !== 'pending' && s.status !== 'delivered') return accept();
      return expiredAt(s, c.now) ? accept({ type: E.expired, data: { expiresAt: s.expiresAt } }) : accept();
    }
    // Another agent's command answers exactly like a missing one.
    if (s.status === 'cancelled' && s.agentId === c.agentId) {
      // A pull racing the cancellation takes nothing; a result for it is refused.
      return c.kind === 'deliver' ? accept() : refuse(invalidTransition('command', 'cancelled', 'complete it'));
    }
    if (s.status === 'none' || s.agentId !== c.agentId) return refuse(notFound('command', ''));
    if (c.kind === 'deliver') {
      if (s.status === 'expired' || (s.status === 'pending' && expiredAt(s, c.now)))
        return refuse(new StkError('STK_ERR_AGENT_COMMAND_EXPIRED', 'the command expired before it was delivered; do not run it', { expiresAt: s.expiresAt }));
      return s.status === 'pending' ? accept({ type: E.delivered, data: {} }) : accept();
    }
    if (s.status === 'completed') return refuse(invalidTransition('command', 'completed', 'complete it again'));
    // A result after the expiry is still recorded (the agent did run it): marked late.
    const late = s.status === 'expired' || expiredAt(s, c.now);
    return accept({ type: E.completed, data: { outcome: c.outcome, output: c.output, ...(late ? { late: true } : {}) } satisfies CommandCompleted });
  },
};

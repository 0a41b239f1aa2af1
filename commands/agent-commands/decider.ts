import { accept, invalidTransition, notFound, refuse, type Decider } from '../../src/domain/decider.ts';
import { COMMAND, CommandEvents as E, type CommandCompleted, type CommandDispatched } from './events.ts';

export type CommandStatus = 'none' | 'pending' | 'delivered' | 'completed';
export interface CommandFold {
  status: CommandStatus;
  agentId: string;
}

/** The agent id on deliver/complete is the caller's (from its certificate): only the addressee may answer. */
export type AgentCommandCommand =
  | { kind: 'dispatch'; command: CommandDispatched }
  | { kind: 'deliver'; agentId: string }
  | ({ kind: 'complete'; agentId: string } & CommandCompleted);

export const agentCommandDecider: Decider<CommandFold, AgentCommandCommand> = {
  aggregateType: COMMAND,
  initialState: () => ({ status: 'none', agentId: '' }),
  evolve(s, e) {
    if (e.type === E.dispatched) return { status: 'pending', agentId: (e.data as CommandDispatched).agentId };
    if (e.type === E.delivered) return { ...s, status: 'delivered' };
    if (e.type === E.completed) return { ...s, status: 'completed' };
    return s;
  },
  decide(c, s) {
    if (c.kind === 'dispatch')
      return s.status === 'none' ? accept({ type: E.dispatched, data: c.command }) : refuse(invalidTransition('command', s.status, 'dispatch it again'));
    // Another agent's command answers exactly like a missing one.
    if (s.status === 'none' || s.agentId !== c.agentId) return refuse(notFound('command', ''));
    if (c.kind === 'deliver') return s.status === 'pending' ? accept({ type: E.delivered, data: {} }) : accept();
    if (s.status === 'completed') return refuse(invalidTransition('command', 'completed', 'complete it again'));
    return accept({ type: E.completed, data: { outcome: c.outcome, output: c.output } });
  },
};

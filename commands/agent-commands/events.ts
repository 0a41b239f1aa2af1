import { accountSubject, agentSubject, subjectsOf, TENANT_SUBJECT, type PersonalFields } from '../../src/domain/personal.ts';

/** Commands to agents: aggregate `command`, dispatched by an operator, pulled and answered by the agent. */
export const COMMAND = 'command';

export const CommandEvents = {
  dispatched: 'command.dispatched',
  /** The agent pulled it. */
  delivered: 'command.delivered',
  completed: 'command.completed',
  /** An operator took it back before the agent pulled it; the agent never gets it. */
  cancelled: 'command.cancelled',
  /** Its expiry passed before a result came: it is no longer handed out, a later result is late. */
  expired: 'command.expired',
} as const;

export const COMMAND_OUTCOMES = ['succeeded', 'failed'] as const;
export type CommandOutcome = (typeof COMMAND_OUTCOMES)[number];

export interface CommandDispatched {
  agentId: string;
  action: string;
  args: Record<string, unknown>;
  /** After this instant (ISO) the command is not handed out nor run. Absent on commands dispatched before expiries existed. */
  expiresAt?: string;
}
export interface CommandCancelled {
  reason: string;
}
export interface CommandCompleted {
  outcome: CommandOutcome;
  output: string;
  /** The result came after the command's expiry: recorded, but the command was expired when it ran or answered. */
  late?: boolean;
}
export interface CommandExpired {
  expiresAt: string;
}

/** Arguments of an agent command that name an account. */
const ACCOUNT_ARGS = ['account', 'user', 'username'] as const;

/** A command is about its machine and any account its arguments name; its output is the machine's. */
export const CommandPersonal: PersonalFields = {
  [CommandEvents.dispatched]: {
    fields: ['args'],
    subjects: (e) => {
      const d = e.data as CommandDispatched;
      return [agentSubject(d.agentId), ...subjectsOf(d.args, ACCOUNT_ARGS, accountSubject)];
    },
  },
  [CommandEvents.completed]: { fields: ['output'], subjects: (e) => [e.actor.kind === 'agent' ? agentSubject(e.actor.id) : TENANT_SUBJECT] },
  [CommandEvents.cancelled]: { fields: ['reason'], subjects: () => [TENANT_SUBJECT] },
};

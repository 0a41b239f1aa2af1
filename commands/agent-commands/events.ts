/** Commands to agents: aggregate `command`, dispatched by an operator, pulled and answered by the agent. */
export const COMMAND = 'command';

export const CommandEvents = {
  dispatched: 'command.dispatched',
  /** The agent pulled it. */
  delivered: 'command.delivered',
  completed: 'command.completed',
  /** An operator took it back before the agent pulled it; the agent never gets it. */
  cancelled: 'command.cancelled',
} as const;

export const COMMAND_OUTCOMES = ['succeeded', 'failed'] as const;
export type CommandOutcome = (typeof COMMAND_OUTCOMES)[number];

export interface CommandDispatched {
  agentId: string;
  action: string;
  args: Record<string, unknown>;
}
export interface CommandCancelled {
  reason: string;
}
export interface CommandCompleted {
  outcome: CommandOutcome;
  output: string;
}

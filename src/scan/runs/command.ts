import { agentCommandDecider } from '../../../commands/agent-commands/decider.ts';
import { COMMAND, CommandEvents, type CommandDispatched } from '../../../commands/agent-commands/events.ts';
import type { PortSpec } from '../../../commands/scans/events.ts';
import { fold } from '../../domain/decider.ts';
import { StkError } from '../../errors.ts';
import type { EventLog } from '../../log/mod.ts';

/**
 * The run-scan command an agent's run answers: it must be this agent's and a run-scan (any other
 * command, or another agent's, is "not found", like a missing one). Its arguments, as checked at
 * dispatch, are what the run is recorded with.
 */
export async function runScanCommandOf(
  log: EventLog,
  agent: { tenant: string; agentId: string },
  commandId: string,
): Promise<{ targets: string[]; ports: PortSpec[] }> {
  const cmd = await log.readAggregate({ tenant: agent.tenant, aggregateType: COMMAND, aggregateId: commandId });
  const dispatched = cmd.events.find((e) => e.type === CommandEvents.dispatched)?.data as CommandDispatched | undefined;
  if (!dispatched || fold(agentCommandDecider, cmd.events).agentId !== agent.agentId || dispatched.action !== 'run-scan')
    throw new StkError('STK_ERR_NOT_FOUND', 'not found', { id: commandId });
  const args = dispatched.args as { targets?: string[]; ports?: PortSpec[] };
  return { targets: args.targets ?? [], ports: args.ports ?? [] };
}

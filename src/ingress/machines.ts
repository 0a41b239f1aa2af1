import { MACHINE, MachineEvents } from '../../commands/machines/events.ts';
import { StkError } from '../errors.ts';
import type { IngressDeps } from './deps.ts';

/**
 * Whether a machine is blocked from enrolling into a tenant: the newest commit of the machine's
 * aggregate (one direct get, no cache, like an agent's revocation), so a block or its lifting holds
 * from the very next enrollment at every ingress.
 */
export async function machineBlocked(deps: Pick<IngressDeps, 'log'>, tenant: string, machine: string): Promise<boolean> {
  try {
    const r = await deps.log.lastCommit({ tenant, aggregateType: MACHINE, aggregateId: machine });
    return r?.events.at(-1)?.type === MachineEvents.blocked;
  } catch (err) {
    throw new StkError('STK_ERR_LOG_UNAVAILABLE', `event log read failed: ${(err as Error).message}`, { retryAfterSeconds: 1 }, { cause: err });
  }
}

import { accept, notFound, refuse, type Decider } from '../../src/domain/decider.ts';
import { MACHINE, MachineEvents as E, type MachineBlocked, type MachineUnblocked } from './events.ts';

export interface MachineState {
  blocked: boolean;
  agentId: string;
}

export type MachineCommand = { kind: 'block'; agentId: string } | { kind: 'unblock' };

/**
 * A blocked machine enrolls nothing into its tenant until an admin lifts the block; blocking again
 * while blocked, or lifting a lifted block, changes nothing.
 */
export const machineDecider: Decider<MachineState, MachineCommand> = {
  aggregateType: MACHINE,
  initialState: () => ({ blocked: false, agentId: '' }),
  evolve(s, e) {
    if (e.type === E.blocked) return { blocked: true, agentId: (e.data as MachineBlocked).agentId };
    if (e.type === E.unblocked) return { ...s, blocked: false };
    return s;
  },
  decide(c, s) {
    if (c.kind === 'block') return s.blocked ? accept() : accept({ type: E.blocked, data: { agentId: c.agentId } satisfies MachineBlocked });
    if (!s.blocked) return refuse(notFound('blocked machine', ''));
    return accept({ type: E.unblocked, data: { agentId: s.agentId } satisfies MachineUnblocked });
  },
};

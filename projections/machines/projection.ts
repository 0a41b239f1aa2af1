import { MachineEvents as E, type MachineBlocked } from '../../commands/machines/events.ts';
import type { Doc } from '../../src/store/model.ts';
import { by, defineProjection, patch } from '../define.ts';

/** A machine blocked from enrolling (id = its fingerprint), kept after the block is lifted for the record. */
export interface MachineDoc extends Doc {
  blocked: boolean;
  /** The revoked agent whose revocation blocked it. */
  agentId: string;
  blockedAt: string;
  blockedBy: string;
  unblockedAt: string | null;
  unblockedBy: string | null;
}

/** Machines blocked from enrolling again, per tenant. */
export const machinesProjection = defineProjection({
  model: 'machines',
  main: 'machines',
  collections: { machines: { indexes: ['blocked', 'agentId'] } },
  on: {
    [E.blocked]: {
      apply: (e, docs, seq) => {
        const old = docs.get<MachineDoc>('machines', e.aggregate.id);
        const doc: MachineDoc = {
          id: e.aggregate.id,
          seq: old?.seq ?? seq,
          blocked: true,
          agentId: (e.data as MachineBlocked).agentId,
          blockedAt: e.at,
          blockedBy: by(e),
          unblockedAt: null,
          unblockedBy: null,
        };
        return [{ collection: 'machines', id: doc.id, doc }];
      },
    },
    [E.unblocked]: {
      apply: (e, docs) => patch<MachineDoc>('machines', docs.get('machines', e.aggregate.id), { blocked: false, unblockedAt: e.at, unblockedBy: by(e) }),
    },
  },
});

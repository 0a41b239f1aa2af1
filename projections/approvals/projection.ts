import { ApprovalEvents as E, type ApprovalDecided, type ApprovalExecuted, type ApprovalRequested } from '../../commands/approvals/events.ts';
import type { Doc } from '../../src/store/model.ts';
import { defineProjection, patch } from '../define.ts';

export interface ApprovalDoc extends Doc, ApprovalRequested {
  status: 'pending' | 'approved' | 'rejected' | 'executed';
  requestedAt: string;
  decidedBy: ApprovalDecided['by'] | null;
  decidedAt: string | null;
  reason: string | null;
  result: ApprovalExecuted | null;
}

/** Four-eyes requests of a customer, newest first, filterable by status. */
export const approvalsProjection = defineProjection({
  model: 'approvals',
  main: 'approvals',
  collections: { approvals: { indexes: ['status', 'gate'] } },
  on: {
    [E.requested]: {
      apply: (e, _docs, seq) => {
        const doc: ApprovalDoc = {
          id: e.aggregate.id,
          seq,
          ...(e.data as ApprovalRequested),
          status: 'pending',
          requestedAt: e.at,
          decidedBy: null,
          decidedAt: null,
          reason: null,
          result: null,
        };
        return [{ collection: 'approvals', id: doc.id, doc }];
      },
    },
    [E.approved]: {
      apply: (e, docs) =>
        patch<ApprovalDoc>('approvals', docs.get('approvals', e.aggregate.id), {
          status: 'approved',
          decidedBy: (e.data as ApprovalDecided).by,
          decidedAt: e.at,
        }),
    },
    [E.rejected]: {
      apply: (e, docs) => {
        const d = e.data as ApprovalDecided;
        return patch<ApprovalDoc>('approvals', docs.get('approvals', e.aggregate.id), {
          status: 'rejected',
          decidedBy: d.by,
          decidedAt: e.at,
          reason: d.reason,
        });
      },
    },
    [E.executed]: {
      apply: (e, docs) => patch<ApprovalDoc>('approvals', docs.get('approvals', e.aggregate.id), { status: 'executed', result: e.data as ApprovalExecuted }),
    },
  },
});

import { ScanEvents as E, type ScanCompleted } from '../../commands/scans/events.ts';
import type { Doc } from '../../src/store/model.ts';
import { defineProjection } from '../define.ts';

export interface ScanDoc extends Doc, ScanCompleted {
  recordedAt: string;
}

export const scansProjection = defineProjection({
  model: 'scans',
  main: 'scans',
  collections: { scans: { indexes: ['agentId', 'product'], sorts: { finishedAt: (d) => String(d.finishedAt) } } },
  on: {
    [E.completed]: {
      apply: (e, _docs, seq) => {
        const doc: ScanDoc = { ...(e.data as ScanCompleted), id: e.aggregate.id, seq, recordedAt: e.at };
        return [{ collection: 'scans', id: doc.id, doc }];
      },
    },
  },
});

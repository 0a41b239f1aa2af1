import type { ProcessItem } from '../../src/telemetry/types.ts';
import type { Doc } from '../../src/store/model.ts';
import { defineProjection } from '../define.ts';
import { docId } from '../telemetry.ts';

/** A process an agent saw start; `itemId` names the telemetry item (what a proof is asked for). */
export interface ProcessDoc extends Doc, Omit<ProcessItem, 'kind'> {
  agentId: string;
  /** When the ingress stored the item. */
  seenAt: string;
  batchId: string | null;
  /** The item's id, `<batch>:<index>` (`telemetryItemId`). */
  itemId: string;
}

/** Processes per host, searchable by name, executable, SHA-256 and user; one document per (agent, pid, start time). */
export const processesProjection = defineProjection({
  model: 'processes',
  main: 'processes',
  collections: { processes: { indexes: ['agentId', 'name', 'sha256', 'user', 'exe'], scan: ['pid', 'ppid', 'uid'] } },
  on: {
    'telemetry.process': {
      reads: () => [],
      apply: (e, _docs, seq) => {
        const { kind: _kind, ...p } = e.data as ProcessItem;
        const doc: ProcessDoc = {
          id: docId(e.aggregate.id, p.pid, p.startedAt),
          seq,
          agentId: e.aggregate.id,
          ...p,
          seenAt: e.at,
          batchId: e.correlationId,
          itemId: e.id,
        };
        return [{ collection: 'processes', id: doc.id, doc }];
      },
    },
  },
});

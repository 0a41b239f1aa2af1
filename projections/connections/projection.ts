import type { ConnectionItem } from '../../src/telemetry/types.ts';
import type { Doc } from '../../src/store/model.ts';
import { defineProjection } from '../define.ts';
import { docId } from '../telemetry.ts';

/** A connection or listener an agent saw; seen again later, the same document moves to the top. */
export interface ConnectionDoc extends Doc, Omit<ConnectionItem, 'kind'> {
  agentId: string;
  seenAt: string;
  batchId: string | null;
  /** The item's id, `<batch>:<index>` (`telemetryItemId`): the last time it was seen. */
  itemId: string;
}

/** Connections per host with their owning process, searchable by remote address and port, state, executable, user. */
export const connectionsProjection = defineProjection({
  model: 'connections',
  main: 'connections',
  collections: { connections: { indexes: ['agentId', 'remoteAddress', 'remotePort', 'state', 'exe', 'user'], scan: ['pid', 'localPort', 'protocol'] } },
  on: {
    'telemetry.connection': {
      reads: (e) => [{ collection: 'connections', id: idOf(e.aggregate.id, e.data as ConnectionItem) }],
      apply: (e, _docs, seq) => {
        const { kind: _kind, ...c } = e.data as ConnectionItem;
        const doc: ConnectionDoc = { id: idOf(e.aggregate.id, c), seq, agentId: e.aggregate.id, ...c, seenAt: e.at, batchId: e.correlationId, itemId: e.id };
        return [{ collection: 'connections', id: doc.id, doc }];
      },
    },
  },
});

function idOf(agentId: string, c: Omit<ConnectionItem, 'kind'>): string {
  return docId(agentId, c.protocol, c.localAddress, c.localPort, c.remoteAddress, c.remotePort, c.pid);
}

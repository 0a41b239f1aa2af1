import { accept, invalidTransition, refuse, type Decider } from '../../src/domain/decider.ts';
import { StkError } from '../../src/errors.ts';
import { TELEMETRY_BATCH, TELEMETRY_BATCH_SCHEMA, TelemetryEvents as E, type TelemetryBatchReceived } from './events.ts';

export interface TelemetryBatchState {
  received: TelemetryBatchReceived | null;
}

export type TelemetryBatchCommand = { kind: 'receive'; batch: TelemetryBatchReceived };

/**
 * A batch is received once. The same batch again (same root) is a retry and writes nothing; a
 * batch id reused for other items is refused, since its root is already sealed. What is sealed is
 * the batch's own facts: stream positions in a command are refused (they are install-wide).
 */
export const telemetryBatchDecider: Decider<TelemetryBatchState, TelemetryBatchCommand> = {
  aggregateType: TELEMETRY_BATCH,
  initialState: () => ({ received: null }),
  evolve(s, e) {
    if (e.type === E.batchReceived) return { received: e.data as TelemetryBatchReceived };
    return s;
  },
  decide(c, s) {
    const b = c.batch;
    if (!Number.isInteger(b.count) || b.count < 1) return refuse(new StkError('STK_ERR_VALIDATION', 'a batch holds at least one item', { field: 'batch' }));
    if (b.firstSeq !== undefined || b.lastSeq !== undefined)
      return refuse(new StkError('STK_ERR_VALIDATION', 'a batch is sealed without stream positions', { field: 'batch' }));
    if (s.received) {
      if (s.received.merkleRoot === b.merkleRoot && s.received.count === b.count) return accept();
      return refuse(invalidTransition('telemetry batch', 'received with other items', 'receive it again'));
    }
    return accept({
      type: E.batchReceived,
      schema: TELEMETRY_BATCH_SCHEMA,
      data: { agentId: b.agentId, batchId: b.batchId, count: b.count, merkleRoot: b.merkleRoot },
    });
  },
};

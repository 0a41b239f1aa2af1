import { accept, invalidTransition, refuse, type Decider } from '../../src/domain/decider.ts';
import { StkError } from '../../src/errors.ts';
import { TELEMETRY_BATCH, TelemetryEvents as E, type TelemetryBatchReceived } from './events.ts';

export interface TelemetryBatchState {
  received: TelemetryBatchReceived | null;
}

export type TelemetryBatchCommand = { kind: 'receive'; batch: TelemetryBatchReceived };

/**
 * A batch is received once. The same batch again (same root) is a retry and writes nothing; a
 * batch id reused for other items is refused, since its root is already sealed.
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
    if (b.count < 1 || b.firstSeq < 1 || b.lastSeq < b.firstSeq || b.lastSeq - b.firstSeq + 1 < b.count)
      return refuse(new StkError('STK_ERR_VALIDATION', 'a batch holds at least one item, stored between firstSeq and lastSeq', { field: 'batch' }));
    if (s.received) {
      if (s.received.merkleRoot === b.merkleRoot && s.received.count === b.count) return accept();
      return refuse(invalidTransition('telemetry batch', 'received with other items', 'receive it again'));
    }
    return accept({ type: E.batchReceived, data: b });
  },
};

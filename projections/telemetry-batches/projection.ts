import type { Doc } from '../../src/store/model.ts';
import { defineProjection } from '../define.ts';

/**
 * Where a batch's items start in TELEMETRY: the server's own index, never answered to anyone. The
 * sealed `telemetry.batch-received` event names the batch by its facts only (schema 2), so a proof
 * finds the items from here: the agent's subject from `firstSeq` on, by their batch header.
 */
export interface TelemetryBatchDoc extends Doc {
  agentId: string;
  /** The agent's batch id (the `Stk-Batch` header of its items). */
  batchId: string;
  /** TELEMETRY sequence of the first of its items the projector met (a resend's first copies come first). */
  firstSeq: number;
}

/** The collection of `TelemetryBatchDoc`s, by the batch's `telemetry` aggregate id. */
export const TELEMETRY_BATCHES = 'telemetry-batches';

const KINDS = ['telemetry.process', 'telemetry.connection', 'telemetry.account-change'];

/** The batch of an item's envelope: the part of its id `<batch>:<index>` before the colon. */
function batchOfItem(itemId: string): string {
  return itemId.slice(0, itemId.lastIndexOf(':'));
}

/** One document per batch, written by the first of its items and left alone by the others. */
export const telemetryBatchesProjection = defineProjection({
  model: TELEMETRY_BATCHES,
  main: TELEMETRY_BATCHES,
  collections: { [TELEMETRY_BATCHES]: { indexes: [] } },
  on: Object.fromEntries(
    KINDS.map((type) => [
      type,
      {
        reads: (e) => [{ collection: TELEMETRY_BATCHES, id: batchOfItem(e.id) }],
        apply: (e, docs, seq) => {
          const id = batchOfItem(e.id);
          if (docs.get(TELEMETRY_BATCHES, id)) return [];
          const doc: TelemetryBatchDoc = { id, seq, agentId: e.aggregate.id, batchId: e.correlationId ?? '', firstSeq: seq };
          return [{ collection: TELEMETRY_BATCHES, id, doc }];
        },
      },
    ]),
  ),
});

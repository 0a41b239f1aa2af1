import type { Upcaster } from '../../src/log/upcast.ts';

/**
 * Telemetry batches: aggregate `telemetry`, one per accepted batch, id derived from (tenant, agent,
 * batch id), so a batch sent again can never be sealed twice. The items themselves are in the
 * TELEMETRY stream; this event seals their RFC 6962 Merkle root in the ledger. An item is named by
 * this aggregate's id and its index in the batch (`telemetryItemId`), never by its place in the stream.
 */
export const TELEMETRY_BATCH = 'telemetry';

export const TelemetryEvents = {
  batchReceived: 'telemetry.batch-received',
} as const;

/**
 * Schema of `telemetry.batch-received` this build writes. 1 also sealed the TELEMETRY sequences of
 * the batch (`firstSeq`, `lastSeq`): install-wide positions, whose gaps showed a tenant how much
 * telemetry every other tenant sends. 2 seals the batch's own facts only.
 */
export const TELEMETRY_BATCH_SCHEMA = 2;

/** One accepted batch: `count` items, in batch order under the Merkle root. */
export interface TelemetryBatchReceived {
  agentId: string;
  batchId: string;
  count: number;
  /** Hex RFC 6962 root over the items' canonical JSON, in batch order. */
  merkleRoot: string;
  /**
   * Schema 1 only: the TELEMETRY sequences the items were stored between (others' items may lie
   * between). Sealed in old ledgers, so kept on read; the server still finds an old batch by them,
   * and never hands them to a tenant.
   */
  firstSeq?: number;
  lastSeq?: number;
}

/**
 * Schema 1 → 2 leaves the payload as it is: its stream positions are sealed in its bytes and stay
 * there; the read side uses them to find the old batch's items and strips them from what it answers.
 */
export const telemetryUpcasters: Upcaster[] = [{ type: TelemetryEvents.batchReceived, from: 1, up: (d) => d }];

/** The sealed facts of a batch as a tenant may see them: no stream positions, whatever the schema. */
export function batchFacts(b: TelemetryBatchReceived): TelemetryBatchReceived {
  return { agentId: b.agentId, batchId: b.batchId, count: b.count, merkleRoot: b.merkleRoot };
}

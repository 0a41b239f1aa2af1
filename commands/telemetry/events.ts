/**
 * Telemetry batches: aggregate `telemetry`, one per accepted batch, id derived from (tenant, agent,
 * batch id), so a batch sent again can never be sealed twice. The items themselves are in the
 * TELEMETRY stream; this event seals their RFC 6962 Merkle root in the ledger.
 */
export const TELEMETRY_BATCH = 'telemetry';

export const TelemetryEvents = {
  batchReceived: 'telemetry.batch-received',
} as const;

/** One accepted batch: `count` items, stored at TELEMETRY sequences `firstSeq`…`lastSeq` (others' items may lie between). */
export interface TelemetryBatchReceived {
  agentId: string;
  batchId: string;
  count: number;
  /** Hex RFC 6962 root over the items' canonical JSON, in batch order. */
  merkleRoot: string;
  firstSeq: number;
  lastSeq: number;
}

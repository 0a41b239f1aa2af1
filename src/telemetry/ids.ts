import { derivedIds } from '../domain/execute.ts';

/** The id of the `telemetry` aggregate that seals one batch of one agent. */
export function telemetryBatchId(tenant: string, agentId: string, batchId: string): string {
  return derivedIds(tenant, agentId, batchId, 'telemetry-batch')(0);
}

/**
 * The `Nats-Msg-Id` of one item: a resent batch stores nothing twice within the duplicate window.
 * The tenant is part of it because the window is the whole stream's: the same agent and batch ids
 * in two tenants must never be taken for one another.
 */
export function telemetryMsgId(tenant: string, agentId: string, batchId: string, index: number): string {
  return `${tenant}.${agentId}.${batchId}.${index}`;
}

/** The form of an item id on the wire: `<batch>:<index>` (the batch's `telemetry` aggregate id, the 0-based index). */
export const TELEMETRY_ITEM_ID_PATTERN = '^[A-Za-z0-9_-]{1,64}:(0|[1-9][0-9]{0,3})$';
const itemIdRe = new RegExp(TELEMETRY_ITEM_ID_PATTERN);

/**
 * The name of one telemetry item, for everything a tenant sees: its batch (the id of the `telemetry`
 * aggregate that sealed it, which the tenant's ledger shows) and its index in that batch. Never its
 * TELEMETRY sequence, an install-wide position whose gaps would show other tenants' volume.
 */
export function telemetryItemId(batch: string, index: number): string {
  return `${batch}:${index}`;
}

/** Batch and index of an item id; null when it is not one. */
export function parseTelemetryItemId(id: string): { batch: string; index: number } | null {
  if (!itemIdRe.test(id)) return null;
  const at = id.lastIndexOf(':');
  return { batch: id.slice(0, at), index: Number(id.slice(at + 1)) };
}

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

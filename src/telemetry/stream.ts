import { assertId } from '../ids.ts';
import { partitionOf, type StreamSpec } from '../log/mod.ts';

/**
 * The TELEMETRY stream: agent telemetry (process starts, connections, account changes), far more
 * voluminous than the events that matter, kept apart from EVENTS and retained by age and size.
 * One message per item: its body is the item's canonical JSON (`canonicalJson`), so the bytes a
 * proof is computed over are the bytes stored. Each accepted batch is sealed through one EVENTS
 * event (`telemetry.batch-received`) carrying the RFC 6962 Merkle root of its items.
 *
 * Subjects: `tm.<partition>.<tenant>.<agentId>` — partitioned like EVENTS (the same FNV-1a
 * partition of the tenant), so the detector's workers split the work by the same leases.
 * Headers: `Nats-Msg-Id: <tenant>.<agentId>.<batchId>.<index>` (a resent batch stores nothing twice),
 * `Stk-Batch: <batchId>`, `Stk-Index: <index in the batch>`.
 */
export const TELEMETRY_STREAM = 'TELEMETRY';
export const BATCH_HEADER = 'Stk-Batch';
export const INDEX_HEADER = 'Stk-Index';

/** Settings of the TELEMETRY stream (from the configuration). */
export interface TelemetryStreamOptions {
  replicas?: number;
  /** Oldest item kept. @defaultValue 30 days */
  maxAgeMs?: number;
  /** Largest the stream may grow; the oldest items make room. @defaultValue 10 GiB */
  maxBytes?: number;
}

/** Unlike EVENTS, TELEMETRY drops its oldest items to stay within its limits: it is retained, not kept. */
export function telemetryStreamSpec(o: TelemetryStreamOptions = {}): StreamSpec {
  return {
    name: TELEMETRY_STREAM,
    subjects: ['tm.>'],
    discard: 'old',
    replicas: o.replicas ?? 1,
    maxAgeMs: o.maxAgeMs ?? 30 * 24 * 3600 * 1000,
    maxBytes: o.maxBytes ?? 10 * 1024 ** 3,
    duplicateWindowMs: 120_000,
    updateMutable: true,
  };
}

/** Subject of one agent's telemetry. */
export function telemetrySubject(tenant: string, agentId: string): string {
  assertId('tenant', tenant, 'tenant');
  assertId('token', agentId, 'agent id');
  return `tm.${partitionOf(tenant)}.${tenant}.${agentId}`;
}

/** Filter for all of a tenant's telemetry. */
export function telemetryTenantFilter(tenant: string): string {
  assertId('tenant', tenant, 'tenant');
  return `tm.${partitionOf(tenant)}.${tenant}.>`;
}

/** Filter for one partition's telemetry (a detector worker's share). */
export function telemetryPartitionFilter(partition: number): string {
  return `tm.${partition}.>`;
}

/** Tenant and agent of a telemetry subject; null when it is not one. */
export function parseTelemetrySubject(subject: string): { partition: number; tenant: string; agentId: string } | null {
  const p = subject.split('.');
  if (p.length !== 4 || p[0] !== 'tm') return null;
  return { partition: Number(p[1]), tenant: p[2]!, agentId: p[3]! };
}

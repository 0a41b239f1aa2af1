import { assertId } from '../../ids.ts';
import { partitionOf, type StreamSpec } from '../../log/mod.ts';

/**
 * The SCANS stream: every item of every scan run, one message per item, its body the item's
 * canonical JSON — the very bytes the run's Merkle tree hashes, so a proof is computed over what
 * is stored. A run is sealed by one EVENTS event (`scan.completed`) carrying the root and count.
 *
 * Subjects: `sc.<partition>.<tenant>.<runId>` (partitioned like EVENTS). The one header is
 * `Nats-Msg-Id: <tenant>.<runId>.<index>`: a resent part stores nothing twice within the duplicate
 * window, and the item's index in its run is read back from it rather than from a header of its
 * own, which the JavaScript client would have to encode for every item. Retained by age and size, like telemetry: a run older than the
 * retention keeps its sealed root in the ledger, but its items, and proofs of them, are gone.
 */
export const SCANS_STREAM = 'SCANS';
const MSG_ID_HEADER = 'Nats-Msg-Id';

/** Retention of SCANS. */
export interface ScansStreamOptions {
  replicas?: number;
  /** Oldest item kept. @defaultValue 400 days */
  maxAgeMs?: number;
  /** Largest the stream may grow; the oldest items make room. @defaultValue 20 GiB */
  maxBytes?: number;
}

/** SCANS as declared; `updateMutable: false` creates it when missing and leaves an existing one as configured. */
export function scansStreamSpec(o: ScansStreamOptions & { updateMutable?: boolean } = {}): StreamSpec {
  return {
    name: SCANS_STREAM,
    subjects: ['sc.>'],
    discard: 'old',
    replicas: o.replicas ?? 1,
    maxAgeMs: o.maxAgeMs ?? 400 * 24 * 3600 * 1000,
    maxBytes: o.maxBytes ?? 20 * 1024 ** 3,
    duplicateWindowMs: 120_000,
    updateMutable: o.updateMutable ?? true,
  };
}

/** Subject of one run's items. */
export function runSubject(tenant: string, runId: string): string {
  assertId('tenant', tenant, 'tenant');
  assertId('token', runId, 'scan run id');
  return `sc.${partitionOf(tenant)}.${tenant}.${runId}`;
}

/** Every scan item of one tenant (retention, offboarding). */
export function scansTenantFilter(tenant: string): string {
  assertId('tenant', tenant, 'tenant');
  return `sc.${partitionOf(tenant)}.${tenant}.>`;
}

/** Tenant and run of a SCANS subject; null when it is not one. */
export function parseRunSubject(subject: string): { tenant: string; runId: string } | null {
  const p = subject.split('.');
  if (p.length !== 4 || p[0] !== 'sc') return null;
  return { tenant: p[2]!, runId: p[3]! };
}

/** The msg-id of one item: the tenant is part of it because the duplicate window is the whole stream's. */
export function itemMsgId(tenant: string, runId: string, index: number): string {
  return `${tenant}.${runId}.${index}`;
}

/** The index of a stored item, from its msg-id; NaN for a message that is not an item. */
export function itemIndexOf(m: { headers?: { get(name: string): string } | undefined }): number {
  const id = m.headers?.get(MSG_ID_HEADER) ?? '';
  const dot = id.lastIndexOf('.');
  const text = dot >= 0 ? id.slice(dot + 1) : '';
  return /^(0|[1-9][0-9]{0,8})$/.test(text) ? Number(text) : Number.NaN;
}

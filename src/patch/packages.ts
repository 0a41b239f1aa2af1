import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { PackageTuple } from '../../commands/patch/events.ts';
import type { PatchInventory } from '../agent/patch/inventory.ts';
import { assertId } from '../ids.ts';
import { partitionOf, type StreamSpec, type Streams, unavailable } from '../log/mod.ts';
import { canonicalJson } from '../merkle/mod.ts';

/**
 * The PACKAGES stream: each host's installed-package list, stored when it changes, gzipped
 * canonical JSON of its tuples. A host's inventory event names the list (its SHA-256 and the
 * PACKAGES sequence it is stored at) instead of carrying it: a list of 2,000 packages is 150 KB
 * of JSON, and records that size in EVENTS would make every reader of EVENTS pull hundreds of
 * megabytes per batch. The event seals the list's hash, so a read checks the bytes against it.
 *
 * Subjects `pk.<partition>.<tenant>.<agentId>`; `Nats-Msg-Id: <tenant>.<agentId>.<sha256>` (the
 * same list resent stores nothing). Kept without an age limit (a list is stored again only when it
 * changes), within `maxBytes`.
 */
export const PACKAGES_STREAM = 'PACKAGES';

export function packagesStreamSpec(o: { replicas?: number; maxBytes?: number; updateMutable?: boolean } = {}): StreamSpec {
  return {
    name: PACKAGES_STREAM,
    subjects: ['pk.>'],
    discard: 'old',
    replicas: o.replicas ?? 1,
    maxAgeMs: 0,
    maxBytes: o.maxBytes ?? 10 * 1024 ** 3,
    duplicateWindowMs: 120_000,
    updateMutable: o.updateMutable ?? true,
  };
}

/** Every stored package list of one tenant (offboarding). */
export function packagesTenantFilter(tenant: string): string {
  assertId('tenant', tenant, 'tenant');
  return `pk.${partitionOf(tenant)}.${tenant}.>`;
}

function subjectOf(tenant: string, agentId: string): string {
  assertId('tenant', tenant, 'tenant');
  assertId('token', agentId, 'agent id');
  return `pk.${partitionOf(tenant)}.${tenant}.${agentId}`;
}

/** The installed packages of an inventory as sorted tuples, and the hex SHA-256 of their canonical JSON. */
export function packageTuples(inv: PatchInventory): { tuples: PackageTuple[]; bytes: Uint8Array; sha256: string } {
  const tuples: PackageTuple[] = inv.packages
    .map((p): PackageTuple => [p.name, p.version, p.architecture, p.source, p.status, p.held])
    .sort((a, b) => (a[0] === b[0] ? (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0) : a[0] < b[0] ? -1 : 1));
  const bytes = canonicalJson(tuples);
  return { tuples, bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** Stores a host's package list; returns the PACKAGES sequence it is at (the first copy's, for a resend). */
export async function storePackageList(streams: Streams, tenant: string, agentId: string, list: { bytes: Uint8Array; sha256: string }): Promise<number> {
  try {
    const ack = await streams.publish(subjectOf(tenant, agentId), gzipSync(list.bytes), { msgId: `${tenant}.${agentId}.${list.sha256}` });
    return ack.seq;
  } catch (err) {
    throw unavailable(err, 'cannot store the package list', { retryAfterSeconds: 1 });
  }
}

/**
 * A host's package list as stored at `seq`, checked against the SHA-256 its inventory event sealed;
 * null when it is not there (or not this host's: another tenant's sequence reads as missing).
 */
export async function readPackageList(streams: Streams, tenant: string, agentId: string, seq: number, sha256: string): Promise<PackageTuple[] | null> {
  let m: Awaited<ReturnType<Streams['at']>>;
  try {
    m = await streams.at(PACKAGES_STREAM, seq);
  } catch {
    return null;
  }
  if (!m || m.subject !== subjectOf(tenant, agentId)) return null;
  let bytes: Buffer;
  try {
    bytes = gunzipSync(m.data);
  } catch {
    return null;
  }
  if (createHash('sha256').update(bytes).digest('hex') !== sha256) return null;
  return JSON.parse(bytes.toString('utf8')) as PackageTuple[];
}

/** The package lists of one tenant's hosts, for the operator API (bound to the tenant: another's are missing). */
export interface TenantPackages {
  list(agentId: string, seq: number, sha256: string): Promise<PackageTuple[] | null>;
}

export function tenantPackages(streams: Streams, tenant: string): TenantPackages {
  return { list: (agentId, seq, sha256) => readPackageList(streams, tenant, agentId, seq, sha256) };
}

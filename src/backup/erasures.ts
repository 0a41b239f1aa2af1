import { privacyDecider } from '../../commands/privacy/decider.ts';
import type { KeysDestroyed } from '../../commands/privacy/events.ts';
import { tenantDecider, type TenantState } from '../../commands/tenants/decider.ts';
import { fold } from '../domain/decider.ts';
import type { Actor } from '../domain/events.ts';
import { derivedIds, execute } from '../domain/execute.ts';
import { agentSubject } from '../domain/personal.ts';
import { EvidenceStore } from '../evidence/store.ts';
import { isValidId } from '../ids.ts';
import { recordOffboardingAgain } from '../lifecycle/offboard.ts';
import { EventLog, type Streams } from '../log/mod.ts';
import { PACKAGES_STREAM, packagesTenantFilter } from '../patch/packages.ts';
import type { ErasureRecord, KeyStore, OffboardingRecord } from '../privacy/keystore.ts';
import { DATA_KEYS_BUCKET, openPrivacy, TENANT_KEYS_BUCKET } from '../privacy/mod.ts';
import { SCANS_STREAM, scansTenantFilter } from '../scan/runs/stream.ts';
import { parseTelemetrySubject, TELEMETRY_STREAM, telemetryTenantFilter } from '../telemetry/stream.ts';

/** Who records again, in a restored log, what the key store says was erased or offboarded after the backup. */
export const RESTORE_ACTOR: Actor = { kind: 'system', id: 'stockade-restore' };

/** What a restore did again of the erasures and offboardings the key store keeps. */
export interface Honoured {
  erasures: Array<{
    tenant: string;
    erasureId: string;
    /** The erasure is in the restored EVENTS again (false: the backup held it already, or the restored log never knew the tenant). */
    recorded: boolean;
    /** The machine's restored telemetry items removed again. */
    telemetryRemoved: number;
  }>;
  offboardings: Array<{
    tenant: string;
    /** `tenant.deleted` is the last entry of the tenant's restored chain again. */
    recorded: boolean;
    tokensRevoked: number;
    /** What of the tenant the restore had brought back and is removed again: messages by stream, evidence objects. */
    removed: { telemetry: number; packages: number; scans: number; evidence: number };
  }>;
}

/**
 * Makes a restored install honour what was forgotten after its backup was made. The key store is
 * never backed up, so in a NATS whose key store survived it knows every erasure and offboarding,
 * while the restored streams may predate them: each erasure is recorded again in EVENTS (the same
 * erasure id and event ids, so it is never there twice) and the machine's telemetry stored up to
 * the erasure is purged again from TELEMETRY (kept in the clear, and the restore brought it back);
 * each offboarded tenant loses again its telemetry, package lists, scan items and evidence, and
 * its chain ends with `tenant.deleted` again. Run after the restore has read everything back;
 * running it twice records and removes nothing more. Null when this NATS has no key store (then
 * nothing encrypted can be read at all).
 */
export async function honourErasures(streams: Streams): Promise<Honoured | null> {
  if (!(await streams.state(`KV_${TENANT_KEYS_BUCKET}`)) || !(await streams.state(`KV_${DATA_KEYS_BUCKET}`))) return null;
  const privacy = await openPrivacy(streams);
  try {
    // The erasure's reference is a sealed field: the log seals it again with the tenant's keys.
    const log = await EventLog.open(streams, { fields: privacy.cipher, skipEnsureStream: true });
    const offboardings = await privacy.keys.offboardings();
    const offboarded = new Set(offboardings.map((o) => o.tenant));
    const out: Honoured = { erasures: [], offboardings: [] };
    for (const e of await privacy.keys.erasures()) out.erasures.push(await eraseAgain(log, privacy.keys, e, offboarded.has(e.tenant)));
    for (const o of offboardings) out.offboardings.push(await offboardAgain(log, o));
    return out;
  } finally {
    privacy.close();
  }
}

async function tenantState(log: EventLog, tenant: string): Promise<TenantState> {
  return fold(tenantDecider, (await log.readAggregate({ tenant, aggregateType: tenantDecider.aggregateType, aggregateId: tenant })).events);
}

async function eraseAgain(log: EventLog, keys: KeyStore, e: ErasureRecord, offboarded: boolean): Promise<Honoured['erasures'][number]> {
  // An offboarded tenant's telemetry goes whole (and its subject ids can no longer be computed).
  const telemetryRemoved = offboarded || e.telemetryUpTo === 0 ? 0 : await purgeMachine(log.streams, keys, e);
  const state = await tenantState(log, e.tenant);
  let recorded = false;
  // Never after `tenant.deleted` (the last entry of a chain), nor into a log that never knew the tenant.
  if (state.exists && !state.deleted) {
    const destruction: KeysDestroyed = {
      reason: 'erasure',
      keyIds: e.keyIds,
      tenantKey: false,
      ...(e.telemetryRemoved ? { telemetryRemoved: e.telemetryRemoved } : {}),
      ...(e.reference ? { reference: e.reference } : {}),
      firstRecordedAt: e.at,
    };
    const done = await execute(
      log,
      { tenant: e.tenant, id: e.erasureId },
      privacyDecider,
      { kind: 'record-destruction', destruction },
      { actor: RESTORE_ACTOR, eventIds: derivedIds(e.tenant, 'erasure', e.erasureId), idempotent: true, known: 'new' },
    );
    recorded = done.position > 0 && !done.duplicate;
  }
  // Destroyed already; again in case the erasure stopped between its record and the destruction.
  await keys.destroy(e.tenant, e.keyIds);
  return { tenant: e.tenant, erasureId: e.erasureId, recorded, telemetryRemoved };
}

/** Purges, from TELEMETRY, the items stored up to the erasure by the machine whose subject id the erasure names. */
async function purgeMachine(streams: Streams, keys: KeyStore, e: ErasureRecord): Promise<number> {
  // Without its tenant key no subject id can be computed (and none must be made here: a new key would name nothing the erasure names).
  if (!((await keys.tenantKey(e.tenant, false)) instanceof Buffer)) return 0;
  let n = 0;
  for (const subject of (await streams.subjects(TELEMETRY_STREAM, telemetryTenantFilter(e.tenant))).keys()) {
    const agentId = parseTelemetrySubject(subject)?.agentId;
    if (!agentId || !isValidId('token', agentId)) continue;
    if ((await keys.subjectId(e.tenant, agentSubject(agentId))) !== e.subject) continue;
    // Sequences survive a restore: what the machine sent after the erasure stays.
    n += await streams.purge(TELEMETRY_STREAM, subject, e.telemetryUpTo + 1);
  }
  return n;
}

async function offboardAgain(log: EventLog, o: OffboardingRecord): Promise<Honoured['offboardings'][number]> {
  const { streams } = log;
  // What offboarding removes outside EVENTS, in its order: first the stores, then the last entry.
  const removed = {
    telemetry: await streams.purge(TELEMETRY_STREAM, telemetryTenantFilter(o.tenant)),
    packages: await streams.purge(PACKAGES_STREAM, packagesTenantFilter(o.tenant)),
    scans: await streams.purge(SCANS_STREAM, scansTenantFilter(o.tenant)),
    evidence: await new EvidenceStore(streams).destroy(o.tenant),
  };
  const again = await recordOffboardingAgain(log, o.tenant, { keyIds: o.keyIds, at: o.at, actor: RESTORE_ACTOR });
  return { tenant: o.tenant, ...again, removed };
}

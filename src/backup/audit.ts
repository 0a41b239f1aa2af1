import { isValidId, newId } from '../ids.ts';
import { EventLog, parseEventSubject, type Streams } from '../log/mod.ts';
import { StkError } from '../errors.ts';
import { deletedTenants } from '../lifecycle/readmodels.ts';
import type { BackupStream, Manifest } from './format.ts';

/** Aggregate of a backup run or a restore in a tenant's log: its id is the run's. */
export const BACKUP_AGGREGATE = 'backup';
export const BackupEvents = {
  /** A backup copied the tenant's records, items and evidence (and every tenant's ledger): what it covered and its manifest's SHA-256. */
  taken: 'backup.taken',
  /** The tenant's records were restored from backups: which ones, by their manifests' SHA-256. */
  restored: 'backup.restored',
} as const;

/** Who writes these events. */
const ACTOR = { kind: 'system' as const, id: 'stockade-backup' };

/** Subjects whose third token is the tenant: EVENTS, TELEMETRY, SCANS, PACKAGES, REFUSALS. */
const TENANT_SUBJECTS = new Set(['tm', 'sc', 'pk', 'refused']);

/** The tenant a stored message belongs to; null for a subject of no tenant (ledger blocks, checkpoints). */
export function tenantOfSubject(subject: string): string | null {
  if (subject.startsWith('ev.')) {
    try {
      return parseEventSubject(subject).tenant;
    } catch {
      return null;
    }
  }
  const p = subject.split('.');
  return p[0] !== undefined && TENANT_SUBJECTS.has(p[0]) && isValidId('tenant', p[2]) ? p[2] : null;
}

/** Counts a tenant's messages among those a backup or a restore handles (one counter per stream). */
export class TenantCounter {
  readonly counts = new Map<string, number>();

  add(subject: string): void {
    const tenant = tenantOfSubject(subject);
    if (tenant !== null) this.counts.set(tenant, (this.counts.get(tenant) ?? 0) + 1);
  }
}

/** Per stream, who had how many messages in a backup or a restore. */
export type Tally = Partial<Record<BackupStream, TenantCounter>>;

/** What a backup copied of one tenant's evidence: objects listed, and those whose bytes this backup holds. */
export interface EvidenceCopied {
  bucket: string;
  objects: number;
  copied: number;
  bytes: number;
}

/** What a `backup.taken` event says. */
export interface BackupTaken {
  backupId: string;
  kind: 'full' | 'increment';
  createdAt: string;
  /** SHA-256 of the backup's manifest.json: the whole backup is pinned by it (the manifest holds each file's SHA-256). */
  manifestSha256: string;
  /** For an increment, the manifest SHA-256 of the backup it continues. */
  baseManifestSha256: string | null;
  /** Sequence ranges of each stream copied (after `afterSeq`, up to `lastSeq`). */
  streams: Partial<Record<BackupStream, { afterSeq: number; lastSeq: number; messages: number }>>;
  /** This tenant's records in the copy. */
  tenantRecords: number;
  /** This tenant's messages in the copy of each other stream (TELEMETRY, SCANS, PACKAGES, REFUSALS). */
  tenantItems: Partial<Record<BackupStream, number>>;
  /** This tenant's evidence bucket in the copy; null when it has none. */
  evidence: EvidenceCopied | null;
}

/** What a `backup.restored` event says. */
export interface BackupRestored {
  restoreId: string;
  /** The backups restored, full first, by their manifests' SHA-256. */
  parts: Array<{ manifestSha256: string; createdAt: string }>;
  streams: Partial<Record<BackupStream, { messages: number; lastSeq: number }>>;
  tenantRecords: number;
  tenantItems: Partial<Record<BackupStream, number>>;
  /** This tenant's evidence objects restored (their bytes and headers as stored); null when it had none. */
  evidence: { bucket: string; objects: number; bytes: number } | null;
}

function itemsOf(tally: Tally, tenant: string): Partial<Record<BackupStream, number>> {
  const out: Partial<Record<BackupStream, number>> = {};
  for (const [stream, c] of Object.entries(tally) as Array<[BackupStream, TenantCounter]>)
    if (stream !== 'EVENTS' && stream !== 'LEDGER') out[stream] = c.counts.get(tenant) ?? 0;
  return out;
}

/**
 * The tenants whose logs record a run: those with records in it, and those of `known` (tenants
 * with records somewhere in the chain) whose items or evidence it holds. A message of a tenant
 * that has no log (a refused probe of a customer that does not exist) never starts one.
 */
function recordedTenants(tally: Tally, evidence: Record<string, unknown>, known: Set<string>): string[] {
  const out = new Set(tally.EVENTS?.counts.keys() ?? []);
  for (const c of Object.values(tally)) for (const t of c.counts.keys()) if (known.has(t)) out.add(t);
  for (const t of Object.keys(evidence)) if (known.has(t)) out.add(t);
  return [...out].sort();
}

/**
 * Records a finished backup in the log of every tenant whose records it copied, so each
 * tenant's sealed history says when copies of it were made, what they held of it, and which
 * manifest pins them. The event is appended after the manifest is written, so the backup's own
 * records do not hold it (the next backup does).
 */
export async function recordBackup(
  streams: Streams,
  m: Manifest,
  manifestSha256: string,
  tally: Tally,
  evidence: Record<string, EvidenceCopied>,
): Promise<number> {
  const backupId = newId();
  const data = (tenant: string): BackupTaken => ({
    backupId,
    kind: m.base ? 'increment' : 'full',
    createdAt: m.createdAt,
    manifestSha256,
    baseManifestSha256: m.base?.manifestSha256 ?? null,
    streams: Object.fromEntries(
      Object.entries(m.streams).map(([k, s]) => [k, { afterSeq: s.afterSeq, lastSeq: s.lastSeq, messages: s.messages }]),
    ) as BackupTaken['streams'],
    tenantRecords: tally.EVENTS?.counts.get(tenant) ?? 0,
    tenantItems: itemsOf(tally, tenant),
    evidence: evidence[tenant] ?? null,
  });
  return append(streams, backupId, BackupEvents.taken, recordedTenants(tally, evidence, new Set(m.tenants ?? [])), data, 'backup');
}

/** Records a finished restore in the restored log of every tenant it brought back. */
export async function recordRestore(
  streams: Streams,
  parts: Array<Manifest & { sha256: string }>,
  restored: BackupRestored['streams'],
  tally: Tally,
  evidence: Record<string, { bucket: string; objects: number; bytes: number }>,
): Promise<number> {
  const restoreId = newId();
  const data = (tenant: string): BackupRestored => ({
    restoreId,
    parts: parts.map((p) => ({ manifestSha256: p.sha256, createdAt: p.createdAt })),
    streams: restored,
    tenantRecords: tally.EVENTS?.counts.get(tenant) ?? 0,
    tenantItems: itemsOf(tally, tenant),
    evidence: evidence[tenant] ?? null,
  });
  const known = new Set(tally.EVENTS?.counts.keys() ?? []);
  return append(streams, restoreId, BackupEvents.restored, recordedTenants(tally, evidence, known), data, 'restore');
}

async function append<T>(streams: Streams, id: string, type: string, tenants: string[], data: (t: string) => T, what: string): Promise<number> {
  const log = await EventLog.open(streams, { skipEnsureStream: true });
  // An offboarded tenant's log ends with its deletion (and its final checkpoint): nothing is added after.
  const gone = await deletedTenants(log);
  const recorded = tenants.filter((t) => !gone.has(t));
  let n = 0;
  for (const tenant of recorded) {
    try {
      await log.appendOrThrow({ tenant, aggregateType: BACKUP_AGGREGATE, aggregateId: id }, [{ type, data: data(tenant) }], {
        expectedVersion: 'no_stream',
        actor: ACTOR,
      });
    } catch (err) {
      throw new StkError(
        'STK_ERR_BACKUP_UNRECORDED',
        `the ${what} is complete, but it could not be recorded in the log of ${tenant} (${n} of ${recorded.length} recorded): ${(err as Error).message}; a NATS user that may append events (app) records it`,
        { tenant, recorded: n },
        { cause: err },
      );
    }
    n++;
  }
  return n;
}

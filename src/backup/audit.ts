import { newId } from '../ids.ts';
import { EventLog, parseEventSubject, type Streams } from '../log/mod.ts';
import { StkError } from '../errors.ts';
import type { BackupStream, Manifest } from './format.ts';

/** Aggregate of a backup run or a restore in a tenant's log: its id is the run's. */
export const BACKUP_AGGREGATE = 'backup';
export const BackupEvents = {
  /** A backup copied the tenant's records (and every tenant's ledger): what it covered and its manifest's SHA-256. */
  taken: 'backup.taken',
  /** The tenant's records were restored from backups: which ones, by their manifests' SHA-256. */
  restored: 'backup.restored',
} as const;

/** Who writes these events. */
const ACTOR = { kind: 'system' as const, id: 'stockade-backup' };

/** Counts a tenant's records among the messages a backup or a restore handles. */
export class TenantCounter {
  readonly counts = new Map<string, number>();

  add(subject: string): void {
    let tenant: string;
    try {
      tenant = parseEventSubject(subject).tenant;
    } catch {
      return; // not a record subject
    }
    this.counts.set(tenant, (this.counts.get(tenant) ?? 0) + 1);
  }
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
  streams: Record<BackupStream, { afterSeq: number; lastSeq: number; messages: number }>;
  /** This tenant's records in the copy. */
  tenantRecords: number;
}

/** What a `backup.restored` event says. */
export interface BackupRestored {
  restoreId: string;
  /** The backups restored, full first, by their manifests' SHA-256. */
  parts: Array<{ manifestSha256: string; createdAt: string }>;
  streams: Record<BackupStream, { messages: number; lastSeq: number }>;
  tenantRecords: number;
}

/**
 * Records a finished backup in the log of every tenant whose records it copied, so each
 * tenant's sealed history says when copies of it were made and which manifest pins them. The
 * event is appended after the manifest is written, so the backup's own records do not hold it
 * (the next backup does).
 */
export async function recordBackup(streams: Streams, m: Manifest, manifestSha256: string, tenants: TenantCounter): Promise<number> {
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
    tenantRecords: tenants.counts.get(tenant) ?? 0,
  });
  return append(streams, backupId, BackupEvents.taken, tenants, data, 'backup');
}

/** Records a finished restore in the restored log of every tenant it brought back. */
export async function recordRestore(
  streams: Streams,
  parts: Array<Manifest & { sha256: string }>,
  restored: BackupRestored['streams'],
  tenants: TenantCounter,
): Promise<number> {
  const restoreId = newId();
  const data = (tenant: string): BackupRestored => ({
    restoreId,
    parts: parts.map((p) => ({ manifestSha256: p.sha256, createdAt: p.createdAt })),
    streams: restored,
    tenantRecords: tenants.counts.get(tenant) ?? 0,
  });
  return append(streams, restoreId, BackupEvents.restored, tenants, data, 'restore');
}

async function append<T>(streams: Streams, id: string, type: string, tenants: TenantCounter, data: (t: string) => T, what: string): Promise<number> {
  const log = await EventLog.open(streams, { skipEnsureStream: true });
  let n = 0;
  for (const tenant of [...tenants.counts.keys()].sort()) {
    try {
      await log.appendOrThrow({ tenant, aggregateType: BACKUP_AGGREGATE, aggregateId: id }, [{ type, data: data(tenant) }], {
        expectedVersion: 'no_stream',
        actor: ACTOR,
      });
    } catch (err) {
      throw new StkError(
        'STK_ERR_BACKUP_UNRECORDED',
        `the ${what} is complete, but it could not be recorded in the log of ${tenant} (${n} of ${tenants.counts.size} recorded): ${(err as Error).message}; a NATS user that may append events (app) records it`,
        { tenant, recorded: n },
        { cause: err },
      );
    }
    n++;
  }
  return n;
}

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { StkError } from '../errors.ts';
import { ledgerStreamSpec } from '../ledger/stream.ts';
import { eventsStreamSpec, type StreamSpec, type Streams } from '../log/mod.ts';
import { packagesStreamSpec } from '../patch/packages.ts';
import { refusalsStreamSpec } from '../people/refusals.ts';
import { scansStreamSpec } from '../scan/runs/stream.ts';
import { telemetryStreamSpec } from '../telemetry/stream.ts';
import { recordRestore, type Tally, TenantCounter } from './audit.ts';
import { headersOf } from './backup.ts';
import { type Honoured, honourErasures } from './erasures.ts';
import { type BackupStream, ContentDigest, type Manifest, parseLine, RESTORE_ORDER, readChain, streamsOf } from './format.ts';
import { checkObjectFiles, finalBuckets, readBackBuckets, restoreBuckets } from './objects.ts';
import { createForRestore, DEFAULT_DUPLICATE_WINDOW_MS, republish } from './republish.ts';

export interface RestoreOptions {
  streams: Streams;
  /** A full backup, then any increments of it in the order they were taken. */
  from: string[];
  /** Replicas of the created streams and buckets (3 on the cluster). @defaultValue 1 */
  replicas?: number;
  /** Record the restore as a `backup.restored` event in each tenant's restored log. @defaultValue true */
  record?: boolean;
  /**
   * Honour what the key store says was erased or offboarded after the backup (`honourErasures`):
   * record it again in EVENTS and purge again what the restore brought back in the clear. @defaultValue true
   */
  honourErasures?: boolean;
  onProgress?: (p: { stream: string; messages: number; of: number }) => void;
}

type Part = Manifest & { dir: string };

export interface RestoreSummary {
  /** The manifests restored, full backup first. */
  parts: Part[];
  streams: Partial<Record<BackupStream, { messages: number; lastSeq: number }>>;
  /** Evidence restored, by tenant. */
  evidence: Record<string, { bucket: string; objects: number; bytes: number }>;
  /** Tenants whose logs now record the restore. */
  recorded: number;
  /** Erasures and offboardings done after the backup, honoured again; null when this NATS has no key store (or when not asked). */
  honoured: Honoured | null;
}

/**
 * Each stream as Stockade declares it, with its default limits: `stockade serve` brings the
 * mutable ones (size, age, duplicate window) to its configuration when it starts.
 */
const SPECS: Record<BackupStream, (replicas: number) => StreamSpec> = {
  EVENTS: (replicas) => eventsStreamSpec({ replicas }),
  LEDGER: (replicas) => ledgerStreamSpec({ replicas }),
  TELEMETRY: (replicas) => telemetryStreamSpec({ replicas }),
  SCANS: (replicas) => scansStreamSpec({ replicas }),
  PACKAGES: (replicas) => packagesStreamSpec({ replicas }),
  REFUSALS: (replicas) => refusalsStreamSpec(replicas),
};

/**
 * Restores a backup into a NATS where none of its streams and evidence buckets exist: checks every
 * file against the manifest first (nothing is written from a backup that fails), creates the
 * streams with Stockade's settings, republishes every message in order with its headers (at its
 * original sequence where the stream allows it), puts every evidence object back with its stored
 * bytes and headers, then reads everything back and compares counts and content digests with the
 * manifests. What is referenced is written before what references it (items, then EVENTS, then LEDGER).
 * Last, where the key store survived, the erasures and offboardings done since the backup are
 * honoured again (recorded in EVENTS, their plaintext purged again).
 */
export async function restoreStreams(o: RestoreOptions): Promise<RestoreSummary> {
  const parts = readChain(o.from);
  const names = streamsOf(parts[0]!);
  for (const part of parts) for (const stream of names) await checkFile(part.dir, stream, part);
  await checkObjectFiles(parts);
  const targets = [...names, ...Object.keys(finalBuckets(parts)).map((b) => `OBJ_${b}`)];
  for (const target of targets) {
    if (await o.streams.state(target)) {
      throw new StkError(
        'STK_ERR_RESTORE_TARGET_EXISTS',
        `stream ${target} already exists on the target NATS; restore only into a NATS without ${targets.join(', ')} (stop Stockade first, and do not start it before the restore ends)`,
        { stream: target },
      );
    }
  }
  const replicas = o.replicas ?? 1;
  const order = RESTORE_ORDER.filter((s) => names.includes(s));
  const created = {} as Record<BackupStream, StreamSpec>;
  for (const stream of order) {
    const holds = parts.reduce((sum, p) => sum + (p.streams[stream]?.bytes ?? 0), 0);
    created[stream] = await createForRestore(o.streams, SPECS[stream](replicas), holds);
  }
  const streams: RestoreSummary['streams'] = {};
  const tally: Tally = {};
  let evidence: RestoreSummary['evidence'] = {};
  for (const stream of order) {
    // Evidence is referenced by records (by its SHA-256): in before EVENTS.
    if (stream === 'EVENTS') evidence = await restoreBuckets(o.streams, parts, replicas, o.onProgress);
    const counter = stream === 'LEDGER' ? null : new TenantCounter();
    if (counter) tally[stream] = counter;
    const windowMs = SPECS[stream](replicas).duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS;
    const r = await republish(o.streams, stream, created[stream], windowMs, parts, counter, o.onProgress);
    streams[stream] = { messages: r.messages, lastSeq: r.lastSeq };
  }
  for (const stream of order) await readBack(o.streams, stream, parts, streams[stream]!.lastSeq, !created[stream].denyPurge);
  await readBackBuckets(o.streams, parts);
  // Appended only once everything reads back equal to the backup: never part of what is compared.
  const recorded = o.record === false ? 0 : await recordRestore(o.streams, parts, streams, tally, evidence);
  let honoured: Honoured | null = null;
  try {
    if (o.honourErasures !== false) honoured = await honourErasures(o.streams);
  } catch (err) {
    throw new StkError(
      'STK_ERR_RESTORE_UNHONOURED',
      `the restore is complete, but the erasures and offboardings done after the backup could not all be honoured again: ${(err as Error).message}; run \`stockade restore --honour-erasures-only\` as a NATS user that reads the key store and appends events (app) before starting Stockade`,
      {},
      { cause: err },
    );
  }
  return { parts, streams, evidence, recorded, honoured };
}

/**
 * Reads a restored stream back and checks it against every part's manifest: each part has its
 * own digest, so the messages are fed to one digest after another, by each part's count. Where
 * sequences are kept, each part's first and last message must sit at the sequences it lists.
 */
async function readBack(streams: Streams, stream: BackupStream, parts: Part[], lastSeq: number, keepSeqs: boolean): Promise<void> {
  let i = 0;
  let digest = new ContentDigest();
  let first = 0;
  let last = 0;
  const endPart = (): void => {
    const want = parts[i]!.streams[stream]!;
    const got = digest.hex();
    const seqsOk = !keepSeqs || digest.count === 0 || (first === want.firstSeq && last === want.lastSeq);
    if (digest.count !== want.messages || got !== want.contentDigest || !seqsOk) {
      throw new StkError(
        'STK_ERR_RESTORE_MISMATCH',
        `restored ${stream} reads back ${digest.count} message(s) (sequences ${first} to ${last}) with digest ${got} for ${parts[i]!.dir}; the backup has ${want.messages} (${want.firstSeq} to ${want.lastSeq}) with ${want.contentDigest}`,
        { stream, dir: parts[i]!.dir },
      );
    }
    i++;
    digest = new ContentDigest();
    first = 0;
  };
  // Also ends parts that hold no message of this stream (an increment with nothing new).
  const endFullParts = (): void => {
    while (i < parts.length && parts[i]!.streams[stream]!.messages === digest.count) endPart();
  };
  endFullParts();
  await streams.scanEach(stream, { toSeq: lastSeq }, (m) => {
    if (first === 0) first = m.seq;
    last = m.seq;
    digest.add(m.subject, headersOf(m), m.data);
    endFullParts();
  });
  if (i !== parts.length) endPart();
}

/** The file's SHA-256, line count and content digest must all be the manifest's. */
async function checkFile(dir: string, stream: BackupStream, manifest: Manifest): Promise<void> {
  const want = manifest.streams[stream]!;
  const fileHash = createHash('sha256');
  const digest = new ContentDigest();
  const path = join(dir, want.file);
  const input = createReadStream(path);
  input.on('data', (chunk) => fileHash.update(chunk));
  let n = 0;
  try {
    for await (const text of createInterface({ input, crlfDelay: Infinity })) {
      const line = parseLine(text, { file: want.file, line: ++n });
      digest.add(line.subject, line.headers, Buffer.from(line.data, 'base64'));
    }
  } catch (err) {
    if (err instanceof StkError) throw err;
    throw new StkError('STK_ERR_BACKUP_CORRUPT', `cannot read ${path}: ${(err as Error).message}`, { stream, file: want.file }, { cause: err });
  }
  const sha = fileHash.digest('hex');
  if (sha !== want.sha256)
    throw new StkError('STK_ERR_BACKUP_CORRUPT', `${want.file} has SHA-256 ${sha}, the manifest says ${want.sha256}`, { stream, file: want.file });
  if (digest.count !== want.messages || digest.hex() !== want.contentDigest) {
    throw new StkError('STK_ERR_BACKUP_CORRUPT', `${want.file} holds ${digest.count} message(s) that do not match the manifest`, { stream, file: want.file });
  }
}

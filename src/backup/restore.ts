import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { StkError } from '../errors.ts';
import { ledgerStreamSpec } from '../ledger/stream.ts';
import { eventsStreamSpec, type Ack, type Streams } from '../log/mod.ts';
import { TenantCounter, recordRestore } from './audit.ts';
import { headersOf } from './backup.ts';
import { BACKUP_STREAMS, ContentDigest, parseLine, readChain, RESTORE_ORDER, type BackupStream, type Manifest } from './format.ts';

export interface RestoreOptions {
  streams: Streams;
  /** A full backup, then any increments of it in the order they were taken. */
  from: string[];
  /** Replicas of the created streams (3 on the cluster). @defaultValue 1 */
  replicas?: number;
  /** Record the restore as a `backup.restored` event in each tenant's restored log. @defaultValue true */
  record?: boolean;
  onProgress?: (p: { stream: string; messages: number; of: number }) => void;
}

type Part = Manifest & { dir: string };

export interface RestoreSummary {
  /** The manifests restored, full backup first. */
  parts: Part[];
  streams: Record<BackupStream, { messages: number; lastSeq: number }>;
  /** Tenants whose logs now record the restore. */
  recorded: number;
}

/** Publishes in flight at once: enough to keep the server busy, bounded so memory is too. */
const WINDOW = 2048;

/**
 * Restores a backup into a NATS where EVENTS and LEDGER do not exist: checks every file against
 * the manifest first (nothing is written from a backup that fails), creates the streams with
 * Stockade's settings, republishes every message in order with its headers, then reads each
 * restored stream back and compares count and content digest with the manifest.
 */
export async function restoreStreams(o: RestoreOptions): Promise<RestoreSummary> {
  const parts = readChain(o.from);
  for (const part of parts) for (const stream of BACKUP_STREAMS) await checkFile(part.dir, stream, part);
  for (const stream of BACKUP_STREAMS) {
    if (await o.streams.state(stream)) {
      throw new StkError(
        'STK_ERR_RESTORE_TARGET_EXISTS',
        `stream ${stream} already exists on the target NATS; restore only into a NATS without EVENTS and LEDGER (stop Stockade first, and do not start it before the restore ends)`,
        { stream },
      );
    }
  }
  await o.streams.ensureStream(eventsStreamSpec({ replicas: o.replicas ?? 1 }));
  await o.streams.ensureStream(ledgerStreamSpec({ replicas: o.replicas ?? 1 }));
  const streams = {} as RestoreSummary['streams'];
  const tenants = new TenantCounter();
  for (const stream of RESTORE_ORDER) streams[stream] = await republish(o, stream, parts, stream === 'EVENTS' ? tenants : null);
  for (const stream of RESTORE_ORDER) await readBack(o.streams, stream, parts, streams[stream].lastSeq);
  // Appended only once both streams read back equal to the backup: never part of what is compared.
  const recorded = o.record === false ? 0 : await recordRestore(o.streams, parts, streams, tenants);
  return { parts, streams, recorded };
}

/**
 * Reads a restored stream back and checks it against every part's manifest: each part has its
 * own digest, so the messages are fed to one digest after another, by each part's count.
 */
async function readBack(streams: Streams, stream: BackupStream, parts: Part[], lastSeq: number): Promise<void> {
  let i = 0;
  let digest = new ContentDigest();
  const endPart = (): void => {
    const want = parts[i]!.streams[stream];
    const got = digest.hex();
    if (digest.count !== want.messages || got !== want.contentDigest) {
      throw new StkError(
        'STK_ERR_RESTORE_MISMATCH',
        `restored ${stream} reads back ${digest.count} message(s) with digest ${got} for ${parts[i]!.dir}; the backup has ${want.messages} with ${want.contentDigest}`,
        { stream, dir: parts[i]!.dir },
      );
    }
    i++;
    digest = new ContentDigest();
  };
  // Also ends parts that hold no message of this stream (an increment with nothing new).
  const endFullParts = (): void => {
    while (i < parts.length && parts[i]!.streams[stream].messages === digest.count) endPart();
  };
  endFullParts();
  await streams.scanEach(stream, { toSeq: lastSeq }, (m) => {
    digest.add(m.subject, headersOf(m), m.data);
    endFullParts();
  });
  if (i !== parts.length) endPart();
}

/** The file's SHA-256, line count and content digest must all be the manifest's. */
async function checkFile(dir: string, stream: BackupStream, manifest: Manifest): Promise<void> {
  const want = manifest.streams[stream];
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

/**
 * Republishes a stream's messages with a window of acks in flight. The target stream is new, so
 * the n-th message must be stored at sequence n: an ack that says otherwise (or a duplicate) means
 * the order or the count was not kept, and the restore stops.
 */
async function republish(
  o: RestoreOptions,
  stream: BackupStream,
  parts: Part[],
  tenants: TenantCounter | null,
): Promise<{ messages: number; lastSeq: number }> {
  const total = parts.reduce((sum, p) => sum + p.streams[stream].messages, 0);
  const check = (ack: Ack, expected: number): void => {
    if (ack.duplicate || ack.seq !== expected) {
      throw new StkError(
        'STK_ERR_RESTORE_MISMATCH',
        `${stream}: backup message ${expected} was stored ${ack.duplicate ? 'as a duplicate' : `at sequence ${ack.seq}`}`,
        { stream, expected, seq: ack.seq, duplicate: ack.duplicate },
      );
    }
    if (expected % 10_000 === 0) o.onProgress?.({ stream, messages: expected, of: total });
  };
  async function* lines() {
    for (const part of parts) {
      const file = part.streams[stream].file;
      let lineNo = 0;
      for await (const text of createInterface({ input: createReadStream(join(part.dir, file)), crlfDelay: Number.POSITIVE_INFINITY })) {
        const line = parseLine(text, { file, line: ++lineNo });
        const { 'Nats-Msg-Id': msgId, ...rest } = line.headers;
        tenants?.add(line.subject);
        yield { subject: line.subject, data: Buffer.from(line.data, 'base64'), msgId: msgId!, headers: rest };
      }
    }
  }
  let n: number;
  try {
    n = await o.streams.publishAll(lines(), { window: WINDOW, timeoutMs: 30_000, onAck: check });
  } catch (failure) {
    if (failure instanceof StkError) throw failure;
    throw new StkError('STK_ERR_LOG_UNAVAILABLE', `restoring ${stream} failed: ${(failure as Error)?.message ?? failure}`, { stream }, { cause: failure });
  }
  const lastSeq = (await o.streams.state(stream))?.lastSeq ?? 0;
  if (n !== total || lastSeq !== n) {
    throw new StkError('STK_ERR_RESTORE_MISMATCH', `${stream}: ${n} message(s) republished, stream ends at ${lastSeq}, the backup has ${total}`, { stream });
  }
  return { messages: n, lastSeq };
}

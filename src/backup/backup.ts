import { createHash } from 'node:crypto';
import { mkdir, open, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StkError } from '../errors.ts';
import { TenantCounter, recordBackup, type Tally } from './audit.ts';
import { backupBuckets } from './objects.ts';
import type { StoredMessage, Streams } from '../log/mod.ts';
import {
  BACKUP_FORMAT,
  BACKUP_STREAMS,
  ContentDigest,
  fileOf,
  keptHeader,
  MANIFEST_FILE,
  readManifest,
  toolVersion,
  type BackupLine,
  type BackupStream,
  type Manifest,
  type StreamEntry,
} from './format.ts';

export interface BackupOptions {
  streams: Streams;
  /** Record the run as a `backup.taken` event in each tenant's log (docs/operations.md). @defaultValue true */
  record?: boolean;
  /** A new or empty folder. */
  out: string;
  /** A previous backup (full or increment) of the same streams: copy only what was stored after it. */
  since?: string;
  onProgress?: (p: { stream: string; messages: number; of: number }) => void;
}

/** Flush the line buffer to the file at about this size: one write per many lines. */
const WRITE_CHUNK = 1 << 20;

/**
 * Copies every stream whose loss would lose customer data or break a proof (EVENTS, LEDGER,
 * TELEMETRY, SCANS, PACKAGES, REFUSALS), each as it stands when its read starts, then every
 * tenant's evidence bucket, into `out` while Stockade keeps running: an ordered consumer per
 * stream (no acks, nothing left on the server afterwards) reads up to the stream's last sequence
 * at that moment. The manifest is written last, so a folder without one is a backup that did not
 * finish. The field-encryption key store is never read.
 */
export async function backupStreams(
  o: BackupOptions,
): Promise<Manifest & { streams: Record<BackupStream, StreamEntry>; manifestSha256: string; recorded: number }> {
  await mkdir(o.out, { recursive: true });
  if ((await readdir(o.out)).length > 0) throw new StkError('STK_ERR_CONFIG', `backup folder ${o.out} is not empty`, { out: o.out });
  const base = o.since ? readManifest(o.since) : null;
  if (base && base.format !== BACKUP_FORMAT)
    throw new StkError(
      'STK_ERR_CONFIG',
      `the base backup ${o.since} is of format ${base.format} (EVENTS and LEDGER only); take a full backup, which also copies telemetry, scans, package lists, refusals and evidence`,
      { since: o.since, format: base.format },
    );
  if (base) for (const stream of BACKUP_STREAMS) await assertContinues(o.streams, stream, base.streams[stream]!);
  const streams = {} as Record<BackupStream, StreamEntry>;
  const tally: Tally = {};
  for (const stream of BACKUP_STREAMS) {
    const counter = stream === 'LEDGER' ? null : new TenantCounter();
    if (counter) tally[stream] = counter;
    streams[stream] = await backupStream(o.streams, stream, base?.streams[stream] ?? null, o, counter);
  }
  const tenants = [...new Set([...(base?.tenants ?? []), ...(tally.EVENTS?.counts.keys() ?? [])])].sort();
  const { buckets, copied } = await backupBuckets(o.streams, o.out, tenants, base);
  const manifest: Manifest & { streams: Record<BackupStream, StreamEntry> } = {
    format: BACKUP_FORMAT,
    tool: 'stockade',
    version: toolVersion(),
    createdAt: new Date().toISOString(),
    base: base ? { manifestSha256: base.sha256, createdAt: base.createdAt } : null,
    streams,
    buckets,
    tenants,
  };
  const tmp = join(o.out, `${MANIFEST_FILE}.partial`);
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  await writeFile(tmp, text);
  await rename(tmp, join(o.out, MANIFEST_FILE));
  const manifestSha256 = createHash('sha256').update(text).digest('hex');
  const recorded = o.record === false ? 0 : await recordBackup(o.streams, manifest, manifestSha256, tally, copied);
  return Object.assign(manifest, { manifestSha256, recorded });
}

/**
 * An increment continues its base only on the very stream the base was read from: the message at
 * the base's last sequence must still be there with the same id (a recreated stream, or a
 * restored one whose original had gaps, numbers its messages anew, and an increment from it would
 * skip or repeat messages). Streams that drop messages (retention, a tenant's telemetry erased)
 * may have lost that one: there, a missing message is accepted when the stream has reached the
 * base's sequence (EVENTS and LEDGER, which never drop one, have already shown it is the same install).
 */
async function assertContinues(streams: Streams, stream: BackupStream, base: StreamEntry): Promise<void> {
  if (base.lastSeq === 0) return;
  const m = await streams.at(stream, base.lastSeq);
  const id = m?.headers?.get('Nats-Msg-Id') || null;
  if (m && id === base.lastMsgId) return;
  if (!m && stream !== 'EVENTS' && stream !== 'LEDGER' && ((await streams.state(stream))?.lastSeq ?? 0) >= base.lastSeq) return;
  throw new StkError(
    'STK_ERR_CONFIG',
    `${stream} is not the stream the base backup was taken from (message ${base.lastSeq} is ${m ? `id ${id}` : 'missing'}, the base has ${base.lastMsgId}); take a full backup`,
    { stream, seq: base.lastSeq },
  );
}

async function backupStream(
  streams: Streams,
  stream: BackupStream,
  base: StreamEntry | null,
  o: BackupOptions,
  tenants: TenantCounter | null,
): Promise<StreamEntry> {
  const afterSeq = base?.lastSeq ?? 0;
  const file = fileOf(stream);
  const fh = await open(join(o.out, file), 'wx');
  const fileHash = createHash('sha256');
  const digest = new ContentDigest();
  let bytes = 0;
  let firstSeq = 0;
  let lastSeq = afterSeq;
  let lastMsgId = base?.lastMsgId ?? null;
  let buf: string[] = [];
  let bufLen = 0;
  let upTo = afterSeq;
  const flush = async (): Promise<void> => {
    if (buf.length === 0) return;
    const chunk = Buffer.from(buf.join(''), 'utf8');
    buf = [];
    bufLen = 0;
    fileHash.update(chunk);
    bytes += chunk.length;
    await fh.write(chunk);
  };
  try {
    upTo = Math.max(afterSeq, (await streams.state(stream))?.lastSeq ?? 0);
    await streams.scanEach(stream, { fromSeq: afterSeq + 1, toSeq: upTo }, (m) => {
      const headers = headersOf(m);
      digest.add(m.subject, headers, m.data);
      tenants?.add(m.subject);
      const line: BackupLine = { seq: m.seq, time: m.time.toISOString(), subject: m.subject, headers, data: Buffer.from(m.data).toString('base64') };
      const text = `${JSON.stringify(line)}\n`;
      buf.push(text);
      bufLen += text.length;
      if (firstSeq === 0) firstSeq = m.seq;
      lastSeq = m.seq;
      lastMsgId = headers['Nats-Msg-Id'] ?? null;
      if (bufLen < WRITE_CHUNK) return;
      o.onProgress?.({ stream, messages: digest.count, of: upTo });
      return flush();
    });
    await flush();
    await fh.sync();
  } finally {
    await fh.close();
  }
  return {
    file,
    messages: digest.count,
    afterSeq,
    firstSeq,
    lastSeq,
    endSeq: upTo,
    lastMsgId,
    sha256: fileHash.digest('hex'),
    bytes,
    contentDigest: digest.hex(),
  };
}

export function headersOf(m: StoredMessage): Record<string, string> {
  const out: Record<string, string> = {};
  if (!m.headers) return out;
  for (const k of m.headers.keys()) if (keptHeader(k)) out[k] = m.headers.get(k);
  return out;
}

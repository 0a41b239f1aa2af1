import { jetstream, jetstreamManager, DeliverPolicy, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StkError } from '../errors.ts';
import { isStreamNotFound } from '../ledger/stream.ts';
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
  nc: NatsConnection;
  /** A new or empty folder. */
  out: string;
  /** A previous backup (full or increment) of the same streams: copy only what was stored after it. */
  since?: string;
  onProgress?: (p: { stream: string; messages: number; of: number }) => void;
}

/** Flush the line buffer to the file at about this size: one write per many lines. */
const WRITE_CHUNK = 1 << 20;

/**
 * Copies EVENTS and LEDGER, as they stand when each read starts, into `out` while Stockade keeps
 * running: an ordered consumer per stream (no acks, nothing left on the server afterwards) reads
 * up to the stream's last sequence at that moment. The manifest is written last, so a folder
 * without one is a backup that did not finish.
 */
export async function backupStreams(o: BackupOptions): Promise<Manifest> {
  await mkdir(o.out, { recursive: true });
  if ((await readdir(o.out)).length > 0) throw new StkError('STK_ERR_CONFIG', `backup folder ${o.out} is not empty`, { out: o.out });
  const base = o.since ? readManifest(o.since) : null;
  const jsm = await jetstreamManager(o.nc);
  const js = jetstream(o.nc);
  if (base) for (const stream of BACKUP_STREAMS) await assertContinues(jsm, stream, base.streams[stream]);
  const streams = {} as Record<BackupStream, StreamEntry>;
  for (const stream of BACKUP_STREAMS) streams[stream] = await backupStream(jsm, js, stream, base?.streams[stream] ?? null, o);
  const manifest: Manifest = {
    format: BACKUP_FORMAT,
    tool: 'stockade',
    version: toolVersion(),
    createdAt: new Date().toISOString(),
    base: base ? { manifestSha256: base.sha256, createdAt: base.createdAt } : null,
    streams,
  };
  const tmp = join(o.out, `${MANIFEST_FILE}.partial`);
  await writeFile(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(tmp, join(o.out, MANIFEST_FILE));
  return manifest;
}

/**
 * An increment continues its base only on the very stream the base was read from: the message at
 * the base's last sequence must still be there with the same id (a recreated stream, or a
 * restored one whose original had gaps, numbers its messages anew, and an increment from it would
 * skip or repeat messages).
 */
async function assertContinues(jsm: JetStreamManager, stream: BackupStream, base: StreamEntry): Promise<void> {
  if (base.lastSeq === 0) return;
  const m = await jsm.streams.getMessage(stream, { seq: base.lastSeq }).catch(() => null);
  const id = m?.header?.get('Nats-Msg-Id') || null;
  if (!m || id !== base.lastMsgId) {
    throw new StkError(
      'STK_ERR_CONFIG',
      `${stream} is not the stream the base backup was taken from (message ${base.lastSeq} is ${m ? `id ${id}` : 'missing'}, the base has ${base.lastMsgId}); take a full backup`,
      { stream, seq: base.lastSeq },
    );
  }
}

async function backupStream(
  jsm: JetStreamManager,
  js: JetStreamClient,
  stream: BackupStream,
  base: StreamEntry | null,
  o: BackupOptions,
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
    const upTo = await lastSequence(jsm, stream);
    await readStream(js, stream, afterSeq + 1, upTo, (m) => {
      const headers = headersOf(m);
      digest.add(m.subject, headers, m.data);
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
  return { file, messages: digest.count, afterSeq, firstSeq, lastSeq, lastMsgId, sha256: fileHash.digest('hex'), bytes, contentDigest: digest.hex() };
}

/** Last sequence of a stream now; 0 for a stream that does not exist (LEDGER before the first sealer). */
export async function lastSequence(jsm: JetStreamManager, stream: string): Promise<number> {
  try {
    return (await jsm.streams.info(stream)).state.last_seq;
  } catch (err) {
    if (isStreamNotFound(err)) return 0;
    throw unavailable(err, `cannot read the state of stream ${stream}`);
  }
}

/**
 * Hands every message of `stream` with a sequence in [fromSeq, toSeq] to `each`, in order, over
 * an ordered consumer: it restarts itself after a gap or a reconnect, so the range is read whole.
 */
export async function readStream(js: JetStreamClient, stream: string, fromSeq: number, toSeq: number, each: (m: JsMsg) => void | Promise<void>): Promise<void> {
  if (toSeq < fromSeq) return;
  let messages;
  try {
    const consumer = await js.consumers.get(
      stream,
      fromSeq > 1 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: fromSeq } : { deliver_policy: DeliverPolicy.All },
    );
    // Nothing stored from fromSeq on (an empty stream): consuming would wait for a message forever.
    if ((await consumer.info(true)).num_pending === 0) return;
    messages = await consumer.consume({ max_messages: 2048 });
  } catch (err) {
    throw unavailable(err, `cannot read stream ${stream}`);
  }
  let after = fromSeq - 1;
  try {
    for await (const m of messages) {
      if (m.seq <= after) continue;
      if (m.seq > toSeq) break;
      after = m.seq;
      // Most calls return nothing; awaiting only a returned promise saves a promise per message.
      const pending = each(m);
      if (pending) await pending;
      // pending 0 before toSeq: the messages up to toSeq were deleted meanwhile, none will come.
      if (m.seq >= toSeq || m.info.pending === 0) break;
    }
  } finally {
    await messages.close().catch(() => {});
  }
}

export function headersOf(m: JsMsg): Record<string, string> {
  const out: Record<string, string> = {};
  if (!m.headers) return out;
  for (const k of m.headers.keys()) if (keptHeader(k)) out[k] = m.headers.get(k);
  return out;
}

function unavailable(err: unknown, what: string): StkError {
  if (err instanceof StkError) return err;
  return new StkError('STK_ERR_LOG_UNAVAILABLE', `${what}: ${(err as Error)?.message ?? err}`, {}, { cause: err });
}

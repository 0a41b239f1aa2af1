import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { isStkError, StkError } from '../errors.ts';
import type { Ack, StreamSpec, Streams } from '../log/mod.ts';
import type { TenantCounter } from './audit.ts';
import { type BackupStream, type Manifest, parseLine } from './format.ts';

type Part = Manifest & { dir: string };

/** Publishes in flight at once: enough to keep the server busy, bounded so memory is too. */
const WINDOW = 2048;
/**
 * The duplicate window of a stream while it is restored (the server's smallest): a message id the
 * original stored twice, minutes apart (a host's package list that came back to an earlier one, a
 * batch resent after an outage), must be stored twice again. The stream gets its own window back
 * at the end.
 */
export const RESTORE_DUPLICATE_WINDOW_MS = 100;
/** The server's window when a spec names none. */
export const DEFAULT_DUPLICATE_WINDOW_MS = 120_000;

type Outgoing = { subject: string; data: Uint8Array; msgId: string; headers?: Record<string, string> };

/** The subject gap fillers are published on: inside the stream's subjects, and never one of Stockade's (they have more tokens). */
function fillerSubject(spec: StreamSpec): string {
  const first = spec.subjects[0] ?? '';
  return `${first.replace(/\.>$/, '')}.restore-gap`;
}

function insufficientStorage(err: unknown): boolean {
  const text = `${(err as Error)?.message ?? ''} ${((err as { cause?: Error })?.cause as Error | undefined)?.message ?? ''}`;
  return isStkError(err, 'STK_ERR_LOG_UNAVAILABLE') && /insufficient (storage )?resources/i.test(text);
}

/**
 * Creates `spec` for a restore, with the restore's duplicate window. A bounded stream larger than
 * the server has room for is halved until it fits, down to what the backup holds (as
 * `stockade serve` does for TELEMETRY); returns the size it got.
 */
export async function createForRestore(streams: Streams, spec: StreamSpec, holdsBytes: number): Promise<StreamSpec> {
  let s: StreamSpec = { ...spec, duplicateWindowMs: RESTORE_DUPLICATE_WINDOW_MS, updateMutable: false };
  for (;;) {
    try {
      await streams.ensureStream(s);
      return s;
    } catch (err) {
      const next = Math.floor((s.maxBytes ?? -1) / 2);
      if (!insufficientStorage(err) || next < Math.max(1024 * 1024, 2 * holdsBytes)) throw err;
      s = { ...s, maxBytes: next };
    }
  }
}

/**
 * Republishes a stream's messages, every part in order, with a window of acks in flight. Where the
 * stream allows purges, each message is stored at the sequence it had: a stream that had dropped
 * its first messages starts where the backup's first one was (an empty stream's purge up to a
 * sequence moves its start there), and a gap in between is filled with messages on a filler
 * subject, purged at the end. TELEMETRY batch events and inventory events name sequences, and
 * these must still point at the same items. LEDGER (no purge, and never a gap) is stored densely.
 * Any ack at another sequence, or a duplicate, stops the restore.
 */
export async function republish(
  streams: Streams,
  stream: BackupStream,
  created: StreamSpec,
  /** The duplicate window the stream gets back once restored. */
  windowMs: number,
  parts: Part[],
  tenants: TenantCounter | null,
  onProgress?: (p: { stream: string; messages: number; of: number }) => void,
): Promise<{ messages: number; lastSeq: number; fillers: number }> {
  const keepSeqs = !created.denyPurge;
  const total = parts.reduce((sum, p) => sum + (p.streams[stream]?.messages ?? 0), 0);
  const last = parts.at(-1)!.streams[stream]!;
  const endSeq = last.endSeq ?? last.lastSeq;
  const filler = fillerSubject(created);
  let startSeq = 1;
  let published = 0;
  let acked = 0;
  let fillers = 0;
  let real = 0;
  let drainedWaiter: (() => void) | null = null;

  const check = (ack: Ack, index: number): void => {
    const expected = startSeq + index - 1;
    if (ack.duplicate || ack.seq !== expected) {
      throw new StkError(
        'STK_ERR_RESTORE_MISMATCH',
        `${stream}: the message for sequence ${expected} was stored ${ack.duplicate ? 'as a duplicate' : `at sequence ${ack.seq}`}`,
        { stream, expected, seq: ack.seq, duplicate: ack.duplicate },
      );
    }
    acked++;
    if (acked === published) drainedWaiter?.();
    if (index % 10_000 === 0) onProgress?.({ stream, messages: Math.min(index, total), of: total });
  };
  // Until every message handed out is acknowledged; a publish that failed never is, and then the
  // wait ends with an error rather than forever.
  const drained = (): Promise<void> =>
    acked === published
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => {
          const t = setTimeout(
            () => reject(new StkError('STK_ERR_LOG_UNAVAILABLE', `${stream}: acknowledgements stopped arriving during the restore`, { stream })),
            60_000,
          );
          drainedWaiter = () => {
            clearTimeout(t);
            drainedWaiter = null;
            resolve();
          };
        });

  async function* messages(): AsyncGenerator<Outgoing> {
    let next = 0; // the sequence the next publish gets; 0 until the start is set
    const recent = new Map<string, number>(); // msg-id → when it was handed out, within the duplicate window
    const start = async (seq: number): Promise<void> => {
      // An empty new stream purged up to `seq` starts there.
      if (keepSeqs && seq > 1) await streams.purge(stream, '', seq);
      startSeq = keepSeqs ? seq : 1;
      next = startSeq;
    };
    const out = (m: Outgoing): Outgoing => {
      published++;
      next++;
      return m;
    };
    for (const part of parts) {
      const entry = part.streams[stream];
      if (!entry) continue;
      let lineNo = 0;
      for await (const text of createInterface({ input: createReadStream(join(part.dir, entry.file)), crlfDelay: Number.POSITIVE_INFINITY })) {
        const line = parseLine(text, { file: entry.file, line: ++lineNo });
        if (next === 0) await start(line.seq);
        if (keepSeqs) {
          if (line.seq < next)
            throw new StkError('STK_ERR_BACKUP_CORRUPT', `${entry.file} line ${lineNo}: sequence ${line.seq} does not follow ${next - 1}`, {
              stream,
              dir: part.dir,
            });
          for (; next < line.seq; fillers++) yield out({ subject: filler, data: new Uint8Array(0), msgId: `stk-restore-gap.${stream}.${next}` });
        }
        const { 'Nats-Msg-Id': msgId, ...rest } = line.headers;
        const now = performance.now();
        for (const [id, at] of recent) {
          if (now - at < 3 * RESTORE_DUPLICATE_WINDOW_MS) break;
          recent.delete(id);
        }
        if (recent.has(msgId!)) {
          // Stored again by the original after its window: wait until every message before it is
          // stored and the server has forgotten the first copy's id.
          await drained();
          await new Promise((r) => setTimeout(r, 2 * RESTORE_DUPLICATE_WINDOW_MS));
          recent.clear();
        }
        recent.set(msgId!, performance.now());
        tenants?.add(line.subject);
        real++;
        yield out({ subject: line.subject, data: Buffer.from(line.data, 'base64'), msgId: msgId!, headers: rest });
      }
    }
    if (!keepSeqs) return;
    if (next === 0) {
      if (endSeq > 0) await start(endSeq + 1);
      return;
    }
    for (; next <= endSeq; fillers++) yield out({ subject: filler, data: new Uint8Array(0), msgId: `stk-restore-gap.${stream}.${next}` });
  }

  let n: number;
  try {
    n = await streams.publishAll(messages(), { window: WINDOW, timeoutMs: 30_000, onAck: check });
  } catch (failure) {
    if (failure instanceof StkError) throw failure;
    throw new StkError('STK_ERR_LOG_UNAVAILABLE', `restoring ${stream} failed: ${(failure as Error)?.message ?? failure}`, { stream }, { cause: failure });
  }
  const lastSeq = (await streams.state(stream))?.lastSeq ?? 0;
  const wantLast = n > 0 ? startSeq + n - 1 : keepSeqs ? Math.max(endSeq, 0) : 0;
  if (real !== total || lastSeq !== wantLast) {
    throw new StkError(
      'STK_ERR_RESTORE_MISMATCH',
      `${stream}: ${real} message(s) republished, stream ends at ${lastSeq} (expected ${wantLast}), the backup has ${total}`,
      { stream },
    );
  }
  if (fillers > 0) await streams.purge(stream, filler);
  await streams.ensureStream({ ...created, duplicateWindowMs: windowMs, updateMutable: true });
  return { messages: real, lastSeq, fillers };
}

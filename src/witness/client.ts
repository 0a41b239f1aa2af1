import { StkError } from '../errors.ts';
import { parseDecimal, parseNote } from '../transparency/mod.ts';
import type { RefusalCode } from './decide.ts';
import { formatAddCheckpoint } from './request.ts';

/** The witness's answer: its cosignature lines, or a refusal with the protocol's status. */
export type AddCheckpointResult =
  | { ok: true; cosignatures: string[] }
  | { ok: false; status: number; code: RefusalCode; message: string; currentSize?: number };

/** Options of addCheckpoint. */
export interface AddCheckpointOptions {
  /** Give up after this long. @defaultValue 10000 */
  timeoutMs?: number;
  /** Largest answer read. @defaultValue 64 KiB */
  maxResponseBytes?: number;
}

const CODE_BY_STATUS: Record<number, RefusalCode> = {
  400: 'STK_ERR_WITNESS_MALFORMED',
  403: 'STK_ERR_WITNESS_SIGNATURE',
  404: 'STK_ERR_WITNESS_UNKNOWN_LOG',
  409: 'STK_ERR_WITNESS_CONFLICT',
  422: 'STK_ERR_WITNESS_INCONSISTENT',
};

/**
 * Submits a checkpoint note to a tlog-witness at `witnessUrl` (its submission prefix), with the
 * size the witness last cosigned and the consistency proof from it. Refusals of the protocol come
 * back as values (a 409 with the witness's size in `currentSize`); an unreachable witness or an
 * answer outside the protocol throws STK_ERR_WITNESS_UNAVAILABLE. Cosignature lines are returned
 * unverified: append them to the note and check with verifyCosignedCheckpoint.
 */
export async function addCheckpoint(
  witnessUrl: string,
  oldSize: number,
  proof: readonly Uint8Array[],
  checkpointNote: string | Uint8Array,
  options: AddCheckpointOptions = {},
): Promise<AddCheckpointResult> {
  const url = `${witnessUrl.replace(/\/+$/, '')}/add-checkpoint`;
  const unavailable = (message: string, data: Record<string, unknown> = {}, cause?: unknown): StkError =>
    new StkError('STK_ERR_WITNESS_UNAVAILABLE', `witness ${url}: ${message}`, { url, ...data }, cause === undefined ? {} : { cause });
  let res: Response;
  let body: string;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: new Uint8Array(formatAddCheckpoint(oldSize, proof, checkpointNote)),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      // The witness is configured by URL; a redirect elsewhere is not followed.
      redirect: 'error',
    });
    body = await readLimited(res, options.maxResponseBytes ?? 64 * 1024);
  } catch (err) {
    if (err instanceof StkError) throw err;
    throw unavailable((err as Error).message, {}, err);
  }
  if (res.status === 200) {
    const lines = body.endsWith('\n') ? body.slice(0, -1).split('\n') : [];
    // Each line must be a note signature line; parsing them under a dummy text checks exactly that.
    const check = parseNote(`x\n\n${body}`);
    if (lines.length === 0 || !check.ok) throw unavailable('200 without note signature lines', { status: 200 });
    return { ok: true, cosignatures: lines.map((l) => `${l}\n`) };
  }
  const code = CODE_BY_STATUS[res.status];
  if (!code) throw unavailable(`answered ${res.status}`, { status: res.status });
  if (code === 'STK_ERR_WITNESS_CONFLICT') {
    const size = body.endsWith('\n') ? parseDecimal(body.slice(0, -1)) : null;
    if (size === null || !(res.headers.get('content-type') ?? '').startsWith('text/x.tlog.size'))
      throw unavailable('409 without a text/x.tlog.size body', { status: 409 });
    return { ok: false, status: 409, code, message: `the witness last cosigned size ${size}`, currentSize: size };
  }
  return { ok: false, status: res.status, code, message: body.trim().slice(0, 500) };
}

async function readLimited(res: Response, maxBytes: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (res.body) {
    for await (const chunk of res.body) {
      total += chunk.length;
      if (total > maxBytes) {
        await res.body.cancel().catch(() => {});
        throw new StkError('STK_ERR_WITNESS_UNAVAILABLE', `witness answer larger than ${maxBytes} bytes`, { limit: maxBytes });
      }
      chunks.push(chunk);
    }
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

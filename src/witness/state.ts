import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { StkError } from '../errors.ts';
import { bytesEqual } from '../merkle/mod.ts';
import { decodeBase64, encodeBase64, parseCheckpoint, parseNote } from '../transparency/mod.ts';
import type { LogRecord } from './decide.ts';

/** Lower-case hex SHA-256 of an origin: its file name here and its path on the monitoring API. */
export function originHash(origin: string): string {
  return createHash('sha256').update(origin, 'utf8').digest('hex');
}

/**
 * The witness's durable memory: one JSON file per log under `<dir>/logs/`, named by the origin's
 * SHA-256, replaced atomically (temp file, fsync, rename, fsync of the folder) so a crash leaves
 * either the old record or the new one, never a torn one.
 */
export class WitnessStateStore {
  readonly #dir: string;

  private constructor(dir: string) {
    this.#dir = dir;
  }

  /** Opens the store under `stateDir` and reads every record; a record that does not check out stops the witness. */
  static async open(stateDir: string): Promise<{ store: WitnessStateStore; records: Map<string, LogRecord> }> {
    const dir = join(stateDir, 'logs');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const records = new Map<string, LogRecord>();
    for (const name of await readdir(dir)) {
      // A temp file is a write that never reached its rename: the record it would have replaced stands.
      if (name.endsWith('.tmp')) {
        await unlink(join(dir, name));
        continue;
      }
      if (!/^[0-9a-f]{64}\.json$/.test(name)) continue;
      const record = decodeRecord(await readFile(join(dir, name), 'utf8'), join(dir, name));
      if (`${originHash(record.origin)}.json` !== name) throw stateError(join(dir, name), 'file name is not the hash of its origin');
      records.set(record.origin, record);
    }
    return { store: new WitnessStateStore(dir), records };
  }

  /** Writes a record durably; when this resolves, a crash cannot lose it. */
  async write(record: LogRecord): Promise<void> {
    const file = join(this.#dir, `${originHash(record.origin)}.json`);
    const tmp = join(this.#dir, `.${originHash(record.origin)}.${randomBytes(6).toString('hex')}.tmp`);
    const data = `${JSON.stringify({
      origin: record.origin,
      size: record.size,
      rootHash: encodeBase64(record.rootHash),
      timestamp: record.timestamp,
      checkpoint: record.checkpoint,
    })}\n`;
    try {
      const fh = await open(tmp, 'wx', 0o600);
      try {
        await fh.writeFile(data, 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, file);
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw err;
    }
    // The rename is durable only once the folder's entry is on disk.
    const dh = await open(this.#dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }
}

function stateError(file: string, why: string): StkError {
  return new StkError('STK_ERR_WITNESS_STATE', `witness state ${file}: ${why}`, { file });
}

function decodeRecord(text: string, file: string): LogRecord {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new StkError('STK_ERR_WITNESS_STATE', `witness state ${file}: not JSON`, { file }, { cause: err });
  }
  const { origin, size, rootHash, timestamp, checkpoint } = v ?? {};
  if (typeof origin !== 'string' || origin.length === 0) throw stateError(file, 'no origin');
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw stateError(file, 'bad size');
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp < 0) throw stateError(file, 'bad timestamp');
  const root = typeof rootHash === 'string' ? decodeBase64(rootHash) : null;
  if (root?.length !== 32) throw stateError(file, 'bad root hash');
  if (typeof checkpoint !== 'string') throw stateError(file, 'no checkpoint');
  // The stored note must say what the record says: one is never trusted without the other.
  const note = parseNote(checkpoint);
  const cp = note.ok ? parseCheckpoint(note.note.text) : null;
  if (!cp?.ok || cp.checkpoint.origin !== origin || cp.checkpoint.size !== size || !bytesEqual(cp.checkpoint.rootHash, root)) {
    throw stateError(file, 'the stored checkpoint does not match the record');
  }
  return { origin, size, rootHash: root, timestamp, checkpoint };
}

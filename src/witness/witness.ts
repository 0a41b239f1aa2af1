import { resolve } from 'node:path';
import { lockDataDir } from '../datadir.ts';
import { StkError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import {
  SIG_TYPE_COSIGNATURE_V1,
  SIG_TYPE_ED25519,
  cosignCheckpoint,
  ed25519NoteVerifier,
  formatVerifierKey,
  openNote,
  parseCheckpoint,
  parseNote,
  verifierKeyOf,
  type NoteLimits,
  type NoteVerifier,
  type SignerKey,
  type VerifierKey,
} from '../transparency/mod.ts';
import { decideAddCheckpoint, type LogRecord, type Refusal } from './decide.ts';
import { parseAddCheckpoint } from './request.ts';
import { WitnessStateStore, originHash } from './state.ts';

const openDirs = new Set<string>();

/** What a witness needs. */
export interface WitnessOptions {
  /** Folder for the per-log records (and the lock that keeps a second witness process off it). */
  stateDir: string;
  /** The witness's cosigning key (type 0x04). */
  key: SignerKey;
  /** The logs' keys (type 0x01); each key's name is the origin it signs for. Several keys per origin are allowed. */
  logs: readonly VerifierKey[];
  logger?: Logger;
  /** Milliseconds since the epoch. @defaultValue Date.now */
  now?: () => number;
  /** Limits on the checkpoint note. @defaultValue 100 signatures, 1 MiB */
  noteLimits?: NoteLimits;
}

/** The answer to an add-checkpoint request: cosignature lines, or a refusal of the protocol. */
export type AddCheckpointOutcome = { kind: 'cosigned'; body: string; size: number } | Refusal;

/**
 * A C2SP tlog-witness: checks each checkpoint against the last one it cosigned for the log and
 * cosigns it only when it extends that one. The check and the durable record of the new
 * checkpoint happen under one lock per origin, so two racing requests cannot both advance from
 * the same size (the rollback race tlog-witness describes).
 */
export class Witness {
  readonly key: SignerKey;
  readonly #logs = new Map<string, NoteVerifier[]>();
  readonly #records: Map<string, LogRecord>;
  /** Origin by its hash, for the monitoring path. */
  readonly #byHash = new Map<string, string>();
  readonly #store: WitnessStateStore;
  readonly #locks = new Map<string, Promise<void>>();
  readonly #release: () => void;
  readonly #logger: Logger | undefined;
  readonly #now: () => number;
  readonly #limits: NoteLimits;
  #closed = false;

  private constructor(o: WitnessOptions, store: WitnessStateStore, records: Map<string, LogRecord>, release: () => void) {
    this.key = o.key;
    this.#store = store;
    this.#records = records;
    this.#release = release;
    this.#logger = o.logger;
    this.#now = o.now ?? Date.now;
    this.#limits = o.noteLimits ?? {};
    for (const origin of records.keys()) this.#byHash.set(originHash(origin), origin);
    for (const k of o.logs) {
      if (k.type !== SIG_TYPE_ED25519) throw new StkError('STK_ERR_CONFIG', `log key ${formatVerifierKey(k)} is not an Ed25519 note key (type 0x01)`);
      const list = this.#logs.get(k.name) ?? [];
      list.push(ed25519NoteVerifier(k));
      this.#logs.set(k.name, list);
    }
  }

  /** Locks the state folder (STK_ERR_DATA_LOCKED if another process or witness holds it), reads the records and returns the witness. */
  static async open(o: WitnessOptions): Promise<Witness> {
    if (o.key.type !== SIG_TYPE_COSIGNATURE_V1) throw new StkError('STK_ERR_WITNESS_KEY', 'the witness key is not a cosignature (type 0x04) key');
    const dir = resolve(o.stateDir);
    // lockDataDir keeps other processes out; within this process it would let a second holder in.
    if (openDirs.has(dir)) throw new StkError('STK_ERR_DATA_LOCKED', `witness state ${dir} is in use by another witness of this process`, { dataDir: dir });
    openDirs.add(dir);
    let lock: { release(): void } | null = null;
    try {
      lock = await lockDataDir(dir);
      const { store, records } = await WitnessStateStore.open(dir);
      const held = lock;
      return new Witness(o, store, records, () => {
        held.release();
        openDirs.delete(dir);
      });
    } catch (err) {
      lock?.release();
      openDirs.delete(dir);
      throw err;
    }
  }

  /** The witness's verifier key, `<name>+<id>+<base64(0x04 ‖ key)>`, for logs and clients to configure. */
  get vkey(): string {
    return formatVerifierKey(verifierKeyOf(this.key));
  }

  /** The origins this witness cosigns for. */
  get origins(): string[] {
    return [...this.#logs.keys()];
  }

  /** Handles the body of `POST /add-checkpoint`; throws only for faults (the state cannot be written). */
  async addCheckpoint(body: Uint8Array): Promise<AddCheckpointOutcome> {
    const refuse = (code: Refusal['code'], message: string): Refusal => ({ kind: 'refuse', code, message });
    const req = parseAddCheckpoint(body);
    if (!req.ok) return refuse('STK_ERR_WITNESS_MALFORMED', req.detail);
    const parsed = parseNote(req.request.note, this.#limits);
    if (!parsed.ok) return refuse('STK_ERR_WITNESS_MALFORMED', `the checkpoint is not a signed note: ${parsed.detail}`);
    const cp = parseCheckpoint(parsed.note.text);
    if (!cp.ok) return refuse('STK_ERR_WITNESS_MALFORMED', `the note is not a checkpoint: ${cp.detail}`);
    const { origin } = cp.checkpoint;
    const verifiers = this.#logs.get(origin);
    if (!verifiers) return refuse('STK_ERR_WITNESS_UNKNOWN_LOG', 'unknown log origin');
    const opened = openNote(req.request.note, verifiers, this.#limits);
    if (!opened.ok) return refuse('STK_ERR_WITNESS_SIGNATURE', opened.reason === 'invalid-signature' ? opened.detail : "no signature from the log's key");
    const { text, verified } = opened.note;

    return this.#serialized(origin, async () => {
      const last = this.#records.get(origin) ?? null;
      const decision = decideAddCheckpoint({
        last,
        oldSize: req.request.oldSize,
        proof: req.request.proof,
        checkpoint: cp.checkpoint,
        nowSeconds: this.#now() / 1000,
      });
      if (decision.kind === 'refuse') {
        // A validly signed checkpoint that does not extend the cosigned one may be evidence of a fork.
        const level = decision.code === 'STK_ERR_WITNESS_INCONSISTENT' ? 'warn' : 'info';
        this.#logger?.[level](
          { origin, code: decision.code, oldSize: req.request.oldSize, size: cp.checkpoint.size, recorded: last?.size ?? 0 },
          decision.message,
        );
        return decision;
      }
      const line = cosignCheckpoint(this.key, text, decision.timestamp);
      const record: LogRecord = {
        origin,
        size: cp.checkpoint.size,
        rootHash: cp.checkpoint.rootHash,
        timestamp: decision.timestamp,
        checkpoint: `${text}\n${verified.map((s) => s.line).join('')}${line}`,
      };
      await this.#store.write(record);
      this.#records.set(origin, record);
      this.#byHash.set(originHash(origin), origin);
      this.#logger?.info({ origin, size: record.size, from: last?.size ?? 0 }, 'checkpoint cosigned');
      return { kind: 'cosigned' as const, body: line, size: record.size };
    });
  }

  /** The last checkpoint cosigned for the log whose origin hashes to `hash` (lower-case hex SHA-256), with the log's and our signatures. */
  latestCheckpoint(hash: string): string | null {
    const origin = this.#byHash.get(hash);
    return origin === undefined ? null : (this.#records.get(origin)?.checkpoint ?? null);
  }

  /** Releases the state folder lock. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#release();
  }

  async #serialized<T>(origin: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#locks.get(origin) ?? Promise.resolve();
    const run = prev.then(fn);
    const tail = run.then(
      () => {},
      () => {},
    );
    this.#locks.set(origin, tail);
    try {
      return await run;
    } finally {
      if (this.#locks.get(origin) === tail) this.#locks.delete(origin);
    }
  }
}

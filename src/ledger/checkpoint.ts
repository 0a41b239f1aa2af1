import { readFile, rename, writeFile } from 'node:fs/promises';
import { StkError } from '../errors.ts';
import type { Streams } from '../log/mod.ts';
import type { Logger } from '../logger.ts';
import { CHECKPOINT_SUBJECT, LEDGER_STREAM, checkpointSignedText, type Checkpoint, type CheckpointHead } from './format.ts';
import type { Keyring } from './keys.ts';
import { ledgerUnavailable } from './stream.ts';

/** Where checkpoints go besides `ledger-checkpoint`, and how often. */
export interface CheckpointTargets {
  /** Time between checkpoints (one is written only when a head moved). @defaultValue 60000 */
  checkpointIntervalMs?: number;
  /** A file (ideally on another host's mount) rewritten with each checkpoint. */
  checkpointFile?: string;
  /** A witness URL each checkpoint is POSTed to as JSON. */
  witnessUrl?: string;
}

export interface CheckpointWriterOptions extends CheckpointTargets {
  streams: Streams;
  keyring: Keyring;
  logger: Logger;
  owns?: (tenant: string) => boolean;
  /** Stored heads of the chains the sealer holds now. */
  heads: () => CheckpointHead[];
  now?: () => Date;
}

/**
 * Signs the heads of every chain a sealer owns and publishes them. A checkpoint kept off-host
 * is what makes a rewrite by someone holding the signing key visible: a re-sealed chain cannot
 * reproduce the heads it signed before.
 */
export class CheckpointWriter {
  readonly #o: CheckpointWriterOptions;
  /** Heads from the last checkpoint in LEDGER, for chains this process has not touched yet. */
  #previous = new Map<string, CheckpointHead>();
  #dirty = false;
  #timer: NodeJS.Timeout | null = null;
  #last: Checkpoint | null = null;

  constructor(o: CheckpointWriterOptions) {
    this.#o = o;
  }

  /** The newest checkpoint this process knows (written or loaded). */
  get last(): Checkpoint | null {
    return this.#last;
  }

  async load(): Promise<void> {
    const m = await this.#o.streams.last(LEDGER_STREAM, CHECKPOINT_SUBJECT);
    if (!m) return;
    try {
      const c = JSON.parse(new TextDecoder().decode(m.data)) as Checkpoint;
      this.#last = c;
      for (const h of c.heads ?? []) if (!this.#o.owns || this.#o.owns(h.tenant)) this.#previous.set(h.tenant, h);
    } catch (err) {
      this.#o.logger.warn({ err, ledgerSeq: m.seq }, 'last checkpoint is unreadable; starting from the chains alone');
    }
  }

  /** Keeps heads the sealer is about to forget (a restart re-reads its chains lazily). */
  remember(heads: CheckpointHead[]): void {
    for (const h of heads) this.#previous.set(h.tenant, h);
  }

  changed(): void {
    this.#dirty = true;
  }

  startTimer(): void {
    const every = this.#o.checkpointIntervalMs ?? 60_000;
    let writing = false;
    this.#timer = setInterval(() => {
      // One at a time: a slow witness must not have two writes race on the same file.
      if (!this.#dirty || writing) return;
      writing = true;
      this.write()
        .catch((err: unknown) => this.#o.logger.error({ err }, 'checkpoint failed; retrying at the next interval'))
        .finally(() => (writing = false));
    }, every);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  async write(): Promise<Checkpoint> {
    this.#dirty = false;
    const heads = new Map(this.#previous);
    for (const h of this.#o.heads()) heads.set(h.tenant, h);
    const unsigned = {
      at: (this.#o.now?.() ?? new Date()).toISOString(),
      keyId: this.#o.keyring.keyId,
      heads: [...heads.values()].sort((a, b) => (a.tenant < b.tenant ? -1 : a.tenant > b.tenant ? 1 : 0)),
    };
    const c: Checkpoint = { format: 1, ...unsigned, sig: this.#o.keyring.sign(checkpointSignedText(unsigned)) };
    const bytes = JSON.stringify(c);
    try {
      await this.#o.streams.publish(CHECKPOINT_SUBJECT, new TextEncoder().encode(bytes), { msgId: `checkpoint:${c.at}:${c.keyId}` });
    } catch (err) {
      this.#dirty = true;
      throw ledgerUnavailable(err, 'cannot publish the checkpoint');
    }
    this.#last = c;
    if (this.#o.checkpointFile) {
      const tmp = `${this.#o.checkpointFile}.tmp`;
      await writeFile(tmp, `${bytes}\n`, { mode: 0o644 });
      await rename(tmp, this.#o.checkpointFile);
    }
    if (this.#o.witnessUrl) {
      const res = await fetch(this.#o.witnessUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: bytes,
        signal: AbortSignal.timeout(5000),
      }).catch((err: unknown) => err as Error);
      if (res instanceof Error || !res.ok) {
        this.#o.logger.error(
          { url: this.#o.witnessUrl, status: res instanceof Error ? undefined : res.status, err: res instanceof Error ? res : undefined },
          'checkpoint witness did not accept the checkpoint',
        );
      }
    }
    this.#o.logger.info({ at: c.at, tenants: c.heads.length }, 'checkpoint written');
    return c;
  }
}

/** Reads a checkpoint saved to a file (as the sealer writes it, or as exported). */
export async function readCheckpointFile(path: string): Promise<Checkpoint> {
  let c: Checkpoint;
  try {
    c = JSON.parse(await readFile(path, 'utf8')) as Checkpoint;
  } catch (err) {
    throw new StkError('STK_ERR_LEDGER_CHECKPOINT', `cannot read checkpoint ${path}: ${(err as Error).message}`, { path }, { cause: err });
  }
  const ok =
    c &&
    c.format === 1 &&
    typeof c.at === 'string' &&
    typeof c.keyId === 'string' &&
    typeof c.sig === 'string' &&
    Array.isArray(c.heads) &&
    c.heads.every((h) => typeof h.tenant === 'string' && Number.isInteger(h.height) && /^[0-9a-f]{64}$/.test(h.head));
  if (!ok) throw new StkError('STK_ERR_LEDGER_CHECKPOINT', `${path} is not a ledger checkpoint`, { path });
  return c;
}

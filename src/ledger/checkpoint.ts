import { randomBytes, type KeyObject } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { StkError } from '../errors.ts';
import { isValidId } from '../ids.ts';
import type { Streams } from '../log/mod.ts';
import type { Logger } from '../logger.ts';
import {
  SIG_TYPE_ED25519,
  computeKeyId,
  ed25519NoteVerifier,
  formatVerifierKey,
  parseCheckpoint,
  parseNote,
  signCheckpoint,
  type NoteSigner,
  type NoteVerifier,
} from '../transparency/mod.ts';
import { LEDGER_STREAM, checkpointSubject } from './format.ts';
import { rawPublicKey, type Keyring } from './keys.ts';
import { ledgerUnavailable } from './stream.ts';
import type { WitnessPusher } from './witnesses.ts';

/** The origin of a tenant's log: `<install origin>/tenant/<tenant id>` (docs/ledger-format.md, "Checkpoints"). */
export function tenantOrigin(installOrigin: string, tenant: string): string {
  return `${installOrigin}/tenant/${tenant}`;
}

/** The tenant a checkpoint origin names, and the install origin before it; null when it is not a tenant log's origin. */
export function parseTenantOrigin(origin: string): { installOrigin: string; tenant: string } | null {
  const at = origin.lastIndexOf('/tenant/');
  if (at <= 0) return null;
  const tenant = origin.slice(at + '/tenant/'.length);
  return isValidId('tenant', tenant) ? { installOrigin: origin.slice(0, at), tenant } : null;
}

/** The install origin when none is configured: `stockade/<id of the install's first ledger key>`, the same on every sealer of the install and never reused by another. */
export function defaultInstallOrigin(firstKeyId: string): string {
  return `stockade/${firstKeyId}`;
}

/** The note signer of a tenant's log: the ledger key under the tenant's origin (signature type 0x01). */
export function tenantNoteSigner(keyring: Keyring, origin: string): NoteSigner {
  const pub = rawPublicKey(keyring.publicKey(keyring.keyId)!);
  return { name: origin, keyId: computeKeyId(origin, SIG_TYPE_ED25519, pub), sign: (text) => Buffer.from(keyring.sign(text), 'base64') };
}

/** The note verifier of a tenant's log for one ledger public key. */
export function tenantNoteVerifier(key: KeyObject, origin: string): NoteVerifier {
  const publicKey = rawPublicKey(key);
  return ed25519NoteVerifier({ name: origin, keyId: computeKeyId(origin, SIG_TYPE_ED25519, publicKey), type: SIG_TYPE_ED25519, publicKey });
}

/** The C2SP verifier key (vkey) of a tenant's log for one ledger public key: what a witness or an auditor configures. */
export function tenantVkey(key: KeyObject, origin: string): string {
  const publicKey = rawPublicKey(key);
  return formatVerifierKey({ name: origin, keyId: computeKeyId(origin, SIG_TYPE_ED25519, publicKey), type: SIG_TYPE_ED25519, publicKey });
}

/** A tenant checkpoint read from a note: what it says, not yet whether its signatures verify. */
export interface NoteCheckpoint {
  note: string;
  origin: string;
  tenant: string;
  size: number;
  /** 64 hex. */
  rootHash: string;
}

/** Parses a tenant checkpoint note (signatures unchecked); null when it is not a note of a tenant log. */
export function parseTenantCheckpoint(note: string): NoteCheckpoint | null {
  const parsed = parseNote(note);
  if (!parsed.ok) return null;
  const cp = parseCheckpoint(parsed.note.text);
  if (!cp.ok) return null;
  const who = parseTenantOrigin(cp.checkpoint.origin);
  if (!who) return null;
  return { note, origin: cp.checkpoint.origin, tenant: who.tenant, size: cp.checkpoint.size, rootHash: Buffer.from(cp.checkpoint.rootHash).toString('hex') };
}

/** Reads a checkpoint note saved to a file (as the sealer writes it, as exported, or as a witness serves it). */
export async function readCheckpointFile(path: string): Promise<NoteCheckpoint> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new StkError('STK_ERR_LEDGER_CHECKPOINT', `cannot read checkpoint ${path}: ${(err as Error).message}`, { path }, { cause: err });
  }
  const cp = parseTenantCheckpoint(text);
  if (!cp) throw new StkError('STK_ERR_LEDGER_CHECKPOINT', `${path} is not a checkpoint note of a tenant's ledger`, { path });
  return cp;
}

/** Where checkpoints go besides LEDGER, and how often. */
export interface CheckpointTargets {
  /** Time between checkpoints (one is written for a tenant only when its tree grew). @defaultValue 60000 */
  checkpointIntervalMs?: number;
  /** A folder (ideally another host's mount) where each tenant's newest checkpoint is kept as `<tenant>.checkpoint`. */
  checkpointDir?: string;
  /** The install origin; a tenant's log is `<origin>/tenant/<tenant>`. @defaultValue defaultInstallOrigin(first key) */
  origin?: string;
}

/** A chain's tree head, as the sealer last stored it. */
export interface TreeHead {
  tenant: string;
  size: number;
  /** 64 hex. */
  rootHash: string;
}

export interface CheckpointWriterOptions extends CheckpointTargets {
  streams: Streams;
  keyring: Keyring;
  logger: Logger;
  /** Tree heads of the chains the sealer holds now (format-2 blocks only: a format-1 block signs no root). */
  heads: () => TreeHead[];
  witnesses?: WitnessPusher | null;
}

/**
 * Writes each tenant's checkpoint — a C2SP tlog-checkpoint note of its tree head, signed with the
 * ledger key under the tenant's origin and cosigned by the configured witnesses — to
 * `ledger-checkpoint.<tenant>`, appended with the expected last subject sequence so two writers
 * never interleave, and never smaller than the checkpoint before it. A checkpoint kept off-host or
 * by witnesses is what makes a rewrite by someone holding the key visible.
 */
export class CheckpointWriter {
  readonly #o: CheckpointWriterOptions;
  readonly #origin: string;
  /** The newest checkpoint stored per tenant this process has read or written. */
  readonly #stored = new Map<string, { size: number; rootHash: string; ledgerSeq: number }>();
  #timer: NodeJS.Timeout | null = null;
  #writing: Promise<unknown> = Promise.resolve();
  #failure: { sinceMs: number; message: string } | null = null;

  constructor(o: CheckpointWriterOptions) {
    this.#o = o;
    this.#origin = o.origin ?? defaultInstallOrigin(o.keyring.records[0]!.keyId);
  }

  get installOrigin(): string {
    return this.#origin;
  }

  /** Since when checkpoints cannot be stored, and why; null while they can. */
  get failure(): { sinceMs: number; message: string } | null {
    return this.#failure;
  }

  startTimer(): void {
    const every = this.#o.checkpointIntervalMs ?? 60_000;
    this.#timer = setInterval(() => {
      void this.write().catch((err: unknown) => this.#o.logger.error({ err }, 'checkpoint failed; retrying at the next interval'));
    }, every);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  /** Writes a checkpoint for every held chain whose tree grew since its last one; resolves with the notes written. One write at a time. */
  write(): Promise<NoteCheckpoint[]> {
    const run = this.#writing.then(() => this.#writeAll());
    this.#writing = run.catch(() => {});
    return run;
  }

  async #writeAll(): Promise<NoteCheckpoint[]> {
    const out: NoteCheckpoint[] = [];
    for (const h of this.#o.heads()) {
      try {
        const cp = await this.#writeOne(h);
        if (cp) out.push(cp);
        this.#failure = null;
      } catch (err) {
        this.#failure = { sinceMs: this.#failure?.sinceMs ?? Date.now(), message: (err as Error).message };
        throw err;
      }
    }
    return out;
  }

  async #writeOne(h: TreeHead): Promise<NoteCheckpoint | null> {
    const subject = checkpointSubject(h.tenant);
    let stored = this.#stored.get(h.tenant);
    if (!stored) {
      const m = await this.#o.streams.last(LEDGER_STREAM, subject);
      const cp = m ? parseTenantCheckpoint(new TextDecoder().decode(m.data)) : null;
      stored = { size: cp?.size ?? 0, rootHash: cp?.rootHash ?? '', ledgerSeq: m?.seq ?? 0 };
      this.#stored.set(h.tenant, stored);
    }
    if (h.size === stored.size && h.rootHash === stored.rootHash) return null;
    if (h.size <= stored.size) {
      // The chain is behind (or beside) a checkpoint already stored: signing would contradict it.
      throw new StkError(
        'STK_ERR_LEDGER_CHECKPOINT',
        `the chain of ${h.tenant} (size ${h.size}) does not extend its stored checkpoint (size ${stored.size}); no checkpoint written`,
        { tenant: h.tenant, size: h.size, checkpointSize: stored.size },
      );
    }
    const origin = tenantOrigin(this.#origin, h.tenant);
    const signed = signCheckpoint({ origin, size: h.size, rootHash: Buffer.from(h.rootHash, 'hex'), extensions: [] }, [
      tenantNoteSigner(this.#o.keyring, origin),
    ]);
    const cosignatures = this.#o.witnesses ? await this.#o.witnesses.cosign(h.tenant, signed, h.size) : [];
    const note = signed + cosignatures.join('');
    let seq: number;
    try {
      seq = (
        await this.#o.streams.publish(subject, new TextEncoder().encode(note), {
          msgId: `checkpoint:${h.tenant}:${h.size}:${h.rootHash}`,
          expectedLastSubjectSequence: stored.ledgerSeq,
        })
      ).seq;
    } catch (err) {
      // Another writer stored one meanwhile: read it back at the next round.
      this.#stored.delete(h.tenant);
      throw ledgerUnavailable(err, `cannot store the checkpoint of ${h.tenant}`);
    }
    this.#stored.set(h.tenant, { size: h.size, rootHash: h.rootHash, ledgerSeq: seq });
    if (this.#o.checkpointDir) await writeAtomically(this.#o.checkpointDir, `${h.tenant}.checkpoint`, note);
    this.#o.logger.info({ tenant: h.tenant, size: h.size, cosignatures: cosignatures.length }, 'checkpoint written');
    return { note, origin, tenant: h.tenant, size: h.size, rootHash: h.rootHash };
  }
}

/** Writes `name` in `dir` through a temp file of its own (no two writers share one), fsynced, then renamed over it. */
async function writeAtomically(dir: string, name: string, text: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(dir, name));
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

import { hash } from 'node:crypto';
import { StkError } from '../errors.ts';

/**
 * The bytes the ledger hashes and signs. docs/ledger-format.md specifies each of them byte by
 * byte; a change here is a new format version (the `/1` in every domain tag) and needs a reader
 * for the old one. Every hash is SHA-256 written as 64 lower-case hex characters, every signed
 * message is plain ASCII text, so that `printf`, `sha256sum` and `openssl pkeyutl` reproduce them.
 */

export const LEDGER_STREAM = 'LEDGER';
/** Subject prefix of tenant chains: `ledger.<tenant>`. */
export const LEDGER_SUBJECT_PREFIX = 'ledger.';
/** Subject of the signed checkpoints (heads of every tenant chain). */
export const CHECKPOINT_SUBJECT = 'ledger-checkpoint';
/** Subject of key records: which keys sign blocks, each endorsed by the one before. */
export const KEYS_SUBJECT = 'ledger-keys';
/** Header carrying the aggregate version after a commit (src/log); part of the event preimage. */
export const VERSION_HEADER = 'Stk-Version';
/** The previous head of an empty chain. */
export const GENESIS_HEAD = '0'.repeat(64);
export const BLOCK_FORMAT = 1;

const enc = new TextEncoder();

export function ledgerSubject(tenant: string): string {
  return LEDGER_SUBJECT_PREFIX + tenant;
}

/**
 * The bytes whose SHA-256 is an event's hash: a tag, the subject and the `Stk-Version` header the
 * record was stored with, then the stored body verbatim. Stream sequence and `Nats-Msg-Id` are
 * left out on purpose: the sequence changes when a stream is restored into a new one, and the
 * message id is a dedupe hint equal to the first event id, which the body already holds.
 */
export function eventPreimagePrefix(subject: string, version: string): Uint8Array {
  return enc.encode(`stk-event/1\n${subject}\n${version}\n`);
}

export function eventHash(subject: string, version: string, body: Uint8Array): string {
  // One-shot hashing of one buffer written in place costs half of a hash object fed twice; this
  // is the sealer's and the verifier's hot path. The bytes are those of eventPreimagePrefix.
  const prefix = `stk-event/1\n${subject}\n${version}\n`;
  const prefixBytes = Buffer.byteLength(prefix);
  const buf = Buffer.allocUnsafe(prefixBytes + body.length);
  buf.write(prefix, 0, 'utf8');
  buf.set(body, prefixBytes);
  return hash('sha256', buf, 'hex');
}

/** `entryHash = SHA-256("stk-entry/1\n" tenant "\n" height "\n" prevHead "\n" eventHash)`. */
export function entryHash(tenant: string, height: number, prevHead: string, evHash: string): string {
  return hash('sha256', `stk-entry/1\n${tenant}\n${height}\n${prevHead}\n${evHash}`, 'hex');
}

/** One chain entry as a block lists it: where the record is, its first event id, its hash. */
export type BlockEntry = [seq: number, eventId: string, eventHash: string];

/** One message of `ledger.<tenant>`: a run of entries and a signature over the head it ends on. */
export interface Block {
  format: number;
  tenant: string;
  /** 1, 2, 3, … per tenant. */
  index: number;
  /** Height of the first entry (heights count records from 1). */
  firstHeight: number;
  lastHeight: number;
  /** Head before the first entry (GENESIS_HEAD for the first block). */
  prevHead: string;
  /** Entry hash at `lastHeight`. */
  head: string;
  /** Stream sequence of the last record the block seals. */
  lastSeq: number;
  keyId: string;
  sealedAt: string;
  entries: BlockEntry[];
  /** Ed25519 signature (base64) over `blockSignedText(block)`. */
  sig: string;
}

/** The exact text a block's signature covers. */
export function blockSignedText(b: Omit<Block, 'sig' | 'entries' | 'format'>): string {
  return `stk-block/1\n${b.tenant}\n${b.index}\n${b.firstHeight}\n${b.lastHeight}\n${b.prevHead}\n${b.head}\n${b.lastSeq}\n${b.keyId}\n${b.sealedAt}\n`;
}

/** A key record on `ledger-keys`: key `keyId` starts signing; endorsed by `prevKeyId` (itself for the first). */
export interface KeyRecord {
  format: number;
  keyId: string;
  prevKeyId: string | null;
  at: string;
  /** SPKI PEM of the Ed25519 public key; `keyId` is derived from it. */
  publicKey: string;
  /** Signature by `prevKeyId` (or by the key itself for the first record) over `keyRecordSignedText`. */
  sig: string;
}

export function keyRecordSignedText(r: Pick<KeyRecord, 'keyId' | 'prevKeyId' | 'at'>): string {
  return `stk-key/1\n${r.keyId}\n${r.prevKeyId ?? '-'}\n${r.at}\n`;
}

/** One tenant's head in a checkpoint. */
export interface CheckpointHead {
  tenant: string;
  height: number;
  head: string;
}

/** Signed heads of every chain a sealer owns, at one moment. */
export interface Checkpoint {
  format: number;
  at: string;
  keyId: string;
  /** Sorted by tenant. */
  heads: CheckpointHead[];
  sig: string;
}

export function checkpointSignedText(c: Pick<Checkpoint, 'at' | 'keyId' | 'heads'>): string {
  return `stk-checkpoint/1\n${c.at}\n${c.keyId}\n${c.heads.map((h) => `${h.tenant} ${h.height} ${h.head}\n`).join('')}`;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Parses a stored block; anything that is not a well-formed block is STK_ERR_LEDGER_CORRUPT. */
export function parseBlock(data: Uint8Array, where: Record<string, unknown>): Block {
  let b: Block;
  try {
    b = JSON.parse(new TextDecoder().decode(data)) as Block;
  } catch (err) {
    throw new StkError('STK_ERR_LEDGER_CORRUPT', 'ledger block is not JSON', where, { cause: err });
  }
  const ok =
    b &&
    b.format === BLOCK_FORMAT &&
    typeof b.tenant === 'string' &&
    Number.isInteger(b.index) &&
    Number.isInteger(b.firstHeight) &&
    Number.isInteger(b.lastHeight) &&
    b.lastHeight >= b.firstHeight &&
    HEX64.test(b.prevHead) &&
    HEX64.test(b.head) &&
    Number.isInteger(b.lastSeq) &&
    typeof b.keyId === 'string' &&
    typeof b.sealedAt === 'string' &&
    typeof b.sig === 'string' &&
    Array.isArray(b.entries) &&
    b.entries.length === b.lastHeight - b.firstHeight + 1 &&
    // Entry hashes are only checked to be strings here: one that is not 64 hex characters can
    // never equal a computed event hash, so verify reports it at its height.
    b.entries.every((e) => Array.isArray(e) && Number.isInteger(e[0]) && typeof e[1] === 'string' && typeof e[2] === 'string');
  if (!ok) throw new StkError('STK_ERR_LEDGER_CORRUPT', 'ledger block is malformed', where);
  return b;
}

export function parseJson<T>(data: Uint8Array, what: string, where: Record<string, unknown>): T {
  try {
    return JSON.parse(new TextDecoder().decode(data)) as T;
  } catch (err) {
    throw new StkError('STK_ERR_LEDGER_CORRUPT', `${what} is not JSON`, where, { cause: err });
  }
}

/** First event id from a record body, for a record stored without `Nats-Msg-Id` (not by our log). */
export function firstEventId(body: Uint8Array): string {
  try {
    const id = (JSON.parse(new TextDecoder().decode(body)) as { events?: Array<{ id?: unknown }> }).events?.[0]?.id;
    return typeof id === 'string' ? id : '';
  } catch {
    return '';
  }
}

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
/**
 * Blocks one ledger read asks the server for at a time: a block holds up to 5,000 entries (about
 * half a megabyte), and a scan's default of 4,096 messages in flight would overrun what nats-server
 * buffers for one connection.
 */
export const LEDGER_SCAN_BATCH = 64;
export const LEDGER_SUBJECT_PREFIX = 'ledger.';
/** Subject prefix of the tenants' checkpoints: `ledger-checkpoint.<tenant>`, one C2SP signed note each. */
export const CHECKPOINT_SUBJECT_PREFIX = 'ledger-checkpoint.';
/** Subject of format-1 checkpoints (one JSON message for every chain); read by no one now, kept in the stream's subjects so old backups restore. */
export const LEGACY_CHECKPOINT_SUBJECT = 'ledger-checkpoint';
/** Subject of key records: which keys sign blocks, each endorsed by the one before. */
export const KEYS_SUBJECT = 'ledger-keys';
/** Header carrying the aggregate version after a commit (src/log); part of the event preimage. */
export const VERSION_HEADER = 'Stk-Version';
/** The previous head of an empty chain. */
export const GENESIS_HEAD = '0'.repeat(64);
/** Blocks written now: format 2 signs the Merkle tree root too. Format 1 blocks are still read. */
export const BLOCK_FORMAT = 2;

const enc = new TextEncoder();

export function ledgerSubject(tenant: string): string {
  return LEDGER_SUBJECT_PREFIX + tenant;
}

export function checkpointSubject(tenant: string): string {
  return CHECKPOINT_SUBJECT_PREFIX + tenant;
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
  // is the sealer's and the verifier's hot path. The bytes are those of eventPreimagePrefix, in a
  // scratch buffer reused from call to call (hashing is synchronous), so a record allocates nothing.
  const prefix = `stk-event/1\n${subject}\n${version}\n`;
  // Room for the longest UTF-8 the prefix can be, so write() says its length (no second pass to count it).
  const room = 3 * prefix.length + body.length;
  if (scratch.length < room) scratch = Buffer.allocUnsafe(Math.max(room, scratch.length * 2));
  const prefixBytes = scratch.write(prefix, 0, 'utf8');
  const total = prefixBytes + body.length;
  scratch.set(body, prefixBytes);
  return hash('sha256', scratch.subarray(0, total), 'hex');
}

let scratch = Buffer.allocUnsafe(4096);

/** The bytes of one entry: `"stk-entry/1\n" tenant "\n" height "\n" prevHead "\n" eventHash`. */
export function entryText(tenant: string, height: number, prevHead: string, evHash: string): string {
  return `stk-entry/1\n${tenant}\n${height}\n${prevHead}\n${evHash}`;
}

/** `entryHash = SHA-256(entry bytes)`: the chain head at that height. */
export function entryHash(tenant: string, height: number, prevHead: string, evHash: string): string {
  return hash('sha256', entryText(tenant, height, prevHead, evHash), 'hex');
}

/** The entry's leaf in the tenant's Merkle tree: RFC 6962 `SHA-256(0x00 ‖ entry bytes)`, in hex. */
export function entryLeaf(tenant: string, height: number, prevHead: string, evHash: string): string {
  return entryHashes(tenant, height, prevHead, evHash).leaf;
}

/**
 * The entry's head (entry hash) and its leaf, both hex, from one write of its bytes: the chain's
 * and the tree's step at once, on the hot paths of sealing and verifying. Pass `step` to reuse it.
 */
export function entryHashes(
  tenant: string,
  height: number,
  prevHead: string,
  evHash: string,
  step: { head: string; leaf: string } = { head: '', leaf: '' },
): { head: string; leaf: string } {
  const text = `stk-entry/1\n${tenant}\n${height}\n${prevHead}\n${evHash}`;
  const n = 1 + text.length;
  if (scratch.length < n) scratch = Buffer.allocUnsafe(Math.max(n, scratch.length * 2));
  scratch[0] = 0x00;
  scratch.write(text, 1, 'latin1');
  step.leaf = hash('sha256', scratch.subarray(0, n), 'hex');
  step.head = hash('sha256', scratch.subarray(1, n), 'hex');
  return step;
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
  /** Format 2: RFC 6962 root (64 hex) of the tenant's tree of `lastHeight` leaves, one per entry. */
  root?: string;
  /** Stream sequence of the last record the block seals. */
  lastSeq: number;
  keyId: string;
  sealedAt: string;
  entries: BlockEntry[];
  /**
   * Format 2, not signed: the roots (64 hex) of the complete subtrees the tree of `lastHeight`
   * leaves is made of, largest first — what the next block's root is computed from. They fold to
   * `root`, which is signed, so a changed edge is refused rather than trusted.
   */
  edge?: string[];
  /** Ed25519 signature (base64) over `blockSignedText(block)`. */
  sig: string;
}

/** The exact text a block's signature covers (its format decides which). */
export function blockSignedText(b: Omit<Block, 'sig' | 'entries' | 'edge'>): string {
  if (b.format === 1)
    return `stk-block/1\n${b.tenant}\n${b.index}\n${b.firstHeight}\n${b.lastHeight}\n${b.prevHead}\n${b.head}\n${b.lastSeq}\n${b.keyId}\n${b.sealedAt}\n`;
  return `stk-block/2\n${b.tenant}\n${b.index}\n${b.firstHeight}\n${b.lastHeight}\n${b.prevHead}\n${b.head}\n${b.root}\n${b.lastSeq}\n${b.keyId}\n${b.sealedAt}\n`;
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

const HEX64 = /^[0-9a-f]{64}$/;
/** Every time the ledger writes: `Date.prototype.toISOString()` of a year 0000–9999, always 24 characters, UTC. */
export const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

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
    (b.format === 1 ||
      (b.format === 2 && typeof b.root === 'string' && HEX64.test(b.root) && Array.isArray(b.edge) && b.edge.every((h) => typeof h === 'string'))) &&
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
    ISO_TIME.test(b.sealedAt) &&
    typeof b.sig === 'string' &&
    Array.isArray(b.entries) &&
    b.entries.length === b.lastHeight - b.firstHeight + 1 &&
    // Entry hashes are only checked to be strings here: one that is not 64 hex characters can
    // never equal a computed event hash, so verify reports it at its height.
    b.entries.every((e) => Array.isArray(e) && Number.isInteger(e[0]) && typeof e[1] === 'string' && typeof e[2] === 'string');
  if (!ok) throw new StkError('STK_ERR_LEDGER_CORRUPT', 'ledger block is malformed', where);
  return b;
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

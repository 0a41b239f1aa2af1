import type { KeyObject } from 'node:crypto';
import { EVENTS_STREAM, headerOf, tenantFilter, type StoredMessage, type Streams } from '../log/mod.ts';
import { ShredTally } from '../privacy/shredded.ts';
import { openNote, verifyCosignedCheckpoint } from '../transparency/mod.ts';
import { parseTenantCheckpoint, tenantNoteVerifier, tenantVkey, type NoteCheckpoint } from './checkpoint.ts';
import { GENESIS_HEAD, VERSION_HEADER, blockSignedText, entryHashes, eventHash, firstEventId, parseBlock, type Block, type BlockEntry } from './format.ts';
import { verifyText } from './keys.ts';
import { outsideWindow, type KeyWindow } from './keywindows.ts';
import { Frontier } from './tree.ts';

/** What can be wrong with a chain; `verify` names the first one it meets. */
export type BreakKind =
  | 'event_edited'
  | 'event_removed'
  | 'entry_out_of_order'
  | 'entry_duplicated'
  | 'event_inserted'
  | 'bad_signature'
  | 'unknown_key'
  | 'retired_key'
  | 'unsealed'
  | 'ledger_missing'
  | 'checkpoint_fork'
  | 'checkpoint_invalid'
  | 'checkpoint_rollback'
  | 'witness_quorum'
  | 'chain_broken'
  | 'block_malformed';

export interface Break {
  kind: BreakKind;
  tenant: string;
  message: string;
  /** Chain height where the break is, when it is at an entry. */
  height?: number;
  /** EVENTS sequence involved. */
  seq?: number;
  /** Block index and LEDGER sequence, when the break is in a block (or a checkpoint message). */
  block?: number;
  ledgerSeq?: number;
}

/** The newest checkpoint of a tenant in LEDGER, as verify found it. */
export interface CheckpointReport {
  size: number;
  rootHash: string;
  origin: string;
  ledgerSeq: number;
  /** Witness cosignatures that verified with the keys given (0 when none were given). */
  cosignatures: number;
}

export interface TenantReport {
  tenant: string;
  ok: boolean;
  /** Entries (stored event records) verified against their events. */
  entries: number;
  blocks: number;
  height: number;
  head: string;
  /** Root of the tenant's Merkle tree at `height` (64 hex). */
  root: string;
  keyIds: string[];
  /** Records not yet sealed but younger than the sealing window. */
  pending: number;
  /** Verified entries whose personal fields are shredded (their keys destroyed): intact, unreadable, not a break. */
  shredded: number;
  /** The newest checkpoint in LEDGER (null: none yet). */
  checkpoint: CheckpointReport | null;
  break?: Break;
}

/** What a ChainCheck is told besides its tenant. */
export interface ChainCheckContext {
  keys: Map<string, KeyWindow>;
  now: number;
  windowMs: number;
  /** Highest EVENTS sequence the tenant's sealer has acknowledged as sealed (0: unknown). */
  sealedFloor: number;
  /** The install origin checkpoints must name, when pinned. */
  origin?: string;
  witnesses?: { keys: string[]; quorum: number };
  onProgress?: ((p: { tenant: string; entries: number }) => void) | undefined;
}

type Where = Omit<Break, 'tenant'>;
const BODY_PREFIX = Buffer.from('{"format":1,"events":[{"id":"');

/** True when the record's body is of the documented layout and its first event id is `id`. */
function startsWithEventId(body: Uint8Array, id: string): boolean {
  const at = BODY_PREFIX.length;
  if (body.length <= at + id.length || body[at + id.length] !== 0x22) return false;
  for (let i = 0; i < BODY_PREFIX.length; i++) if (body[i] !== BODY_PREFIX[i]) return false;
  for (let i = 0; i < id.length; i++) if (body[at + i] !== id.charCodeAt(i)) return false;
  return true;
}

/** The first event id of a stored record without parsing it: the documented body starts `{"format":1,"events":[{"id":"`. */
export function recordFirstEventId(body: Uint8Array): string {
  if (body.length > BODY_PREFIX.length && Buffer.from(body.buffer, body.byteOffset, BODY_PREFIX.length).equals(BODY_PREFIX)) {
    const end = body.indexOf(0x22, BODY_PREFIX.length);
    if (end > 0) return Buffer.from(body.buffer, body.byteOffset + BODY_PREFIX.length, end - BODY_PREFIX.length).toString('latin1');
  }
  return firstEventId(body);
}

/**
 * One tenant's chain, checked in passes fed in stream order: its blocks (keys and their windows,
 * signatures, links, entries hashing to each signed head and root), its checkpoints in LEDGER
 * (signed, growing, each a tree head of the chain), then its records against the entries the
 * blocks vouch for. Entries after the first bad block are not trusted.
 */
export class ChainCheck {
  readonly tenant: string;
  readonly #c: ChainCheckContext;
  readonly #entries: BlockEntry[] = [];
  readonly #keyIds = new Set<string>();
  readonly #ids = new Set<string>();
  /** Root of the tree at every block end: what a checkpoint of that size must sign. */
  readonly #roots = new Map<number, string>();
  #frontier = Frontier.empty();
  #blockBreak: Where | null = null;
  #recordBreak: Where | null = null;
  #checkpointBreak: Where | null = null;
  /** An entry whose record is not at its place; classified (moved, edited, removed) in finish(). */
  #missing: { entry: BlockEntry; height: number } | null = null;
  #head = GENESIS_HEAD;
  #height = 0;
  #index = 0;
  #blocks = 0;
  #lastSeq = 0;
  #sealedAt = '';
  #i = 0;
  #pending = 0;
  #checkpoint: CheckpointReport | null = null;
  readonly #shred = new ShredTally();
  readonly #checkpoints: Array<{ cp: NoteCheckpoint; ledgerSeq: number; key: KeyObject | null; why: string | null }> = [];

  constructor(tenant: string, c: ChainCheckContext) {
    this.tenant = tenant;
    this.#c = c;
  }

  get height(): number {
    return this.#height;
  }

  /** Root of the tree at `size` when a block ends there (64 hex), else null. */
  rootAt(size: number): string | null {
    return size === 0 ? Frontier.empty().root() : (this.#roots.get(size) ?? null);
  }

  block(m: StoredMessage): void {
    if (this.#blockBreak) return;
    let b: Block;
    try {
      b = parseBlock(m.data, { ledgerSeq: m.seq });
    } catch {
      this.#blockBreak = {
        kind: 'block_malformed',
        message: `block at LEDGER seq ${m.seq} is not a well-formed block`,
        ledgerSeq: m.seq,
        height: this.#height + 1,
      };
      return;
    }
    const where = { block: b.index, ledgerSeq: m.seq, height: b.firstHeight };
    const w = this.#c.keys.get(b.keyId);
    const retired = w ? outsideWindow(w, m.seq, b.sealedAt) : null;
    const [height, index, head] = [this.#height, this.#index, this.#head];
    if (b.tenant !== this.tenant) this.#blockBreak = { kind: 'block_malformed', message: `block ${b.index} names tenant ${b.tenant}`, ...where };
    else if (!w) this.#blockBreak = { kind: 'unknown_key', message: `block ${b.index} is signed by unknown key ${b.keyId}`, ...where };
    else if (!verifyText(w.key, blockSignedText(b), b.sig))
      this.#blockBreak = { kind: 'bad_signature', message: `block ${b.index} has a signature that does not verify with key ${b.keyId}`, ...where };
    else if (retired) this.#blockBreak = { kind: 'retired_key', message: `block ${b.index} is signed outside its key's window: ${retired}`, ...where };
    else if (b.index <= index || b.firstHeight <= height) {
      this.#blockBreak = {
        kind: 'entry_duplicated',
        message: `block ${b.index} repeats heights ${b.firstHeight}..${b.lastHeight} already in the chain (chain is at height ${height}, block ${index})`,
        ...where,
      };
    } else if (b.index !== index + 1 || b.firstHeight !== height + 1 || b.prevHead !== head) {
      this.#blockBreak = {
        kind: 'chain_broken',
        message: `block ${b.index} (heights ${b.firstHeight}..${b.lastHeight}) does not extend block ${index} at height ${height}`,
        ...where,
      };
    } else if (b.sealedAt < this.#sealedAt) {
      this.#blockBreak = { kind: 'chain_broken', message: `block ${b.index} is sealed at ${b.sealedAt}, before block ${index} (${this.#sealedAt})`, ...where };
    }
    if (this.#blockBreak) return;
    // The chain and the tree are advanced on a copy: a block that fails leaves neither moved.
    const frontier = this.#frontier.clone();
    const step = { head, leaf: '' };
    for (let i = 0; i < b.entries.length; i++) {
      entryHashes(this.tenant, b.firstHeight + i, step.head, b.entries[i]![2], step);
      frontier.append(step.leaf);
    }
    const h = step.head;
    const root = frontier.root();
    if (h !== b.head || (b.format === 2 && root !== b.root)) {
      this.#blockBreak = {
        kind: 'chain_broken',
        message: `the entries of block ${b.index} do not hash to the ${h !== b.head ? 'head' : 'tree root'} it signs`,
        ...where,
      };
      return;
    }
    // The sealer reads records in stream order, so a chain's sequences only grow.
    const backwards = b.entries.findIndex((e, k) => e[0] <= (k === 0 ? this.#lastSeq : b.entries[k - 1]![0]));
    if (backwards >= 0 || b.entries[b.entries.length - 1]![0] !== b.lastSeq) {
      const at = backwards >= 0 ? backwards : b.entries.length - 1;
      this.#blockBreak = {
        kind: 'entry_out_of_order',
        message:
          backwards >= 0
            ? `entry ${b.firstHeight + at} names record ${b.entries[at]![0]}, which is not after the entry before it`
            : `block ${b.index} signs last record ${b.lastSeq}, but its last entry names ${b.entries[at]![0]}`,
        ...where,
        height: b.firstHeight + at,
      };
      return;
    }
    for (const e of b.entries) this.#entries.push(e);
    this.#frontier = frontier;
    this.#roots.set(b.lastHeight, root);
    this.#lastSeq = b.lastSeq;
    this.#head = b.head;
    this.#height = b.lastHeight;
    this.#index = b.index;
    this.#sealedAt = b.sealedAt;
    this.#keyIds.add(b.keyId);
    this.#blocks++;
  }

  /** A message of `ledger-checkpoint.<tenant>`: remembered, checked once every block is read. */
  checkpointMessage(m: StoredMessage): void {
    const note = new TextDecoder().decode(m.data);
    const cp = parseTenantCheckpoint(note);
    if (!cp || cp.tenant !== this.tenant) {
      this.#checkpoints.push({
        cp: cp ?? { note, origin: '', tenant: '', size: 0, rootHash: '' },
        ledgerSeq: m.seq,
        key: null,
        why: 'is not a checkpoint note of this tenant',
      });
      return;
    }
    if (this.#c.origin !== undefined && cp.origin !== `${this.#c.origin}/tenant/${this.tenant}`) {
      this.#checkpoints.push({ cp, ledgerSeq: m.seq, key: null, why: `names origin ${cp.origin}, not ${this.#c.origin}/tenant/${this.tenant}` });
      return;
    }
    let why = `is not signed by a ledger key of this install (no trusted key signs as ${cp.origin})`;
    let key: KeyObject | null = null;
    for (const w of this.#c.keys.values()) {
      const opened = openNote(note, [tenantNoteVerifier(w.key, cp.origin)]);
      if (!opened.ok && opened.reason === 'unverified') continue;
      if (!opened.ok) {
        why = `has a signature by key ${w.keyId} that does not verify`;
        break;
      }
      const out = outsideWindow(w, m.seq, null);
      key = w.key;
      why = out ? `is signed outside its key's window: ${out}` : '';
      break;
    }
    this.#checkpoints.push({ cp, ledgerSeq: m.seq, key, why: why || null });
  }

  /** Once every block is read: the checkpoints in LEDGER against the chain. */
  blocksDone(): void {
    let newest: { size: number; rootHash: string; ledgerSeq: number } | null = null;
    for (const { cp, ledgerSeq, key, why } of this.#checkpoints) {
      const where = { ledgerSeq, height: cp.size };
      if (why) {
        this.#checkpointBreak ??= { kind: 'checkpoint_invalid', message: `the checkpoint at LEDGER seq ${ledgerSeq} ${why}`, ...where };
        continue;
      }
      if (newest && (cp.size < newest.size || (cp.size === newest.size && cp.rootHash !== newest.rootHash))) {
        this.#checkpointBreak ??= {
          kind: 'checkpoint_rollback',
          message: `the checkpoint at LEDGER seq ${ledgerSeq} (size ${cp.size}) comes after one of size ${newest.size}${cp.size === newest.size ? ' with another root' : ''}: an older checkpoint was replayed`,
          ...where,
        };
        continue;
      }
      const mismatch = this.againstChain(cp.size, cp.rootHash);
      if (mismatch) this.#checkpointBreak ??= { kind: 'checkpoint_fork', message: `the checkpoint at LEDGER seq ${ledgerSeq}: ${mismatch}`, ...where };
      newest = { size: cp.size, rootHash: cp.rootHash, ledgerSeq };
      let cosignatures = 0;
      if (this.#c.witnesses && key) {
        const r = verifyCosignedCheckpoint(cp.note, {
          logKeys: [tenantVkey(key, cp.origin)],
          witnessKeys: this.#c.witnesses.keys,
          quorum: 1,
        });
        cosignatures = r.ok ? r.cosignatures.length : 0;
      }
      this.#checkpoint = { size: cp.size, rootHash: cp.rootHash, origin: cp.origin, ledgerSeq, cosignatures };
    }
    const w = this.#c.witnesses;
    if (w && this.#checkpoint && this.#checkpoint.cosignatures < w.quorum) {
      this.#checkpointBreak ??= {
        kind: 'witness_quorum',
        message: `the newest checkpoint (size ${this.#checkpoint.size}) carries ${this.#checkpoint.cosignatures} of the ${w.quorum} witness cosignatures required`,
        ledgerSeq: this.#checkpoint.ledgerSeq,
        height: this.#checkpoint.size,
      };
    }
    if (w && !this.#checkpoint && this.#height > 0) {
      this.#checkpointBreak ??= {
        kind: 'witness_quorum',
        message: `the chain has no checkpoint, so no witness cosigned it (${w.quorum} required)`,
        height: this.#height,
      };
    }
  }

  /** Why a tree head of `size` with `rootHash` is not one of this chain's; null when it is. */
  againstChain(size: number, rootHash: string): string | null {
    if (size > this.#height) return `the chain (height ${this.#height}) no longer reaches its size ${size}: history was truncated or rewound`;
    const root = this.rootAt(size);
    if (root === null) return `size ${size} is not the end of a block of this chain: it is not one of its tree heads`;
    if (root !== rootHash) return `the chain no longer extends it: at size ${size} the tree root is ${root}, the checkpoint says ${rootHash}`;
    return null;
  }

  /** The newest checkpoint found in LEDGER. */
  get newestCheckpoint(): CheckpointReport | null {
    return this.#checkpoint;
  }

  record(m: StoredMessage): void {
    if (this.#recordBreak || this.#missing) return;
    const e = this.#entries[this.#i];
    const height = this.#i + 1;
    if (e) {
      // The next record in the tenant's order must be the next entry's: its hash decides. The
      // sequence an entry names is a locator, read only to explain a mismatch.
      // The client makes a new view of the body at each read of `data`: one read per record.
      const body = m.data;
      const subject = m.subject;
      if (eventHash(subject, headerOf(m, VERSION_HEADER), body) === e[2]) {
        // The entry's id is read against the record's bytes (no string made on the common path).
        const id = startsWithEventId(body, e[1]) ? e[1] : recordFirstEventId(body);
        if (e[1] !== id) {
          this.#recordBreak = {
            kind: 'block_malformed',
            message: `entry ${height} names event ${e[1]}, but the record it seals (seq ${m.seq}) starts with event ${id}`,
            height,
            seq: m.seq,
          };
          return;
        }
        if (this.#ids.has(id)) {
          this.#recordBreak = { kind: 'entry_duplicated', message: `entry ${height} seals event ${id} a second time (seq ${m.seq})`, height, seq: m.seq };
          return;
        }
        this.#ids.add(id);
        this.#shred.record(subject, body);
        this.#i++;
        if (this.#c.onProgress && this.#i % 10_000 === 0) this.#c.onProgress({ tenant: this.tenant, entries: this.#i });
        return;
      }
      const seq = m.seq;
      if (e[0] === seq)
        this.#recordBreak = {
          kind: 'event_edited',
          message: `event record at seq ${seq} (height ${height}) does not match its entry: it was edited`,
          height,
          seq,
        };
      else if (e[0] < seq) this.#missing = { entry: e, height };
      else this.#recordBreak = { kind: 'event_inserted', message: `record at seq ${seq} sits between sealed records but is not in the chain`, seq, height };
      return;
    }
    if (this.#blockBreak) return;
    // Past the chain's end: not sealed yet. Fine within the sealing window unless the sealer has
    // already acknowledged it as sealed (then its block is gone), a break beyond the window.
    if (m.seq <= this.#c.sealedFloor) {
      this.#recordBreak = {
        kind: 'ledger_missing',
        message: `record at seq ${m.seq} is in no block, though the sealer acknowledged everything up to seq ${this.#c.sealedFloor} as sealed: LEDGER lost blocks (deleted, replaced or rewound)`,
        seq: m.seq,
        height: this.#height + 1,
      };
      return;
    }
    const age = this.#c.now - m.time.getTime();
    if (age > this.#c.windowMs) {
      this.#recordBreak = {
        kind: 'unsealed',
        message: `record at seq ${m.seq} has been unsealed for ${Math.round(age / 1000)} s (window ${this.#c.windowMs / 1000} s)`,
        seq: m.seq,
        height: this.#height + 1,
      };
      return;
    }
    this.#pending++;
  }

  async finish(streams: Streams): Promise<TenantReport> {
    const r: TenantReport = {
      tenant: this.tenant,
      ok: true,
      entries: this.#i,
      blocks: this.#blocks,
      height: this.#height,
      head: this.#head,
      root: this.rootAt(this.#height) ?? '',
      keyIds: [...this.#keyIds],
      pending: this.#pending,
      shredded: this.#shred.count(),
      checkpoint: this.#checkpoint,
    };
    if (!this.#recordBreak && !this.#missing && this.#i < this.#entries.length) this.#missing = { entry: this.#entries[this.#i]!, height: this.#i + 1 };
    const brk =
      this.#recordBreak ??
      (this.#missing ? await classifyMissing(streams, this.tenant, this.#missing.entry, this.#missing.height) : null) ??
      this.#blockBreak ??
      this.#checkpointBreak;
    this.#c.onProgress?.({ tenant: this.tenant, entries: this.#i });
    return brk ? { ...r, ok: false, break: { tenant: this.tenant, ...brk } } : r;
  }
}

/** An entry whose record is not where it names: moved (same bytes elsewhere), edited (same event id, other bytes) or removed. */
async function classifyMissing(streams: Streams, tenant: string, e: BlockEntry, height: number): Promise<Where> {
  const [seq, id, hash] = e;
  for await (const m of streams.scan(EVENTS_STREAM, { filter: tenantFilter(tenant), fromSeq: seq + 1 })) {
    let firstId = headerOf(m, 'Nats-Msg-Id');
    if (firstId !== id) firstId = recordFirstEventId(m.data);
    if (firstId !== id) continue;
    if (eventHash(m.subject, headerOf(m, VERSION_HEADER), m.data) === hash) {
      return {
        kind: 'entry_out_of_order',
        message: `event ${id} sealed at height ${height} (seq ${seq}) was moved to seq ${m.seq}: the records were reordered`,
        height,
        seq,
      };
    }
    return {
      kind: 'event_edited',
      message: `event ${id} sealed at height ${height} (seq ${seq}) was removed and an edited copy stored at seq ${m.seq}`,
      height,
      seq,
    };
  }
  return { kind: 'event_removed', message: `event ${id} sealed at height ${height} (seq ${seq}) was removed from EVENTS`, height, seq };
}

import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { StkError } from '../errors.ts';
import { assertId } from '../ids.ts';
import { EVENTS_STREAM, tenantFilter, type StoredMessage, type Streams } from '../log/mod.ts';
import { FileLeafStore, MemoryLeafStore, MerkleTree, type LeafStore } from '../merkle/mod.ts';
import {
  GENESIS_HEAD,
  LEDGER_STREAM,
  VERSION_HEADER,
  blockSignedText,
  checkpointSubject,
  entryHash,
  eventHash,
  firstEventId,
  ledgerSubject,
  parseBlock,
  type Block,
} from './format.ts';
import { replayChain } from './replay.ts';
import { Frontier } from './tree.ts';

/** Where a block of a tenant's chain is, and the tree head it signs. */
interface BlockRef {
  index: number;
  format: number;
  firstHeight: number;
  lastHeight: number;
  lastSeq: number;
  ledgerSeq: number;
}

/** A tenant's tree as one process holds it: the leaves (in a file or memory) and an index of its blocks and entries. */
interface TenantTree {
  tenant: string;
  tree: MerkleTree;
  store: LeafStore;
  frontier: Frontier;
  height: number;
  head: string;
  ledgerSeq: number;
  blocks: BlockRef[];
  /** 31-bit hash of an entry's first event id → its height (an array when two ids share a hash). */
  ids: Map<number, number | number[]>;
  /** Serialises catch-ups of this tenant. */
  busy: Promise<unknown>;
}

/** A signed tree head: the block that ends at the tree's size, and the tenant's checkpoint of that size if it is the newest. */
export interface SignedTreeHead {
  size: number;
  /** RFC 6962 root of the tree of `size` leaves, 64 hex. */
  rootHash: string;
  /** The block whose last entry is leaf `size - 1`: its exact signed text and signature (format 2 signs the root). */
  block: { index: number; keyId: string; signedText: string; signature: string; signsRoot: boolean } | null;
  /** The tenant's newest checkpoint (a C2SP signed note, with any witness cosignatures), when it is of this size. */
  checkpoint: string | null;
}

/** An inclusion proof of one record's entry in its tenant's tree (docs/ledger-format.md, "Proofs"). */
export interface InclusionProof {
  tenant: string;
  /** The event asked for; the entry is its record's (a record holds one commit's events). */
  eventId: string;
  entry: { height: number; seq: number; eventId: string; eventHash: string; prevHead: string; entryHash: string };
  /** The record the entry seals, as stored (null when EVENTS no longer holds it unchanged). */
  record: { subject: string; version: string; body: string } | null;
  leafIndex: number;
  treeSize: number;
  rootHash: string;
  /** Sibling hashes from the leaf up, 64 hex each (RFC 9162 §2.1.3). */
  auditPath: string[];
  treeHead: SignedTreeHead;
}

/** A consistency proof between two sizes of a tenant's tree. */
export interface ConsistencyAnswer {
  tenant: string;
  from: SignedTreeHead;
  to: SignedTreeHead;
  /** RFC 9162 §2.1.4 proof, 64 hex each. */
  proof: string[];
}

export interface LedgerTreesOptions {
  streams: Streams;
  /** Folder for the leaf files (a cache, rebuilt from LEDGER at first use in each process); null keeps leaves in memory. */
  dir: string | null;
  /** Tenants whose trees stay open; the least recently used is dropped beyond it. @defaultValue 32 */
  maxOpen?: number;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
/** Blocks kept parsed (each up to 5,000 entries). */
const BLOCK_CACHE = 64;

/**
 * The tenants' Merkle trees rebuilt from LEDGER's blocks alone, so any process that can read
 * LEDGER (the API role, the sealer pushing to witnesses, an auditor) answers inclusion and
 * consistency proofs. Leaves are recomputed from each block's entries and checked against the
 * roots the blocks sign; each call first reads the blocks stored since the last one.
 */
export class LedgerTrees {
  readonly #o: Required<LedgerTreesOptions>;
  readonly #open = new Map<string, TenantTree>();
  /** Recently read blocks by LEDGER sequence, with their entries' previous heads once computed: proofs ask for the same few blocks over and over. */
  readonly #blocks = new Map<number, { block: Block; prevHeads: string[] | null }>();

  constructor(o: LedgerTreesOptions) {
    this.#o = { maxOpen: 32, ...o };
  }

  /**
   * Proof that the record holding event `eventId` is in the tenant's tree of `size` (default: the
   * newest checkpoint covering it, else the newest block). `unsealed` when the record is stored but
   * not in a block yet, `unknown` when the tenant has no such event.
   */
  async inclusion(
    tenant: string,
    eventId: string,
    o: { size?: number } = {},
  ): Promise<{ kind: 'proof'; proof: InclusionProof } | { kind: 'unsealed' | 'unknown' }> {
    const t = await this.#caughtUp(tenant);
    const found = await this.#find(t, eventId);
    if (typeof found === 'string') return { kind: found };
    const height = found;
    const checkpoint = await this.#newestCheckpoint(tenant);
    const size = o.size ?? (checkpoint && checkpoint.size >= height && checkpoint.size <= t.height ? checkpoint.size : t.height);
    this.#checkSize(t, size, 'size', height);
    const { block, prevHeads } = await this.#blockAt(t, height);
    const i = height - block.firstHeight;
    const [seq, id, evHash] = block.entries[i]!;
    const prevHead = prevHeads[i]!;
    const stored = await this.#o.streams.at(EVENTS_STREAM, seq);
    const matches = stored && eventHash(stored.subject, stored.headers?.get(VERSION_HEADER) ?? '', stored.data) === evHash;
    const proof: InclusionProof = {
      tenant,
      eventId,
      entry: { height, seq, eventId: id, eventHash: evHash, prevHead, entryHash: entryHash(tenant, height, prevHead, evHash) },
      record: matches
        ? { subject: stored.subject, version: stored.headers?.get(VERSION_HEADER) ?? '', body: Buffer.from(stored.data).toString('base64') }
        : null,
      leafIndex: height - 1,
      treeSize: size,
      rootHash: hex(t.tree.root(size)),
      auditPath: t.tree.inclusionProof(height - 1, size).map(hex),
      treeHead: await this.#treeHead(t, size, checkpoint),
    };
    return { kind: 'proof', proof };
  }

  /** Consistency proof from the tree of `from` leaves to the tree of `to` (default: the newest block). */
  async consistency(tenant: string, from: number, to?: number): Promise<ConsistencyAnswer> {
    const t = await this.#caughtUp(tenant);
    const end = to ?? t.height;
    this.#checkSize(t, end, 'to', 0);
    this.#checkSize(t, from, 'from', 0, end);
    const checkpoint = await this.#newestCheckpoint(tenant);
    return {
      tenant,
      from: await this.#treeHead(t, from, checkpoint),
      to: await this.#treeHead(t, end, checkpoint),
      proof: t.tree.consistencyProof(from, end).map(hex),
    };
  }

  /** The raw consistency proof and the tree's height, for a witness push. */
  async consistencyHashes(tenant: string, from: number, to: number): Promise<Uint8Array[]> {
    const t = await this.#caughtUp(tenant);
    return t.tree.consistencyProof(from, to);
  }

  /** Closes every leaf file. */
  close(): void {
    for (const t of this.#open.values()) if (t.store instanceof FileLeafStore) t.store.close();
    this.#open.clear();
  }

  #checkSize(t: TenantTree, size: number, field: string, min: number, max = t.height): void {
    if (!Number.isSafeInteger(size) || size < min || size > max) {
      throw new StkError('STK_ERR_VALIDATION', `${field} must be a tree size from ${min} to ${max} (the chain of ${t.tenant} has ${t.height} entries)`, {
        field,
      });
    }
  }

  async #newestCheckpoint(tenant: string): Promise<{ size: number; note: string } | null> {
    const m = await this.#o.streams.last(LEDGER_STREAM, checkpointSubject(tenant));
    if (!m) return null;
    const note = new TextDecoder().decode(m.data);
    const size = Number(note.split('\n')[1]);
    return Number.isSafeInteger(size) ? { size, note } : null;
  }

  async #treeHead(t: TenantTree, size: number, checkpoint: { size: number; note: string } | null): Promise<SignedTreeHead> {
    const ref = size > 0 ? this.#blockEndingAt(t, size) : null;
    let block: SignedTreeHead['block'] = null;
    if (ref) {
      const b = (await this.#read(t.tenant, ref)).block;
      block = { index: b.index, keyId: b.keyId, signedText: blockSignedText(b), signature: b.sig, signsRoot: b.format === 2 };
    }
    const rootHash = hex(t.tree.root(size));
    const cp =
      checkpoint && checkpoint.size === size && checkpoint.note.split('\n')[2] === Buffer.from(rootHash, 'hex').toString('base64') ? checkpoint.note : null;
    return { size, rootHash, block, checkpoint: cp };
  }

  #blockEndingAt(t: TenantTree, size: number): BlockRef | null {
    const i = this.#blockIndexOf(t, size);
    return i >= 0 && t.blocks[i]!.lastHeight === size ? t.blocks[i]! : null;
  }

  /** Index in t.blocks of the block holding `height`. */
  #blockIndexOf(t: TenantTree, height: number): number {
    let lo = 0;
    let hi = t.blocks.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const b = t.blocks[mid]!;
      if (height < b.firstHeight) hi = mid - 1;
      else if (height > b.lastHeight) lo = mid + 1;
      else return mid;
    }
    return -1;
  }

  /** The block holding `height`, and the previous head of each of its entries. */
  async #blockAt(t: TenantTree, height: number): Promise<{ block: Block; prevHeads: string[] }> {
    const cached = await this.#read(t.tenant, t.blocks[this.#blockIndexOf(t, height)]!);
    if (!cached.prevHeads) {
      let head = cached.block.prevHead;
      cached.prevHeads = cached.block.entries.map((e, k) => {
        const prev = head;
        head = entryHash(t.tenant, cached.block.firstHeight + k, head, e[2]);
        return prev;
      });
    }
    return { block: cached.block, prevHeads: cached.prevHeads };
  }

  /** A block read from LEDGER (the most recent ones are kept parsed). */
  async #read(tenant: string, ref: BlockRef): Promise<{ block: Block; prevHeads: string[] | null }> {
    const hit = this.#blocks.get(ref.ledgerSeq);
    if (hit && hit.block.tenant === tenant) {
      this.#blocks.delete(ref.ledgerSeq);
      this.#blocks.set(ref.ledgerSeq, hit);
      return hit;
    }
    const m = await this.#o.streams.at(LEDGER_STREAM, ref.ledgerSeq);
    if (!m) throw new StkError('STK_ERR_LEDGER_CORRUPT', `block ${ref.index} of ${tenant} is gone from LEDGER`, { tenant, ledgerSeq: ref.ledgerSeq });
    const entry: { block: Block; prevHeads: string[] | null } = { block: parseBlock(m.data, { tenant, ledgerSeq: ref.ledgerSeq }), prevHeads: null };
    this.#blocks.set(ref.ledgerSeq, entry);
    if (this.#blocks.size > BLOCK_CACHE) this.#blocks.delete(this.#blocks.keys().next().value!);
    return entry;
  }

  /** Height of the entry whose record holds `eventId`: by its first event id, else by reading the tenant's records. */
  async #find(t: TenantTree, eventId: string): Promise<number | 'unsealed' | 'unknown'> {
    const known = t.ids.get(idKey(eventId));
    for (const h of known === undefined ? [] : Array.isArray(known) ? known : [known]) {
      const { block } = await this.#read(t.tenant, t.blocks[this.#blockIndexOf(t, h)]!);
      if (block.entries[h - block.firstHeight]![1] === eventId) return h;
    }
    // An event after the first of its commit: find its record, then the entry that names the record.
    let seq = 0;
    await this.#o.streams.scanEach(EVENTS_STREAM, { filter: tenantFilter(t.tenant) }, (m: StoredMessage) => {
      if (seq || !holdsEvent(m.data, eventId)) return;
      seq = m.seq;
    });
    if (!seq) return 'unknown';
    for (const ref of t.blocks) {
      if (ref.lastSeq < seq) continue;
      const { block } = await this.#read(t.tenant, ref);
      const i = block.entries.findIndex((e) => e[0] === seq);
      return i >= 0 ? block.firstHeight + i : 'unsealed';
    }
    return 'unsealed';
  }

  /** The tenant's tree with every block LEDGER holds now. */
  async #caughtUp(tenant: string): Promise<TenantTree> {
    assertId('tenant', tenant, 'tenant');
    let t = this.#open.get(tenant);
    if (t) {
      this.#open.delete(tenant);
      this.#open.set(tenant, t);
    } else {
      t = await this.#openTree(tenant);
      this.#open.set(tenant, t);
      while (this.#open.size > this.#o.maxOpen) {
        const [oldest, old] = this.#open.entries().next().value!;
        this.#open.delete(oldest);
        if (old.store instanceof FileLeafStore) old.store.close();
      }
    }
    const tree = t;
    const run = tree.busy.then(() => this.#catchUp(tree));
    tree.busy = run.catch(() => {
      // A replay that stopped half-way leaves the tree behind its index: start it afresh next time.
      if (this.#open.get(tree.tenant) === tree) this.#open.delete(tree.tenant);
      if (tree.store instanceof FileLeafStore) tree.store.close();
    });
    await run;
    return tree;
  }

  async #openTree(tenant: string): Promise<TenantTree> {
    let store: LeafStore;
    if (this.#o.dir) {
      await mkdir(this.#o.dir, { recursive: true, mode: 0o700 });
      const path = join(this.#o.dir, `${tenant}.leaves`);
      // A cache: rebuilt from LEDGER at first use, so a stale or foreign file is never trusted.
      await unlink(path).catch(() => {});
      store = FileLeafStore.open(path);
    } else store = new MemoryLeafStore();
    return {
      tenant,
      tree: new MerkleTree({ store }),
      store,
      frontier: Frontier.empty(),
      height: 0,
      head: GENESIS_HEAD,
      ledgerSeq: 0,
      blocks: [],
      ids: new Map(),
      busy: Promise.resolve(),
    };
  }

  async #catchUp(t: TenantTree): Promise<void> {
    const last = await this.#o.streams.last(LEDGER_STREAM, ledgerSubject(t.tenant));
    if (!last || last.seq <= t.ledgerSeq) return;
    const r = await replayChain(
      this.#o.streams,
      t.tenant,
      ({ block: b, ledgerSeq, leaves }) => {
        for (const [k, leaf] of leaves.entries()) {
          t.tree.append(Buffer.from(leaf, 'hex'));
          const key = idKey(b.entries[k]![1]);
          const had = t.ids.get(key);
          const h = b.firstHeight + k;
          t.ids.set(key, had === undefined ? h : Array.isArray(had) ? [...had, h] : [had, h]);
        }
        t.blocks.push({ index: b.index, format: b.format, firstHeight: b.firstHeight, lastHeight: b.lastHeight, lastSeq: b.lastSeq, ledgerSeq });
      },
      { fromSeq: t.ledgerSeq + 1, toSeq: last.seq, start: { height: t.height, head: t.head, frontier: t.frontier } },
    );
    Object.assign(t, { height: r.height, head: r.head, frontier: r.frontier, ledgerSeq: r.ledgerSeq || t.ledgerSeq });
  }
}

/** A 31-bit FNV-1a hash of an id: the key of the entry index (a small integer, cheap in a Map). */
function idKey(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 1;
}

/** True when a record body holds an event with this id (any event of the commit). */
function holdsEvent(body: Uint8Array, eventId: string): boolean {
  if (firstEventId(body) === eventId) return true;
  try {
    const events = (JSON.parse(new TextDecoder().decode(body)) as { events?: Array<{ id?: unknown }> }).events;
    return Array.isArray(events) && events.some((e) => e?.id === eventId);
  } catch {
    return false;
  }
}

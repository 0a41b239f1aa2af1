import type { KeyObject } from 'node:crypto';
import { assertId, isValidId } from '../ids.ts';
import { ALL_EVENTS, EVENTS_STREAM, parseEventSubject, tenantFilter, type StoredMessage, type Streams } from '../log/mod.ts';
import {
  GENESIS_HEAD,
  LEDGER_STREAM,
  LEDGER_SUBJECT_PREFIX,
  VERSION_HEADER,
  blockSignedText,
  checkpointSignedText,
  entryHash,
  eventHash,
  firstEventId,
  ledgerSubject,
  parseBlock,
  type Block,
  type BlockEntry,
  type Checkpoint,
} from './format.ts';
import { ShredTally } from '../privacy/shredded.ts';
import { readKeyRecords } from './keyrecords.ts';
import { verifyText } from './keys.ts';

/** What can be wrong with a chain; `verify` names the first one it meets, by height. */
export type BreakKind =
  | 'event_edited'
  | 'event_removed'
  | 'entry_out_of_order'
  | 'entry_duplicated'
  | 'event_inserted'
  | 'bad_signature'
  | 'unknown_key'
  | 'unsealed'
  | 'checkpoint_fork'
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
  /** Block index and LEDGER sequence, when the break is in a block. */
  block?: number;
  ledgerSeq?: number;
}

export interface TenantReport {
  tenant: string;
  ok: boolean;
  /** Entries (stored event records) verified against their events. */
  entries: number;
  blocks: number;
  height: number;
  head: string;
  keyIds: string[];
  /** Records not yet sealed but younger than the sealing window. */
  pending: number;
  /** Verified entries whose personal fields are shredded (their keys destroyed): intact, unreadable, not a break. */
  shredded: number;
  break?: Break;
}

export interface VerifyReport {
  ok: boolean;
  tenants: TenantReport[];
  keys: Array<{ keyId: string; prevKeyId: string | null; at: string; trusted: boolean }>;
  checkpoint?: { at: string; keyId: string; ok: boolean; message?: string };
}

export interface VerifyOptions {
  streams: Streams;
  /** Tenants to verify, or 'all' (every tenant with events or blocks). */
  tenants: string[] | 'all';
  /** A saved checkpoint the chains must still extend. */
  checkpoint?: Checkpoint;
  /** How long a record may stay unsealed before it is a break. @defaultValue 60000 */
  windowMs?: number;
  now?: () => Date;
  onProgress?: (p: { tenant: string; entries: number }) => void;
}

/**
 * Replays LEDGER against EVENTS, read-only: every block's key and signature, every block's link
 * to the one before, every entry against the exact stored record it names, every record of the
 * tenant against the chain, and the chains against a saved checkpoint.
 */
export async function verifyLedger(o: VerifyOptions): Promise<VerifyReport> {
  const streams = o.streams;
  const { keys, trusted } = await loadKeys(streams);
  const report: VerifyReport = { ok: true, tenants: [], keys };
  let cp: Checkpoint | undefined = o.checkpoint;
  if (cp) {
    const key = trusted.get(cp.keyId);
    const ok = !!key && verifyText(key, checkpointSignedText(cp), cp.sig);
    report.checkpoint = {
      at: cp.at,
      keyId: cp.keyId,
      ok,
      ...(ok ? {} : { message: key ? 'checkpoint signature does not verify' : `checkpoint signed by unknown key ${cp.keyId}` }),
    };
    if (!ok) {
      report.ok = false;
      cp = undefined;
    }
  }
  const now = (o.now?.() ?? new Date()).getTime();
  const checks = new Map<string, ChainCheck>();
  const checkOf = (tenant: string): ChainCheck => {
    let c = checks.get(tenant);
    if (!c) {
      c = new ChainCheck(
        tenant,
        trusted,
        cp?.heads.find((h) => h.tenant === tenant),
        now,
        o.windowMs ?? 60_000,
        o.onProgress,
      );
      checks.set(tenant, c);
    }
    return c;
  };
  if (o.tenants === 'all') {
    // One pass over each stream for every tenant: per-tenant consumers cost more than the reading.
    for (const h of cp?.heads ?? []) checkOf(h.tenant);
    for await (const m of streams.scan(LEDGER_STREAM, { filter: `${LEDGER_SUBJECT_PREFIX}>` })) {
      const tenant = m.subject.slice(LEDGER_SUBJECT_PREFIX.length);
      if (isValidId('tenant', tenant)) checkOf(tenant).block(m);
    }
    for (const c of checks.values()) c.blocksDone();
    await streams.scanEach(EVENTS_STREAM, { filter: ALL_EVENTS }, (m) => {
      let tenant: string;
      try {
        tenant = parseEventSubject(m.subject).tenant;
      } catch {
        return; // not a record subject
      }
      checkOf(tenant).record(m);
    });
  } else {
    for (const t of o.tenants) assertId('tenant', t, 'tenant');
    for (const tenant of new Set(o.tenants)) {
      const c = checkOf(tenant);
      for await (const m of streams.scan(LEDGER_STREAM, { filter: ledgerSubject(tenant) })) c.block(m);
      c.blocksDone();
      await streams.scanEach(EVENTS_STREAM, { filter: tenantFilter(tenant) }, (m) => c.record(m));
    }
  }
  // In the order asked for; every tenant found, by name, for --all.
  const order = o.tenants === 'all' ? [...checks.values()].sort((a, b) => (a.tenant < b.tenant ? -1 : 1)) : [...new Set(o.tenants)].map((t) => checks.get(t)!);
  for (const c of order) {
    const r = await c.finish(streams);
    report.tenants.push(r);
    if (!r.ok) report.ok = false;
  }
  return report;
}

/** Key records in order, and the keys of the trusted run (see readKeyRecords). */
async function loadKeys(streams: Streams) {
  const records = await readKeyRecords(streams);
  const keys: VerifyReport['keys'] = records.map((r) => ({ keyId: r.record.keyId, prevKeyId: r.record.prevKeyId, at: r.record.at, trusted: r.trusted }));
  const trusted = new Map<string, KeyObject>();
  for (const r of records) if (r.trusted) trusted.set(r.record.keyId, r.key!);
  return { keys, trusted };
}

type Where = Omit<Break, 'tenant'>;

/**
 * One tenant's chain, checked in two passes fed in stream order: its blocks (signatures, links,
 * entries hashing to each signed head, the saved checkpoint), then its records against the
 * entries the blocks vouch for. Entries after the first bad block are not trusted.
 */
class ChainCheck {
  readonly tenant: string;
  readonly #trusted: Map<string, KeyObject>;
  readonly #saved: { height: number; head: string } | undefined;
  readonly #now: number;
  readonly #windowMs: number;
  readonly #onProgress: VerifyOptions['onProgress'];
  readonly #entries: BlockEntry[] = [];
  readonly #keyIds = new Set<string>();
  readonly #ids = new Set<string>();
  #blockBreak: Where | null = null;
  #recordBreak: Where | null = null;
  /** An entry whose record is not at its place; classified (moved, edited, removed) in finish(). */
  #missing: { entry: BlockEntry; height: number } | null = null;
  #head = GENESIS_HEAD;
  #height = 0;
  #index = 0;
  #blocks = 0;
  #lastSeq = 0;
  #checkpointSeen = false;
  #i = 0;
  #pending = 0;
  readonly #shred = new ShredTally();

  constructor(
    tenant: string,
    trusted: Map<string, KeyObject>,
    saved: { height: number; head: string } | undefined,
    now: number,
    windowMs: number,
    onProgress: VerifyOptions['onProgress'],
  ) {
    this.tenant = tenant;
    this.#trusted = trusted;
    this.#saved = saved;
    this.#now = now;
    this.#windowMs = windowMs;
    this.#onProgress = onProgress;
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
    const key = this.#trusted.get(b.keyId);
    const [height, index, head, saved] = [this.#height, this.#index, this.#head, this.#saved];
    if (b.tenant !== this.tenant) this.#blockBreak = { kind: 'block_malformed', message: `block ${b.index} names tenant ${b.tenant}`, ...where };
    else if (!key) this.#blockBreak = { kind: 'unknown_key', message: `block ${b.index} is signed by unknown key ${b.keyId}`, ...where };
    else if (!verifyText(key, blockSignedText(b), b.sig))
      this.#blockBreak = { kind: 'bad_signature', message: `block ${b.index} has a signature that does not verify with key ${b.keyId}`, ...where };
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
    }
    if (this.#blockBreak) return;
    let h = head;
    let savedHeadAt: string | null = null;
    for (let i = 0; i < b.entries.length; i++) {
      h = entryHash(this.tenant, b.firstHeight + i, h, b.entries[i]![2]);
      if (saved && b.firstHeight + i === saved.height) savedHeadAt = h;
    }
    if (h !== b.head) {
      this.#blockBreak = { kind: 'chain_broken', message: `the entries of block ${b.index} do not hash to the head it signs`, ...where };
      return;
    }
    if (savedHeadAt !== null) {
      this.#checkpointSeen = true;
      if (savedHeadAt !== saved!.head) {
        this.#blockBreak = {
          kind: 'checkpoint_fork',
          message: `the chain no longer extends the saved checkpoint: at height ${saved!.height} the head is ${savedHeadAt}, the checkpoint says ${saved!.head}`,
          ...where,
          height: saved!.height,
        };
        return;
      }
    }
    // The sealer reads records in stream order, so a chain's sequences only grow.
    const backwards = b.entries.findIndex((e, k) => e[0] <= (k === 0 ? this.#lastSeq : b.entries[k - 1]![0]));
    if (backwards >= 0) {
      this.#blockBreak = {
        kind: 'entry_out_of_order',
        message: `entry ${b.firstHeight + backwards} names record ${b.entries[backwards]![0]}, which is not after the entry before it`,
        ...where,
        height: b.firstHeight + backwards,
      };
      return;
    }
    for (const e of b.entries) this.#entries.push(e);
    this.#lastSeq = b.entries[b.entries.length - 1]![0];
    this.#head = b.head;
    this.#height = b.lastHeight;
    this.#index = b.index;
    this.#keyIds.add(b.keyId);
    this.#blocks++;
  }

  blocksDone(): void {
    const saved = this.#saved;
    if (!this.#blockBreak && saved && saved.height > 0 && !this.#checkpointSeen) {
      this.#blockBreak = {
        kind: 'checkpoint_fork',
        message: `the chain (height ${this.#height}) no longer reaches the saved checkpoint at height ${saved.height}`,
        height: Math.min(this.#height + 1, saved.height),
      };
    }
  }

  record(m: StoredMessage): void {
    if (this.#recordBreak || this.#missing) return;
    const e = this.#entries[this.#i];
    const height = this.#i + 1;
    if (e) {
      // The next record in the tenant's order must be the next entry's: its hash decides. The
      // sequence an entry names is a locator, read only to explain a mismatch (and the record's
      // delivery info is not even parsed on the common path).
      if (eventHash(m.subject, m.headers?.get(VERSION_HEADER) ?? '', m.data) === e[2]) {
        const id = e[1] || firstEventId(m.data);
        if (this.#ids.has(id)) {
          this.#recordBreak = { kind: 'entry_duplicated', message: `entry ${height} seals event ${id} a second time (seq ${m.seq})`, height, seq: m.seq };
          return;
        }
        this.#ids.add(id);
        this.#shred.record(m.subject, m.data);
        this.#i++;
        if (this.#onProgress && this.#i % 10_000 === 0) this.#onProgress({ tenant: this.tenant, entries: this.#i });
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
    // Past the chain's end: not sealed yet. Fine within the sealing window, a break beyond it.
    const age = this.#now - m.time.getTime();
    if (age > this.#windowMs) {
      this.#recordBreak = {
        kind: 'unsealed',
        message: `record at seq ${m.seq} has been unsealed for ${Math.round(age / 1000)} s (window ${this.#windowMs / 1000} s)`,
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
      keyIds: [...this.#keyIds],
      pending: this.#pending,
      shredded: this.#shred.count(),
    };
    if (!this.#recordBreak && !this.#missing && this.#i < this.#entries.length) this.#missing = { entry: this.#entries[this.#i]!, height: this.#i + 1 };
    const brk =
      this.#recordBreak ?? (this.#missing ? await classifyMissing(streams, this.tenant, this.#missing.entry, this.#missing.height) : null) ?? this.#blockBreak;
    this.#onProgress?.({ tenant: this.tenant, entries: this.#i });
    return brk ? { ...r, ok: false, break: { tenant: this.tenant, ...brk } } : r;
  }
}

/** An entry whose record is not where it names: moved (same bytes elsewhere), edited (same event id, other bytes) or removed. */
async function classifyMissing(streams: Streams, tenant: string, e: BlockEntry, height: number): Promise<Omit<Break, 'tenant'>> {
  const [seq, id, hash] = e;
  for await (const m of streams.scan(EVENTS_STREAM, { filter: tenantFilter(tenant), fromSeq: seq + 1 })) {
    let firstId = m.headers?.get('Nats-Msg-Id') ?? '';
    if (firstId !== id) firstId = firstEventId(m.data);
    if (firstId !== id) continue;
    if (eventHash(m.subject, m.headers?.get(VERSION_HEADER) ?? '', m.data) === hash) {
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

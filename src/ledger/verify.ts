import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { KeyObject } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { assertId } from '../ids.ts';
import { EVENTS_STREAM, parseEventSubject, tenantFilter } from '../log/mod.ts';
import {
  GENESIS_HEAD, KEYS_SUBJECT, LEDGER_STREAM, LEDGER_SUBJECT_PREFIX, VERSION_HEADER,
  blockSignedText, checkpointSignedText, entryHash, eventHash, firstEventId, keyRecordSignedText, ledgerSubject, parseBlock,
  type BlockEntry, type Checkpoint, type KeyRecord,
} from './format.ts';
import { publicKeyOfRecord, verifyText } from './keys.ts';
import { scan } from './stream.ts';

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
  break?: Break;
}

export interface VerifyReport {
  ok: boolean;
  tenants: TenantReport[];
  keys: Array<{ keyId: string; prevKeyId: string | null; at: string; trusted: boolean }>;
  checkpoint?: { at: string; keyId: string; ok: boolean; message?: string };
}

export interface VerifyOptions {
  nc: NatsConnection;
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
  const jsm = await jetstreamManager(o.nc);
  const js = jetstream(o.nc);
  const { keys, trusted } = await loadKeys(jsm, js);
  const report: VerifyReport = { ok: true, tenants: [], keys };
  let cp: Checkpoint | undefined = o.checkpoint;
  if (cp) {
    const key = trusted.get(cp.keyId);
    const ok = !!key && verifyText(key, checkpointSignedText(cp), cp.sig);
    report.checkpoint = { at: cp.at, keyId: cp.keyId, ok, ...(ok ? {} : { message: key ? 'checkpoint signature does not verify' : `checkpoint signed by unknown key ${cp.keyId}` }) };
    if (!ok) {
      report.ok = false;
      cp = undefined;
    }
  }
  const tenants = o.tenants === 'all' ? await allTenants(jsm) : o.tenants;
  for (const t of tenants) assertId('tenant', t, 'tenant');
  if (cp && o.tenants === 'all') for (const h of cp.heads) if (!tenants.includes(h.tenant)) tenants.push(h.tenant);
  for (const tenant of tenants) {
    const r = await verifyTenant(jsm, js, tenant, trusted, cp?.heads.find((h) => h.tenant === tenant), o);
    report.tenants.push(r);
    if (!r.ok) report.ok = false;
  }
  return report;
}

/** Key records in order; a record is trusted when the key before it (or, for the first, itself) signed it. */
async function loadKeys(jsm: JetStreamManager, js: JetStreamClient) {
  const keys: VerifyReport['keys'] = [];
  const trusted = new Map<string, KeyObject>();
  let prev: KeyRecord | null = null;
  let prevKey: KeyObject | null = null;
  for await (const m of scan(jsm, js, LEDGER_STREAM, KEYS_SUBJECT)) {
    let r: KeyRecord;
    try {
      r = JSON.parse(new TextDecoder().decode(m.data)) as KeyRecord;
    } catch {
      continue;
    }
    const key = publicKeyOfRecord(r);
    const endorser = prev === null ? key : prevKey;
    const ok = !!key && !!endorser && r.prevKeyId === (prev?.keyId ?? null) && verifyText(endorser, keyRecordSignedText(r), r.sig);
    keys.push({ keyId: r.keyId, prevKeyId: r.prevKeyId, at: r.at, trusted: ok });
    if (!ok) continue; // a record that does not chain is not a key anyone may sign with
    trusted.set(r.keyId, key!);
    prev = r;
    prevKey = key;
  }
  return { keys, trusted };
}

async function allTenants(jsm: JetStreamManager): Promise<string[]> {
  const names = new Set<string>();
  const ledger = await jsm.streams.info(LEDGER_STREAM, { subjects_filter: `${LEDGER_SUBJECT_PREFIX}>` }).catch(() => null);
  for (const s of Object.keys(ledger?.state.subjects ?? {})) names.add(s.slice(LEDGER_SUBJECT_PREFIX.length));
  const events = await jsm.streams.info(EVENTS_STREAM, { subjects_filter: 'ev.>' }).catch(() => null);
  for (const s of Object.keys(events?.state.subjects ?? {})) {
    try {
      names.add(parseEventSubject(s).tenant);
    } catch {
      // not a record subject
    }
  }
  return [...names].sort();
}

async function verifyTenant(
  jsm: JetStreamManager,
  js: JetStreamClient,
  tenant: string,
  trusted: Map<string, KeyObject>,
  saved: { height: number; head: string } | undefined,
  o: VerifyOptions,
): Promise<TenantReport> {
  const r: TenantReport = { tenant, ok: true, entries: 0, blocks: 0, height: 0, head: GENESIS_HEAD, keyIds: [], pending: 0 };
  const fail = (b: Omit<Break, 'tenant'>): TenantReport => ({ ...r, ok: false, break: { tenant, ...b } });

  // Phase 1: the blocks. Entries are trusted up to the first block that does not verify.
  const entries: BlockEntry[] = [];
  const keyIds = new Set<string>();
  let blockBreak: Omit<Break, 'tenant'> | null = null;
  let head = GENESIS_HEAD;
  let height = 0;
  let index = 0;
  let checkpointSeen = false;
  let lastSeq = 0;
  for await (const m of scan(jsm, js, LEDGER_STREAM, ledgerSubject(tenant))) {
    if (blockBreak) continue;
    let b;
    try {
      b = parseBlock(m.data, { ledgerSeq: m.seq });
    } catch {
      blockBreak = { kind: 'block_malformed', message: `block at LEDGER seq ${m.seq} is not a well-formed block`, ledgerSeq: m.seq, height: height + 1 };
      continue;
    }
    const where = { block: b.index, ledgerSeq: m.seq, height: b.firstHeight };
    const key = trusted.get(b.keyId);
    if (b.tenant !== tenant) blockBreak = { kind: 'block_malformed', message: `block ${b.index} names tenant ${b.tenant}`, ...where };
    else if (!key) blockBreak = { kind: 'unknown_key', message: `block ${b.index} is signed by unknown key ${b.keyId}`, ...where };
    else if (!verifyText(key, blockSignedText(b), b.sig)) blockBreak = { kind: 'bad_signature', message: `block ${b.index} has a signature that does not verify with key ${b.keyId}`, ...where };
    else if (b.index <= index || b.firstHeight <= height) {
      blockBreak = { kind: 'entry_duplicated', message: `block ${b.index} repeats heights ${b.firstHeight}..${b.lastHeight} already in the chain (chain is at height ${height}, block ${index})`, ...where };
    } else if (b.index !== index + 1 || b.firstHeight !== height + 1 || b.prevHead !== head) {
      blockBreak = { kind: 'chain_broken', message: `block ${b.index} (heights ${b.firstHeight}..${b.lastHeight}) does not extend block ${index} at height ${height}`, ...where };
    }
    if (blockBreak) continue;
    let h = head;
    let savedHeadAt: string | null = null;
    for (let i = 0; i < b.entries.length; i++) {
      h = entryHash(tenant, b.firstHeight + i, h, b.entries[i]![2]);
      if (saved && b.firstHeight + i === saved.height) savedHeadAt = h;
    }
    if (h !== b.head) {
      blockBreak = { kind: 'chain_broken', message: `the entries of block ${b.index} do not hash to the head it signs`, ...where };
      continue;
    }
    if (savedHeadAt !== null) {
      checkpointSeen = true;
      if (savedHeadAt !== saved!.head) {
        blockBreak = { kind: 'checkpoint_fork', message: `the chain no longer extends the saved checkpoint: at height ${saved!.height} the head is ${savedHeadAt}, the checkpoint says ${saved!.head}`, ...where, height: saved!.height };
        continue;
      }
    }
    // The sealer reads records in stream order, so a chain's sequences only grow.
    const backwards = b.entries.findIndex((e, k) => e[0] <= (k === 0 ? lastSeq : b.entries[k - 1]![0]));
    if (backwards >= 0) {
      blockBreak = { kind: 'entry_out_of_order', message: `entry ${b.firstHeight + backwards} names record ${b.entries[backwards]![0]}, which is not after the entry before it`, ...where, height: b.firstHeight + backwards };
      continue;
    }
    for (const e of b.entries) entries.push(e);
    lastSeq = b.entries[b.entries.length - 1]![0];
    head = b.head;
    height = b.lastHeight;
    index = b.index;
    keyIds.add(b.keyId);
    r.blocks++;
  }
  if (!blockBreak && saved && saved.height > 0 && !checkpointSeen) {
    blockBreak = { kind: 'checkpoint_fork', message: `the chain (height ${height}) no longer reaches the saved checkpoint at height ${saved.height}`, height: Math.min(height + 1, saved.height) };
  }
  Object.assign(r, { height, head, keyIds: [...keyIds] });

  // Phase 2: every record of the tenant against the trusted entries, in stream order.
  const now = (o.now?.() ?? new Date()).getTime();
  const windowMs = o.windowMs ?? 60_000;
  const ids = new Set<string>();
  let i = 0;
  const filter = tenantFilter(tenant);
  for await (const m of scan(jsm, js, EVENTS_STREAM, filter)) {
    const e = entries[i];
    if (e && e[0] === m.seq) {
      const at = { height: i + 1, seq: m.seq };
      if (e[1] && ids.has(e[1])) return fail({ kind: 'entry_duplicated', message: `entry ${i + 1} seals event ${e[1]} a second time (seq ${m.seq})`, ...at });
      const h = eventHash(m.subject, m.headers?.get(VERSION_HEADER) ?? '', m.data);
      if (h !== e[2]) return fail({ kind: 'event_edited', message: `event record at seq ${m.seq} (height ${i + 1}) does not match its entry: it was edited`, ...at });
      ids.add(e[1]);
      i++;
      r.entries++;
      if (o.onProgress && r.entries % 10_000 === 0) o.onProgress({ tenant, entries: r.entries });
      continue;
    }
    if (e && e[0] < m.seq) return fail(await classifyMissing(jsm, js, tenant, e, i + 1));
    if (e) return fail({ kind: 'event_inserted', message: `record at seq ${m.seq} sits between sealed records but is not in the chain`, seq: m.seq, height: i + 1 });
    if (blockBreak) break;
    // Past the chain's end: not sealed yet. Fine within the sealing window, a break beyond it.
    if (now - m.time.getTime() > windowMs) {
      return fail({ kind: 'unsealed', message: `record at seq ${m.seq} has been unsealed for ${Math.round((now - m.time.getTime()) / 1000)} s (window ${windowMs / 1000} s)`, seq: m.seq, height: height + 1 });
    }
    r.pending++;
  }
  if (i < entries.length) return fail(await classifyMissing(jsm, js, tenant, entries[i]!, i + 1));
  o.onProgress?.({ tenant, entries: r.entries });
  if (blockBreak) return fail(blockBreak);
  return r;
}

/** An entry whose record is not where it names: moved (same bytes elsewhere), edited (same event id, other bytes) or removed. */
async function classifyMissing(jsm: JetStreamManager, js: JetStreamClient, tenant: string, e: BlockEntry, height: number): Promise<Omit<Break, 'tenant'>> {
  const [seq, id, hash] = e;
  for await (const m of scan(jsm, js, EVENTS_STREAM, tenantFilter(tenant), { fromSeq: seq + 1 })) {
    let firstId = m.headers?.get('Nats-Msg-Id') ?? '';
    if (firstId !== id) firstId = firstEventId(m.data);
    if (firstId !== id) continue;
    if (eventHash(m.subject, m.headers?.get(VERSION_HEADER) ?? '', m.data) === hash) {
      return { kind: 'entry_out_of_order', message: `event ${id} sealed at height ${height} (seq ${seq}) was moved to seq ${m.seq}: the records were reordered`, height, seq };
    }
    return { kind: 'event_edited', message: `event ${id} sealed at height ${height} (seq ${seq}) was removed and an edited copy stored at seq ${m.seq}`, height, seq };
  }
  return { kind: 'event_removed', message: `event ${id} sealed at height ${height} (seq ${seq}) was removed from EVENTS`, height, seq };
}

import type { KeyObject } from 'node:crypto';
import { assertId, isValidId } from '../ids.ts';
import { ALL_EVENTS, EVENT_PARTITIONS, EVENTS_STREAM, partitionOf, tenantFilter, type Streams } from '../log/mod.ts';
import { openNote } from '../transparency/mod.ts';
import { ChainCheck, type BreakKind, type ChainCheckContext, type TenantReport } from './chaincheck.ts';
import { tenantNoteVerifier, type NoteCheckpoint } from './checkpoint.ts';
import { CHECKPOINT_SUBJECT_PREFIX, LEDGER_SCAN_BATCH, LEDGER_STREAM, LEDGER_SUBJECT_PREFIX, checkpointSubject, ledgerSubject } from './format.ts';
import { SEALER_BUCKET, sealerConsumerName } from './group.ts';
import { keyIdOf } from './keys.ts';
import { loadKeyWindows, type KeyReport } from './keywindows.ts';

export type { BreakKind, TenantReport };

/** A checkpoint the auditor saved earlier, as verify judged it. */
export interface SavedCheckpointReport {
  tenant: string;
  origin: string;
  size: number;
  ok: boolean;
  /** Who signed it: a ledger key LEDGER records, one given with `logKeys`, or none known. */
  signedBy: string | null;
  message?: string;
}

export interface VerifyReport {
  ok: boolean;
  /** False when the LEDGER stream does not exist at all. */
  ledger: boolean;
  tenants: TenantReport[];
  keys: KeyReport[];
  /** The saved checkpoints given, each against its tenant's chain. */
  checkpoints: SavedCheckpointReport[];
}

export interface VerifyOptions {
  streams: Streams;
  /** Tenants to verify, or 'all' (every tenant with events or blocks). */
  tenants: string[] | 'all';
  /** Checkpoints saved earlier (notes, each naming its tenant's log): the chains must still extend them. */
  checkpoints?: NoteCheckpoint[];
  /** Ledger public keys the auditor holds, to check saved checkpoints when LEDGER no longer records their key. */
  logKeys?: KeyObject[];
  /** The install origin every checkpoint must name (`<origin>/tenant/<tenant>`). */
  origin?: string;
  /** Witnesses' verifier keys (vkeys) and how many of them must have cosigned each tenant's newest checkpoint. */
  witnesses?: { keys: string[]; quorum: number };
  /** How long a record may stay unsealed before it is a break. @defaultValue 60000 */
  windowMs?: number;
  now?: () => Date;
  onProgress?: (p: { tenant: string; entries: number }) => void;
}

/**
 * Replays LEDGER against EVENTS, read-only: every block's key (and its window) and signature,
 * every block's link to the one before and the head and tree root it signs, the checkpoints in
 * LEDGER, every entry against the exact stored record it names, every record of the tenant
 * against the chain (a record the sealer acknowledged that no block holds is a break at once),
 * and the chains against saved checkpoints. Every scan ends at a sequence fixed when it starts,
 * so verify always ends with a verdict.
 */
export async function verifyLedger(o: VerifyOptions): Promise<VerifyReport> {
  const streams = o.streams;
  if (o.tenants !== 'all') for (const t of o.tenants) assertId('tenant', t, 'tenant');
  // Independent reads, asked at once (each is a round trip or a few). The floors are read before
  // any block: a floor read later could vouch for blocks stored after the scan of LEDGER.
  const [state, { report: keys, windows }, floors] = await Promise.all([
    streams.state(LEDGER_STREAM),
    loadKeyWindows(streams),
    sealedFloors(streams, o.tenants === 'all' ? null : o.tenants),
  ]);
  const report: VerifyReport = { ok: true, ledger: state !== null, tenants: [], keys, checkpoints: [] };
  const now = (o.now?.() ?? new Date()).getTime();
  const checks = new Map<string, ChainCheck>();
  const checkOf = (tenant: string): ChainCheck => {
    let c = checks.get(tenant);
    if (!c) {
      const ctx: ChainCheckContext = {
        keys: windows,
        now,
        windowMs: o.windowMs ?? 60_000,
        sealedFloor: Math.max(floors.get(partitionOf(tenant)) ?? 0, floors.get(-1) ?? 0),
        onProgress: o.onProgress,
        ...(o.origin !== undefined ? { origin: o.origin } : {}),
        ...(o.witnesses ? { witnesses: o.witnesses } : {}),
      };
      c = new ChainCheck(tenant, ctx);
      checks.set(tenant, c);
    }
    return c;
  };
  if (o.tenants === 'all') {
    // One pass over each stream for every tenant: per-tenant consumers cost more than the reading.
    for (const cp of o.checkpoints ?? []) checkOf(cp.tenant);
    // Blocks and checkpoints are judged apart until blocksDone(): their two reads overlap, and the
    // records start arriving meanwhile, handed to the chains only once every block is in.
    const blocks = settled([
      streams.scanEach(LEDGER_STREAM, { filter: `${LEDGER_SUBJECT_PREFIX}>`, batch: LEDGER_SCAN_BATCH }, (m) => {
        const tenant = m.subject.slice(LEDGER_SUBJECT_PREFIX.length);
        if (isValidId('tenant', tenant)) checkOf(tenant).block(m);
      }),
      streams.scanEach(LEDGER_STREAM, { filter: `${CHECKPOINT_SUBJECT_PREFIX}>` }, (m) => {
        const tenant = m.subject.slice(CHECKPOINT_SUBJECT_PREFIX.length);
        if (isValidId('tenant', tenant)) checkOf(tenant).checkpointMessage(m);
      }),
    ]).then(() => {
      for (const c of checks.values()) c.blocksDone();
    });
    await settled([
      blocks,
      streams.scanEach(EVENTS_STREAM, { filter: ALL_EVENTS, holdUntil: blocks }, (m) => {
        const tenant = tenantOfSubject(m.subject);
        if (tenant) checkOf(tenant).record(m);
      }),
    ]);
  } else {
    for (const tenant of new Set(o.tenants)) {
      const c = checkOf(tenant);
      const blocks = settled([
        streams.scanEach(LEDGER_STREAM, { filter: ledgerSubject(tenant), batch: LEDGER_SCAN_BATCH }, (m) => c.block(m)),
        streams.scanEach(LEDGER_STREAM, { filter: checkpointSubject(tenant) }, (m) => c.checkpointMessage(m)),
      ]).then(() => c.blocksDone());
      await settled([blocks, streams.scanEach(EVENTS_STREAM, { filter: tenantFilter(tenant), holdUntil: blocks }, (m) => c.record(m))]);
    }
  }
  // In the order asked for; every tenant found, by name, for --all.
  const order = o.tenants === 'all' ? [...checks.values()].sort((a, b) => (a.tenant < b.tenant ? -1 : 1)) : [...new Set(o.tenants)].map((t) => checks.get(t)!);
  for (const c of order) {
    const r = await c.finish(streams);
    report.tenants.push(r);
    if (!r.ok) report.ok = false;
  }
  for (const cp of o.checkpoints ?? []) {
    const r = savedCheckpoint(cp, checks.get(cp.tenant), windows, o.logKeys ?? []);
    report.checkpoints.push(r);
    if (!r.ok) report.ok = false;
  }
  return report;
}

/** Waits for every read (none is left running behind a verdict), then fails with the first failure. */
async function settled(reads: Promise<unknown>[]): Promise<void> {
  for (const r of await Promise.allSettled(reads)) if (r.status === 'rejected') throw r.reason;
}

/** The tenant of a record subject `ev.<partition>.<tenant>.<type>.<id>` (null for anything else), without splitting it. */
function tenantOfSubject(subject: string): string | null {
  if (!subject.startsWith('ev.')) return null;
  const a = subject.indexOf('.', 3);
  const b = a < 0 ? -1 : subject.indexOf('.', a + 1);
  const c = b < 0 ? -1 : subject.indexOf('.', b + 1);
  if (c < 0 || subject.indexOf('.', c + 1) >= 0) return null;
  return subject.slice(a + 1, b);
}

/**
 * A saved checkpoint against its tenant's chain: signed by a ledger key of this install (one
 * LEDGER records, or one the auditor holds), and a tree head of the chain — not beyond it, not
 * of another root, and not newer than the newest checkpoint LEDGER holds (which would mean
 * LEDGER's checkpoints were rolled back).
 */
function savedCheckpoint(
  cp: NoteCheckpoint,
  check: ChainCheck | undefined,
  windows: Map<string, { key: KeyObject }>,
  logKeys: KeyObject[],
): SavedCheckpointReport {
  const base = { tenant: cp.tenant, origin: cp.origin, size: cp.size };
  if (!check) return { ...base, ok: false, signedBy: null, message: `covers tenant ${cp.tenant}, which was not verified here (add --tenant ${cp.tenant})` };
  let signedBy: string | null = null;
  let badSignature = false;
  for (const key of [...[...windows.values()].map((w) => w.key), ...logKeys]) {
    const opened = openNote(cp.note, [tenantNoteVerifier(key, cp.origin)]);
    if (opened.ok) {
      signedBy = keyIdOf(key);
      break;
    }
    if (opened.reason === 'invalid-signature') badSignature = true;
  }
  const problems: string[] = [];
  if (!signedBy) {
    problems.push(
      badSignature
        ? 'its signature does not verify'
        : windows.size === 0
          ? 'LEDGER holds no key records at all (the stream was deleted or replaced), so no ledger key of this install signs it; pass the key you hold with --log-key'
          : `none of the ${windows.size} ledger key(s) LEDGER records${logKeys.length ? ' nor the keys given' : ''} signs it as ${cp.origin}: LEDGER was replaced since, or the checkpoint is from another install`,
    );
  }
  const mismatch = check.againstChain(cp.size, cp.rootHash);
  if (mismatch) problems.push(mismatch);
  const newest = check.newestCheckpoint;
  if (!mismatch && (!newest || newest.size < cp.size)) {
    problems.push(
      `LEDGER's newest checkpoint of ${cp.tenant} is ${newest ? `of size ${newest.size}` : 'missing'}, older than this one: its checkpoints were rolled back`,
    );
  }
  return problems.length ? { ...base, ok: false, signedBy, message: problems.join('; ') } : { ...base, ok: true, signedBy };
}

/**
 * How far the sealers say they have sealed: each partition's floor in the sealer workers' KV
 * bucket (`floor.p<p>`: every record of p at or below it is in a stored block), the ack floor of a
 * consumer named after the partition (a worker's one consumer is acked up to the lowest floor of
 * the partitions it holds, and that name's partition is one of them) and of a single-sealer
 * consumer covering every partition (key -1). A record at or below its floor that no block holds
 * was sealed once and its block is gone.
 */
async function sealedFloors(streams: Streams, tenants: string[] | null): Promise<Map<number, number>> {
  const partitions = tenants ? [...new Set(tenants.filter((t) => isValidId('tenant', t)).map((t) => partitionOf(t)))] : [...Array(EVENT_PARTITIONS).keys()];
  const out = new Map<number, number>();
  const names: Array<[number, string]> = [[-1, 'stk-sealer'], ...partitions.map((p): [number, string] => [p, sealerConsumerName(p)])];
  await Promise.all(
    names.map(async ([p, name]) => {
      const c = await streams.consumer(EVENTS_STREAM, name).catch(() => null);
      if (c) out.set(p, Math.max(out.get(p) ?? 0, c.ackFloor));
    }),
  );
  const kv = await streams.bucket(SEALER_BUCKET, { existing: true }).catch(() => null);
  if (kv) {
    await Promise.all(
      partitions.map(async (p) => {
        const entry = await kv.get(`floor.p${p}`).catch(() => null);
        const floor = entry?.operation === 'PUT' ? Number(entry.string()) : Number.NaN;
        if (Number.isInteger(floor) && floor > 0) out.set(p, Math.max(out.get(p) ?? 0, floor));
      }),
    );
  }
  return out;
}

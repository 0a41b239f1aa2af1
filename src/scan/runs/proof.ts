import { SCAN, type ScanCompleted, ScanEvents } from '../../../commands/scans/events.ts';
import type { EventEnvelope } from '../../domain/events.ts';
import { StkError } from '../../errors.ts';
import type { EventLog } from '../../log/mod.ts';
import { canonicalJson, inclusionProof, leafHash, merkleRoot, verifyInclusion } from '../../merkle/mod.ts';
import { completeRun, readRunItems } from './items.ts';

/**
 * Everything needed to check, offline, that one item belongs to a sealed scan run: the item, its
 * index, the audit path to the run's root (RFC 9162 §2.1.3), and the EVENTS event that sealed the
 * root — which `stockade ledger verify` proves is in the tenant's signed ledger.
 */
export interface ScanItemProof {
  format: 1;
  kind: 'scan-item';
  runId: string;
  /** The item's index in the run (its leaf index) and the run's item count (the tree size). */
  index: number;
  count: number;
  item: unknown;
  /** SCANS sequence the item is stored at. */
  seq: number;
  /** Hex SHA-256(0x00 ‖ canonical JSON of the item). */
  leafHash: string;
  /** Hex sibling hashes from the leaf up. */
  proof: string[];
  merkleRoot: string;
  /** The run's `scan.completed` event as the log stores it. */
  run: Pick<EventEnvelope, 'id' | 'type' | 'tenant' | 'aggregate' | 'version' | 'at' | 'actor'> & { data: ScanCompleted };
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const decoder = new TextDecoder();

/**
 * The proof of item `index` of run `runId` of `tenant`: STK_ERR_NOT_FOUND when the tenant has no
 * such sealed run or the run no such item (another tenant's run answers the same),
 * STK_ERR_SCAN_PROOF_UNAVAILABLE when retention dropped items of the run or they no longer hash to
 * its sealed root.
 */
export async function buildScanProof(log: EventLog, tenant: string, runId: string, index: number): Promise<ScanItemProof> {
  const last = await log.lastCommit({ tenant, aggregateType: SCAN, aggregateId: runId });
  const event = last?.events.find((e) => e.type === ScanEvents.completed);
  const sealed = event?.data as ScanCompleted | undefined;
  if (!event || !sealed) throw new StkError('STK_ERR_NOT_FOUND', 'not found', { id: runId });
  if (!Number.isInteger(index) || index < 0 || index >= sealed.itemCount) throw new StkError('STK_ERR_NOT_FOUND', 'not found', { id: String(index) });
  if (sealed.firstSeq === undefined) throw new StkError('STK_ERR_SCAN_PROOF_UNAVAILABLE', 'this run was recorded without its items', { id: runId });
  const stored = await readRunItems(log, tenant, runId, { fromSeq: sealed.firstSeq, ...(sealed.lastSeq ? { toSeq: sealed.lastSeq } : {}) });
  const run = completeRun(stored, sealed.itemCount);
  if (!run) throw new StkError('STK_ERR_SCAN_PROOF_UNAVAILABLE', 'items of this run are no longer in SCANS (retention)', { id: runId });
  if (hex(merkleRoot(run.leaves)) !== sealed.merkleRoot)
    throw new StkError('STK_ERR_SCAN_PROOF_UNAVAILABLE', 'the stored items of this run do not hash to its sealed root', { id: runId });
  const m = stored.byIndex.get(index)!;
  return {
    format: 1,
    kind: 'scan-item',
    runId,
    index,
    count: sealed.itemCount,
    item: JSON.parse(decoder.decode(m.data)),
    seq: m.seq,
    leafHash: hex(run.leaves[index]!),
    proof: inclusionProof(run.leaves, index).map(hex),
    merkleRoot: sealed.merkleRoot,
    run: {
      id: event.id,
      type: event.type,
      tenant: event.tenant,
      aggregate: event.aggregate,
      version: event.version,
      at: event.at,
      actor: event.actor,
      data: sealed,
    },
  };
}

/** Why an offline check refused a proof. */
export type ScanProofCheck = { ok: true } | { ok: false; reason: string };

const isHex = (s: unknown): s is string => typeof s === 'string' && /^[0-9a-f]{64}$/.test(s);

/**
 * Checks a proof with nothing but the proof: the item's canonical JSON hashes to the leaf, the
 * audit path leads from the leaf at its index to the root, and root, count and run id are those of
 * the `scan.completed` event it carries.
 */
export function checkScanProof(p: unknown): ScanProofCheck {
  const fail = (reason: string): ScanProofCheck => ({ ok: false, reason });
  const x = p as Partial<ScanItemProof> | null;
  if (!x || typeof x !== 'object' || x.format !== 1 || x.kind !== 'scan-item') return fail('not a scan item proof (format 1)');
  const e = x.run;
  if (!e || e.type !== ScanEvents.completed || !e.data || e.aggregate?.type !== SCAN) return fail('the proof carries no scan.completed event');
  if (!isHex(x.leafHash) || !isHex(x.merkleRoot) || !Array.isArray(x.proof) || !x.proof.every(isHex)) return fail('malformed hashes');
  if (typeof x.index !== 'number' || typeof x.count !== 'number') return fail('malformed index or count');
  let leaf: Uint8Array;
  try {
    leaf = leafHash(canonicalJson(x.item));
  } catch {
    return fail('the item has no canonical JSON form');
  }
  if (hex(leaf) !== x.leafHash) return fail('the item does not hash to the leaf hash');
  if (x.runId !== e.aggregate.id) return fail('the proof names another run than the sealed event');
  if (x.merkleRoot !== e.data.merkleRoot) return fail('the root is not the one the run event sealed');
  if (x.count !== e.data.itemCount) return fail('the tree size is not the item count the run event sealed');
  const r = verifyInclusion(
    leaf,
    x.index,
    x.count,
    x.proof.map((h) => Buffer.from(h, 'hex')),
    Buffer.from(x.merkleRoot, 'hex'),
  );
  return r.ok ? { ok: true } : fail(`the inclusion proof does not verify (${r.reason})`);
}

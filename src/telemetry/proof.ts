import { TELEMETRY_BATCH, type TelemetryBatchReceived, TelemetryEvents } from '../../commands/telemetry/events.ts';
import type { EventEnvelope } from '../domain/events.ts';
import { StkError } from '../errors.ts';
import type { EventLog } from '../log/mod.ts';
import { bytesEqual, canonicalJson, inclusionProof, leafHash, merkleRoot, verifyInclusion } from '../merkle/mod.ts';
import { telemetryBatchId } from './ids.ts';
import { BATCH_HEADER, INDEX_HEADER, parseTelemetrySubject, TELEMETRY_STREAM, telemetrySubject } from './stream.ts';

/**
 * Everything needed to check, offline, that one telemetry item is the one its agent sent: the item,
 * its place in its batch, the audit path to the batch's Merkle root, and the EVENTS event that
 * sealed that root (which `stockade ledger verify` proves is in the signed ledger).
 */
export interface TelemetryProof {
  format: 1;
  /** TELEMETRY sequence of the item. */
  seq: number;
  agentId: string;
  item: unknown;
  /** Position of the item in its batch (0-based) and the batch's size: the tree's leaf index and size. */
  index: number;
  size: number;
  /** Hex SHA-256(0x00 ‖ canonical JSON of the item). */
  leafHash: string;
  /** Hex sibling hashes from the leaf up (RFC 9162 §2.1.3). */
  proof: string[];
  /** Hex root the proof leads to; equal to the sealed event's `merkleRoot`. */
  merkleRoot: string;
  /** The `telemetry.batch-received` event, as the log stores it. */
  batch: Pick<EventEnvelope, 'id' | 'type' | 'tenant' | 'aggregate' | 'version' | 'at' | 'actor'> & { data: TelemetryBatchReceived };
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const decoder = new TextDecoder();

/**
 * Builds the proof of TELEMETRY item `seq` of `tenant`: STK_ERR_NOT_FOUND when there is no such
 * item in this tenant (another tenant's answers the same), STK_ERR_TELEMETRY_PROOF_UNAVAILABLE when
 * its batch was never sealed or retention dropped items of it.
 */
export async function buildTelemetryProof(log: EventLog, tenant: string, seq: number): Promise<TelemetryProof> {
  const m = await log.streams.at(TELEMETRY_STREAM, seq);
  const where = m ? parseTelemetrySubject(m.subject) : null;
  if (!m || !where || where.tenant !== tenant) throw new StkError('STK_ERR_NOT_FOUND', 'not found', { id: String(seq) });
  const batchId = m.headers?.get(BATCH_HEADER) ?? '';
  const index = Number(m.headers?.get(INDEX_HEADER) ?? Number.NaN);
  const sealed = batchId
    ? await log.lastCommit({ tenant, aggregateType: TELEMETRY_BATCH, aggregateId: telemetryBatchId(tenant, where.agentId, batchId) })
    : null;
  const event = sealed?.events.find((e) => e.type === TelemetryEvents.batchReceived);
  if (!event || !Number.isInteger(index))
    throw new StkError('STK_ERR_TELEMETRY_PROOF_UNAVAILABLE', 'this item belongs to no sealed batch', { id: String(seq) });
  const batch = event.data as TelemetryBatchReceived;
  // The batch's items, from its agent's subject between the sealed first and last sequences.
  const leaves: Array<Uint8Array | undefined> = new Array(batch.count);
  for await (const x of log.streams.scan(TELEMETRY_STREAM, {
    filter: telemetrySubject(tenant, where.agentId),
    fromSeq: batch.firstSeq,
    toSeq: batch.lastSeq,
  })) {
    if (x.headers?.get(BATCH_HEADER) !== batchId) continue;
    const i = Number(x.headers.get(INDEX_HEADER));
    if (Number.isInteger(i) && i >= 0 && i < batch.count && leaves[i] === undefined) leaves[i] = leafHash(x.data);
  }
  const missing = leaves.indexOf(undefined);
  if (missing >= 0 || leaves.length !== batch.count)
    throw new StkError('STK_ERR_TELEMETRY_PROOF_UNAVAILABLE', 'items of this batch are no longer in TELEMETRY (retention)', { id: String(seq) });
  const all = leaves as Uint8Array[];
  const root = merkleRoot(all);
  if (hex(root) !== batch.merkleRoot)
    throw new StkError('STK_ERR_TELEMETRY_PROOF_UNAVAILABLE', 'the stored items of this batch do not hash to its sealed root', { id: String(seq) });
  return {
    format: 1,
    seq,
    agentId: where.agentId,
    item: JSON.parse(decoder.decode(m.data)),
    index,
    size: batch.count,
    leafHash: hex(all[index]!),
    proof: inclusionProof(all, index).map(hex),
    merkleRoot: batch.merkleRoot,
    batch: {
      id: event.id,
      type: event.type,
      tenant: event.tenant,
      aggregate: event.aggregate,
      version: event.version,
      at: event.at,
      actor: event.actor,
      data: batch,
    },
  };
}

/** Why an offline check refused a proof. */
export type ProofCheck = { ok: true } | { ok: false; reason: string };

/**
 * Checks a proof with nothing but the proof: the item's canonical JSON hashes to the leaf, the audit
 * path leads from the leaf to the root, and the root, size and agent are those of the sealed event.
 */
export function checkTelemetryProof(p: unknown): ProofCheck {
  const fail = (reason: string): ProofCheck => ({ ok: false, reason });
  const x = p as Partial<TelemetryProof> | null;
  if (!x || typeof x !== 'object' || x.format !== 1) return fail('not a telemetry proof (format 1)');
  const b = x.batch;
  if (!b || b.type !== TelemetryEvents.batchReceived || !b.data) return fail('the proof carries no telemetry.batch-received event');
  const isHex = (s: unknown): s is string => typeof s === 'string' && /^[0-9a-f]{64}$/.test(s);
  if (!isHex(x.leafHash) || !isHex(x.merkleRoot) || !Array.isArray(x.proof) || !x.proof.every(isHex)) return fail('malformed hashes');
  let leaf: Uint8Array;
  try {
    leaf = leafHash(canonicalJson(x.item));
  } catch {
    return fail('the item has no canonical JSON form');
  }
  if (hex(leaf) !== x.leafHash) return fail('the item does not hash to the leaf hash');
  if (x.merkleRoot !== b.data.merkleRoot) return fail('the root is not the one the batch event sealed');
  if (x.size !== b.data.count) return fail('the tree size is not the batch size the event sealed');
  if (x.agentId !== b.data.agentId || b.actor?.id !== b.data.agentId) return fail('the item is not of the agent the batch event names');
  if (typeof x.seq !== 'number' || x.seq < b.data.firstSeq || x.seq > b.data.lastSeq) return fail('the item lies outside the sequences the batch event sealed');
  const r = verifyInclusion(
    leaf,
    x.index ?? -1,
    x.size ?? 0,
    x.proof.map((h) => Buffer.from(h, 'hex')),
    Buffer.from(x.merkleRoot, 'hex'),
  );
  if (!r.ok) return fail(`the inclusion proof does not verify (${r.reason})`);
  return bytesEqual(leaf, Buffer.from(x.leafHash, 'hex')) ? { ok: true } : fail('leaf mismatch');
}

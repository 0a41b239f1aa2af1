import { batchFacts, TELEMETRY_BATCH, type TelemetryBatchReceived, TelemetryEvents } from '../../commands/telemetry/events.ts';
import type { EventEnvelope } from '../domain/events.ts';
import { StkError } from '../errors.ts';
import type { EventLog } from '../log/mod.ts';
import { bytesEqual, canonicalJson, inclusionProof, leafHash, merkleRoot, verifyInclusion } from '../merkle/mod.ts';
import { parseTelemetryItemId, telemetryItemId } from './ids.ts';
import { BATCH_HEADER, INDEX_HEADER, TELEMETRY_STREAM, telemetrySubject } from './stream.ts';

/**
 * Everything needed to check, offline, that one telemetry item is the one its agent sent: the item,
 * its place in its batch, the audit path to the batch's Merkle root, and the EVENTS event that
 * sealed that root (which `stockade ledger verify` proves is in the signed ledger). Format 2 names
 * the item by its batch and index; format 1 (answered before) by its TELEMETRY sequence.
 */
export interface TelemetryProof {
  format: 2;
  /** The item's id: `<batch>:<index>`, the batch being the sealed event's aggregate id. */
  itemId: string;
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
  /**
   * The `telemetry.batch-received` event that sealed the batch: its id, place and the batch's facts
   * (`agentId`, `batchId`, `count`, `merkleRoot`). An event of schema 1 also sealed the TELEMETRY
   * sequences of its items; they are left out here (the tenant's ledger export has the event whole).
   */
  batch: Pick<EventEnvelope, 'id' | 'type' | 'tenant' | 'aggregate' | 'version' | 'at' | 'actor' | 'schema'> & { data: TelemetryBatchReceived };
}

/** Where the items of a schema-2 batch start in TELEMETRY (the read side's batch index); null when it does not know the batch. */
export type LocateBatch = (batch: string) => Promise<number | null>;

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const decoder = new TextDecoder();

/**
 * Builds the proof of telemetry item `itemId` (`<batch>:<index>`) of `tenant`: STK_ERR_NOT_FOUND
 * when there is no such item in this tenant (another tenant's answers the same: the batch is looked
 * up in this tenant's log only), STK_ERR_TELEMETRY_PROOF_UNAVAILABLE when its items are not (or no
 * longer) in TELEMETRY. The batch's items are found on its agent's subject from where they start:
 * the sealed positions of a schema-1 event, else `locate` (the server's own index).
 */
export async function buildTelemetryProof(log: EventLog, tenant: string, itemId: string, locate: LocateBatch): Promise<TelemetryProof> {
  const name = parseTelemetryItemId(itemId);
  const notFound = () => new StkError('STK_ERR_NOT_FOUND', 'not found', { id: itemId });
  if (!name) throw notFound();
  const sealed = await log.lastCommit({ tenant, aggregateType: TELEMETRY_BATCH, aggregateId: name.batch });
  const event = sealed?.events.find((e) => e.type === TelemetryEvents.batchReceived);
  if (!event) throw notFound();
  const batch = event.data as TelemetryBatchReceived;
  if (name.index >= batch.count) throw notFound();
  const fromSeq = batch.firstSeq ?? (await locate(name.batch));
  if (fromSeq === null)
    throw new StkError('STK_ERR_TELEMETRY_PROOF_UNAVAILABLE', 'the items of this batch are not readable yet, or no longer in TELEMETRY', { id: itemId });
  // The batch's items, from its agent's subject: between the sealed positions of an old batch, from
  // the indexed start of a new one until all are found (an agent's batches follow one another).
  const leaves: Array<Uint8Array | undefined> = new Array(batch.count);
  let found = 0;
  let mine: Uint8Array | null = null;
  for await (const x of log.streams.scan(TELEMETRY_STREAM, {
    filter: telemetrySubject(tenant, batch.agentId),
    fromSeq,
    ...(batch.lastSeq !== undefined ? { toSeq: batch.lastSeq } : {}),
  })) {
    if (x.headers?.get(BATCH_HEADER) !== batch.batchId) continue;
    const i = Number(x.headers.get(INDEX_HEADER));
    if (!Number.isInteger(i) || i < 0 || i >= batch.count || leaves[i] !== undefined) continue;
    leaves[i] = leafHash(x.data);
    if (i === name.index) mine = x.data;
    if (++found === batch.count) break;
  }
  if (found !== batch.count || !mine)
    throw new StkError('STK_ERR_TELEMETRY_PROOF_UNAVAILABLE', 'items of this batch are no longer in TELEMETRY (retention)', { id: itemId });
  const all = leaves as Uint8Array[];
  if (hex(merkleRoot(all)) !== batch.merkleRoot)
    throw new StkError('STK_ERR_TELEMETRY_PROOF_UNAVAILABLE', 'the stored items of this batch do not hash to its sealed root', { id: itemId });
  return {
    format: 2,
    itemId: telemetryItemId(name.batch, name.index),
    agentId: batch.agentId,
    item: JSON.parse(decoder.decode(mine)),
    index: name.index,
    size: batch.count,
    leafHash: hex(all[name.index]!),
    proof: inclusionProof(all, name.index).map(hex),
    merkleRoot: batch.merkleRoot,
    batch: {
      id: event.id,
      type: event.type,
      tenant: event.tenant,
      aggregate: event.aggregate,
      version: event.version,
      at: event.at,
      actor: event.actor,
      schema: event.schema,
      data: batchFacts(batch),
    },
  };
}

/** Why an offline check refused a proof. */
export type ProofCheck = { ok: true } | { ok: false; reason: string };

/** A proof of format 1 (by TELEMETRY sequence), as answered before items were named by batch. */
interface ProofV1 extends Omit<TelemetryProof, 'format' | 'itemId'> {
  format: 1;
  seq: number;
}

/**
 * Checks a proof with nothing but the proof: the item's canonical JSON hashes to the leaf, the audit
 * path leads from the leaf to the root, and the root, size and agent are those of the sealed event;
 * the item's id names that event's batch and the leaf's index. Proofs of format 1 (saved before)
 * are checked as they were: their sequence lies between those the event sealed.
 */
export function checkTelemetryProof(p: unknown): ProofCheck {
  const fail = (reason: string): ProofCheck => ({ ok: false, reason });
  const x = p as Partial<TelemetryProof> | Partial<ProofV1> | null;
  if (!x || typeof x !== 'object' || (x.format !== 1 && x.format !== 2)) return fail('not a telemetry proof (format 1 or 2)');
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
  if (x.format === 2) {
    const name = typeof x.itemId === 'string' ? parseTelemetryItemId(x.itemId) : null;
    if (!name || name.batch !== b.aggregate?.id || name.index !== x.index) return fail('the item id does not name the sealed batch and the leaf index');
  } else {
    const { firstSeq, lastSeq } = b.data;
    const seq = (x as Partial<ProofV1>).seq;
    if (typeof seq !== 'number' || firstSeq === undefined || lastSeq === undefined || seq < firstSeq || seq > lastSeq)
      return fail('the item lies outside the sequences the batch event sealed');
  }
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

import { telemetryBatchDecider } from '../../commands/telemetry/decider.ts';
import { TELEMETRY_BATCH, type TelemetryBatchReceived } from '../../commands/telemetry/events.ts';
import { derivedIds, execute } from '../domain/execute.ts';
import type { Product } from '../domain/products.ts';
import { StkError } from '../errors.ts';
import { type EventLog, unavailable } from '../log/mod.ts';
import { telemetryBatchId, telemetryMsgId } from './ids.ts';
import { itemBytes, rootOfBytes, TELEMETRY_ITEM_MAX_BYTES, TELEMETRY_KINDS, type TelemetryItem } from './items.ts';
import { BATCH_HEADER, INDEX_HEADER, telemetrySubject } from './stream.ts';

/** Acknowledgements in flight while a batch's items are published. */
const PUBLISH_WINDOW = 256;

/** What storing a batch did. */
export interface StoredBatch {
  count: number;
  merkleRoot: string;
  /** The batch was sealed before: nothing was stored or written now. */
  duplicate: boolean;
  /** EVENTS position of the sealing event (0 for a duplicate). */
  position: number;
  batch: TelemetryBatchReceived | null;
  /**
   * TELEMETRY sequence of the batch's last item (0 for a duplicate): for this server's own waits on
   * the telemetry read models, never for an answer (an install-wide position).
   */
  telemetryPosition: number;
}

/**
 * Checks a schema-valid batch of `agentId` (products of its items, item sizes, the Merkle root it
 * claims) and stores it: its items in TELEMETRY, one message each (canonical JSON, msg-id per
 * item), then one `telemetry.batch-received` event in EVENTS. Every check comes before the first
 * write, so a refused batch writes nothing anywhere. A batch sealed before is answered from its
 * event (a retry); the same batch id with other items is refused.
 */
export async function storeTelemetryBatch(
  log: EventLog,
  agent: { tenant: string; agentId: string; products: readonly Product[] },
  batch: { batchId: string; merkleRoot: string; items: readonly TelemetryItem[] },
  o: { admit?: () => Promise<void> } = {},
): Promise<StoredBatch> {
  for (const [i, item] of batch.items.entries()) {
    const product: Product = TELEMETRY_KINDS[item.kind];
    if (!agent.products.includes(product))
      throw new StkError('STK_ERR_PRODUCT_DISABLED', `telemetry of kind ${item.kind} needs product ${product}, which is off for this tenant`, {
        product,
        field: `items/${i}`,
      });
  }
  const bytes = itemBytes(batch.items);
  const tooLarge = bytes.findIndex((b) => b.length > TELEMETRY_ITEM_MAX_BYTES);
  if (tooLarge >= 0)
    throw new StkError('STK_ERR_VALIDATION', `item ${tooLarge} is larger than ${TELEMETRY_ITEM_MAX_BYTES} bytes as canonical JSON`, {
      field: `items/${tooLarge}`,
      limit: TELEMETRY_ITEM_MAX_BYTES,
    });
  const root = rootOfBytes(bytes);
  if (root !== batch.merkleRoot)
    throw new StkError('STK_ERR_TELEMETRY_ROOT_MISMATCH', 'the Merkle root does not match the items of the batch', {
      field: 'merkleRoot',
      expected: root,
      actual: batch.merkleRoot,
    });
  const aggregateId = telemetryBatchId(agent.tenant, agent.agentId, batch.batchId);
  const sealed = (await log.lastCommit({ tenant: agent.tenant, aggregateType: TELEMETRY_BATCH, aggregateId }))?.events[0]?.data as
    | TelemetryBatchReceived
    | undefined;
  if (sealed) {
    if (sealed.merkleRoot !== root || sealed.count !== bytes.length)
      throw new StkError('STK_ERR_TELEMETRY_BATCH_CONFLICT', 'this batch id was already sealed with other items', { field: 'batchId' });
    return { count: bytes.length, merkleRoot: root, duplicate: true, position: 0, batch: sealed, telemetryPosition: 0 };
  }
  await o.admit?.();
  const lastSeq = await publishItems(log, agent.tenant, agent.agentId, batch.batchId, bytes);
  // The stream positions stay in the server: the read side finds a batch's items by its header.
  const received: TelemetryBatchReceived = { agentId: agent.agentId, batchId: batch.batchId, count: bytes.length, merkleRoot: root };
  const r = await execute(
    log,
    { tenant: agent.tenant, id: aggregateId },
    telemetryBatchDecider,
    { kind: 'receive', batch: received },
    { actor: { kind: 'agent', id: agent.agentId }, known: 'new', idempotent: true, eventIds: derivedIds(aggregateId, 'received') },
  );
  return { count: bytes.length, merkleRoot: root, duplicate: r.duplicate, position: r.position, batch: received, telemetryPosition: lastSeq };
}

/**
 * Publishes a batch's items in order, each with its msg-id, and returns the highest stream sequence
 * they were stored at (for a resend within the duplicate window, that of the first copies).
 */
async function publishItems(log: EventLog, tenant: string, agentId: string, batchId: string, bytes: Uint8Array[]): Promise<number> {
  const subject = telemetrySubject(tenant, agentId);
  let lastSeq = 0;
  async function* messages() {
    for (const [i, data] of bytes.entries())
      yield { subject, data, msgId: telemetryMsgId(tenant, agentId, batchId, i), headers: { [BATCH_HEADER]: batchId, [INDEX_HEADER]: String(i) } };
  }
  try {
    await log.streams.publishAll(messages(), {
      window: PUBLISH_WINDOW,
      timeoutMs: 10_000,
      onAck: (ack) => {
        lastSeq = Math.max(lastSeq, ack.seq);
      },
    });
  } catch (err) {
    // Nothing is sealed yet: the agent resends the same batch, and the msg-ids make that safe.
    throw unavailable(err, 'cannot store telemetry', { retryAfterSeconds: 1 });
  }
  return lastSeq;
}

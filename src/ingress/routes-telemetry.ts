import type { FastifyInstance } from 'fastify';
import { telemetryBatchDecider } from '../../commands/telemetry/decider.ts';
import { TELEMETRY_BATCH, type TelemetryBatchReceived } from '../../commands/telemetry/events.ts';
import { derivedIds, execute } from '../domain/execute.ts';
import type { Product } from '../domain/products.ts';
import { StkError } from '../errors.ts';
import { type EventLog, unavailable } from '../log/mod.ts';
import {
  TELEMETRY_ITEM_MAX_BYTES,
  TELEMETRY_KINDS,
  TELEMETRY_MAX_BODY_BYTES,
  type TelemetryBatch,
  itemBytes,
  rootOfBytes,
  telemetryBody,
} from '../telemetry/items.ts';
import { BATCH_HEADER, INDEX_HEADER, telemetrySubject } from '../telemetry/stream.ts';
import type { IngressDeps } from './deps.ts';
import { authenticateAgent } from './identity.ts';

/** Acknowledgements in flight while a batch's items are published. */
const PUBLISH_WINDOW = 256;

/** The id of the `telemetry` aggregate that seals one batch of one agent. */
export function telemetryBatchId(tenant: string, agentId: string, batchId: string): string {
  return derivedIds(tenant, agentId, batchId, 'telemetry-batch')(0);
}

/** The `Nats-Msg-Id` of one item: a resent batch stores nothing twice within the duplicate window. */
export function telemetryMsgId(agentId: string, batchId: string, index: number): string {
  return `${agentId}.${batchId}.${index}`;
}

/**
 * `POST /agent/v1/telemetry`: a batch of process, connection and account-change items. Checked
 * whole before anything is written — schema, sizes, the product of every item's kind, and the
 * Merkle root the agent computed against the items — then published to TELEMETRY (one message per
 * item, its canonical JSON) and sealed by one `telemetry.batch-received` event in EVENTS.
 */
export async function registerTelemetryRoute(app: FastifyInstance, deps: IngressDeps): Promise<void> {
  const { log, tenants } = deps;
  app.post<{ Body: TelemetryBatch }>('/telemetry', { schema: { body: telemetryBody }, bodyLimit: TELEMETRY_MAX_BODY_BYTES }, async (req, reply) => {
    const batch = req.body;
    const agent = await authenticateAgent(req, log, tenants, batch.agentId, deps.now);
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
    // Already sealed: the same items are a retry (nothing is published again), other items are refused.
    const sealed = await sealedBatch(log, agent.tenant, aggregateId);
    if (sealed) {
      if (sealed.merkleRoot !== root || sealed.count !== bytes.length)
        throw new StkError('STK_ERR_TELEMETRY_BATCH_CONFLICT', 'this batch id was already sealed with other items', { field: 'batchId' });
      return reply.status(202).send({ accepted: bytes.length, batchId: batch.batchId, merkleRoot: root, duplicate: true });
    }
    await deps.backpressure?.admit();
    const { firstSeq, lastSeq } = await publishItems(log, agent.tenant, agent.agentId, batch.batchId, bytes);
    const r = await execute(
      log,
      { tenant: agent.tenant, id: aggregateId },
      telemetryBatchDecider,
      { kind: 'receive', batch: { agentId: agent.agentId, batchId: batch.batchId, count: bytes.length, merkleRoot: root, firstSeq, lastSeq } },
      { actor: { kind: 'agent', id: agent.agentId }, known: 'new', idempotent: true, eventIds: derivedIds(aggregateId, 'received') },
    );
    deps.metrics?.inc('stockade_ingress_telemetry_items_total', 'Agent telemetry items accepted by this ingress', {}, bytes.length);
    return reply.status(202).send({
      accepted: bytes.length,
      batchId: batch.batchId,
      merkleRoot: root,
      duplicate: r.duplicate,
      ...(r.position > 0 ? { consistencyToken: deps.tokens.issue(agent.tenant, r.position) } : {}),
    });
  });
}

/** The sealed batch of this id, if its event is in the log. */
async function sealedBatch(log: EventLog, tenant: string, aggregateId: string): Promise<TelemetryBatchReceived | null> {
  const last = await log.lastCommit({ tenant, aggregateType: TELEMETRY_BATCH, aggregateId });
  return (last?.events[0]?.data as TelemetryBatchReceived | undefined) ?? null;
}

/**
 * Publishes a batch's items in order, each with its msg-id, and returns the stream sequences they
 * were stored at (for a resend within the duplicate window, those of the first copies).
 */
async function publishItems(
  log: EventLog,
  tenant: string,
  agentId: string,
  batchId: string,
  bytes: Uint8Array[],
): Promise<{ firstSeq: number; lastSeq: number }> {
  const subject = telemetrySubject(tenant, agentId);
  let firstSeq = Number.POSITIVE_INFINITY;
  let lastSeq = 0;
  async function* messages() {
    for (const [i, data] of bytes.entries())
      yield { subject, data, msgId: telemetryMsgId(agentId, batchId, i), headers: { [BATCH_HEADER]: batchId, [INDEX_HEADER]: String(i) } };
  }
  try {
    await log.streams.publishAll(messages(), {
      window: PUBLISH_WINDOW,
      timeoutMs: 10_000,
      onAck: (ack) => {
        firstSeq = Math.min(firstSeq, ack.seq);
        lastSeq = Math.max(lastSeq, ack.seq);
      },
    });
  } catch (err) {
    // Nothing is sealed yet: the agent resends the same batch, and the msg-ids make that safe.
    throw unavailable(err, 'cannot store telemetry', { retryAfterSeconds: 1 });
  }
  return { firstSeq, lastSeq };
}

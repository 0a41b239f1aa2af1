import type { FastifyInstance } from 'fastify';
import { storeTelemetryBatch } from '../telemetry/ingest.ts';
import { TELEMETRY_MAX_BODY_BYTES, type TelemetryBatch, telemetryBody } from '../telemetry/items.ts';
import type { IngressDeps } from './deps.ts';
import { authenticateAgent } from './identity.ts';

/**
 * `POST /agent/v1/telemetry`: a batch of process, connection and account-change items. Checked
 * whole before anything is written — schema, sizes, the product of every item's kind, and the
 * Merkle root the agent computed against the items — then published to TELEMETRY (one message per
 * item, its canonical JSON) and sealed by one `telemetry.batch-received` event in EVENTS.
 */
export async function registerTelemetryRoute(app: FastifyInstance, deps: IngressDeps): Promise<void> {
  app.post<{ Body: TelemetryBatch }>('/telemetry', { schema: { body: telemetryBody }, bodyLimit: TELEMETRY_MAX_BODY_BYTES }, async (req, reply) => {
    const agent = await authenticateAgent(req, deps, req.body.agentId);
    const r = await storeTelemetryBatch(deps.log, agent, req.body, deps.backpressure ? { admit: () => deps.backpressure!.admit() } : {});
    if (!r.duplicate) deps.metrics?.inc('stockade_ingress_telemetry_items_total', 'Agent telemetry items accepted by this ingress', {}, r.count);
    return reply.status(202).send({
      accepted: r.count,
      batchId: req.body.batchId,
      merkleRoot: r.merkleRoot,
      duplicate: r.duplicate,
      ...(r.position > 0 ? { consistencyToken: deps.tokens.issue(agent.tenant, r.position) } : {}),
    });
  });
}

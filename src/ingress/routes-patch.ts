import type { FastifyInstance } from 'fastify';
import type { JobRecorded } from '../../commands/patch/events.ts';
import type { PatchInventory } from '../agent/patch/inventory.ts';
import { StkError } from '../errors.ts';
import { recordInventory, recordJob } from '../patch/ingest.ts';
import { packagesStreamSpec } from '../patch/packages.ts';
import { INVENTORY_MAX_BODY_BYTES, inventoryBody } from '../patch/schema.ts';
import type { IngressDeps } from './deps.ts';
import { authenticateAgent } from './identity.ts';

interface InventoryPost {
  agentId: string;
  inventory?: PatchInventory;
  job?: Omit<JobRecorded, 'agentId'> & { commandId: string };
}

/**
 * `POST /agent/v1/inventory`: a host's patch inventory, and/or the result of an install-patches
 * job of this agent. The job is recorded first, so the inventory that follows a real run names the
 * job it follows. Product: patch.
 */
export async function registerPatchRoutes(app: FastifyInstance, deps: IngressDeps): Promise<void> {
  const { log } = deps;
  // Created here if missing; the API process declares its replicas.
  await log.streams.ensureStreamWithin(packagesStreamSpec({ updateMutable: false }));
  app.post<{ Body: InventoryPost }>('/inventory', { schema: { body: inventoryBody }, bodyLimit: INVENTORY_MAX_BODY_BYTES }, async (req, reply) => {
    const body = req.body;
    const agent = await authenticateAgent(req, deps, body.agentId);
    if (!agent.products.includes('patch'))
      throw new StkError('STK_ERR_PRODUCT_DISABLED', 'inventories need product patch, which is off for this tenant', { product: 'patch' });
    await deps.backpressure?.admit();
    let position = 0;
    let job: { commandId: string; duplicate: boolean } | null = null;
    if (body.job) {
      const { commandId, ...result } = body.job;
      const r = await recordJob(log, agent, commandId, result);
      position = Math.max(position, r.position);
      job = { commandId, duplicate: r.duplicate };
    }
    let inventory = null;
    if (body.inventory) {
      const r = await recordInventory(log, agent, body.inventory, { now: deps.now?.() ?? new Date(), commandId: body.job?.commandId ?? null });
      position = Math.max(position, r.position);
      inventory = { recorded: r.recorded, compliance: r.compliance, findings: r.findings };
    }
    return reply.status(202).send({ job, inventory, consistencyToken: deps.tokens.issue(agent.tenant, position) });
  });
}

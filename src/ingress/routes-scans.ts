import type { FastifyInstance } from 'fastify';
import { asmSettingsDecider } from '../../commands/attack-surface/decider.ts';
import { ASM_SETTINGS } from '../../commands/attack-surface/events.ts';
import type { PortSpec, ServiceFact } from '../../commands/scans/events.ts';
import { checkScanShape } from '../domain/action-args.ts';
import { fold } from '../domain/decider.ts';
import { StkError } from '../errors.ts';
import type { ScanItem } from '../scan/items.ts';
import { precheckTargets } from '../scan/precheck.ts';
import { runScanCommandOf } from '../scan/runs/command.ts';
import { agentRunId } from '../scan/runs/ids.ts';
import { storeRunItems } from '../scan/runs/items.ts';
import { SCAN_RUN_MAX_BODY_BYTES, scanRunBody } from '../scan/runs/schema.ts';
import { sealRun } from '../scan/runs/seal.ts';
import { scansStreamSpec } from '../scan/runs/stream.ts';
import type { IngressDeps } from './deps.ts';
import { authenticateAgent } from './identity.ts';

interface ScanRunPart {
  agentId: string;
  runId: string;
  commandId?: string;
  offset: number;
  items: ScanItem[];
  seal?: {
    count: number;
    merkleRoot: string;
    startedAt: string;
    finishedAt: string;
    aborted?: boolean;
    targets: string[];
    ports: PortSpec[];
    services?: ServiceFact[];
  };
}

/**
 * `POST /agent/v1/scan-runs`: an agent stores the items of a scan run in parts (each stored in
 * SCANS as it arrives, safe to resend) and seals the run with its last part. Sealing reads the
 * stored items back and refuses a root that is not theirs (see sealRun). A run that answers a
 * run-scan command is recorded with that command's targets and ports, as checked at dispatch; a run
 * of the agent's own must name targets inside the tenant's allowlist. Product: attack-surface.
 */
export async function registerScanRoutes(app: FastifyInstance, deps: IngressDeps): Promise<void> {
  const { log } = deps;
  // Created here if missing; the API process declares its retention and replicas.
  await log.streams.ensureStreamWithin(scansStreamSpec({ updateMutable: false }));

  app.post<{ Body: ScanRunPart }>('/scan-runs', { schema: { body: scanRunBody }, bodyLimit: SCAN_RUN_MAX_BODY_BYTES }, async (req, reply) => {
    const body = req.body;
    const agent = await authenticateAgent(req, deps, body.agentId);
    if (!agent.products.includes('attack-surface'))
      throw new StkError('STK_ERR_PRODUCT_DISABLED', 'scan runs need product attack-surface, which is off for this tenant', { product: 'attack-surface' });
    await deps.backpressure?.admit();
    const runId = agentRunId(agent.tenant, agent.agentId, body.runId);
    let scope: { targets: string[]; ports: PortSpec[] } | null = null;
    if (body.commandId) scope = await runScanCommandOf(log, agent, body.commandId);
    else if (body.seal) {
      const shape = checkScanShape({ targets: body.seal.targets, ports: body.seal.ports });
      if (!shape.ok) throw shape.error;
      const settings = fold(
        asmSettingsDecider,
        (await log.readAggregate({ tenant: agent.tenant, aggregateType: ASM_SETTINGS, aggregateId: agent.tenant })).events,
      );
      const pre = precheckTargets(shape.scan.targets, settings.targets);
      if (!pre.ok) throw new StkError(pre.code, 'a scan of targets outside the allowlist is not recorded', { problems: pre.problems });
      scope = { targets: pre.targets, ports: shape.scan.ports };
    }
    const stored = body.items.length ? await storeRunItems(log, agent.tenant, runId, body.offset, body.items) : { count: 0 };
    deps.metrics?.inc('stockade_ingress_scan_items_total', 'Scan items stored by this ingress', {}, stored.count);
    if (!body.seal) return reply.status(202).send({ runId, stored: stored.count });
    const s = body.seal;
    const sealed = await sealRun(log, {
      tenant: agent.tenant,
      runId,
      source: 'agent',
      agentId: agent.agentId,
      commandId: body.commandId ?? null,
      targets: scope!.targets,
      ports: scope!.ports,
      count: s.count,
      merkleRoot: s.merkleRoot,
      startedAt: s.startedAt,
      finishedAt: s.finishedAt,
      aborted: s.aborted ?? false,
      ...(s.services ? { services: s.services } : {}),
      actor: { kind: 'agent', id: agent.agentId },
    });
    return reply.status(201).send({
      runId,
      stored: stored.count,
      sealed: { count: sealed.count, merkleRoot: sealed.merkleRoot, duplicate: sealed.duplicate, diff: sealed.diff },
      consistencyToken: deps.tokens.issue(agent.tenant, sealed.position),
    });
  });
}

import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { StkError } from '../errors.ts';
import { fold } from '../domain/decider.ts';
import { ACTIONS } from '../domain/products.ts';
import type { Actor, EventEnvelope } from '../log/mod.ts';
import { agentDecider } from '../../commands/agents/decider.ts';
import { AGENT } from '../../commands/agents/events.ts';
import { agentCommandDecider } from '../../commands/agent-commands/decider.ts';
import { COMMAND, CommandEvents, type CommandCompleted, type CommandOutcome } from '../../commands/agent-commands/events.ts';
import type { IngressDeps } from './app.ts';
import { readAgentRecord } from './agents.ts';
import { authenticateAgent, type AgentIdentity } from './identity.ts';
import { planReport, writeReport, type ReportBatch } from './report.ts';
import {
  ENROLL_MAX_BODY_BYTES,
  REPORT_MAX_BODY_BYTES,
  RESULT_MAX_BODY_BYTES,
  commandParams,
  commandsQuery,
  renewBody,
  reportBody,
  resultBody,
} from './schemas.ts';

const derivedId = (...parts: string[]): string => createHash('sha256').update(parts.join('\0')).digest('base64url').slice(0, 22);

/** The routes an enrolled agent calls, each over mTLS as itself. */
export async function registerAgentRoutes(app: FastifyInstance, deps: IngressDeps): Promise<void> {
  const { log, tenants } = deps;

  app.post<{ Body: ReportBatch }>('/report', { schema: { body: reportBody }, bodyLimit: REPORT_MAX_BODY_BYTES }, async (req, reply) => {
    const agent = await authenticateAgent(req, log, tenants, req.body.agentId, deps.now);
    // Shed load before writing anything: memory stays bounded and the agent resends the same batch.
    await deps.backpressure?.admit();
    const plan = planReport(agent, agent.products, req.body);
    if (!plan.ok) throw plan.error;
    const written = await writeReport(log, agent, plan.writes, () => readAgentRecord(log, agent.tenant, agent.agentId));
    deps.metrics?.inc('stockade_ingress_report_events_total', 'Agent report events accepted by this ingress', {}, req.body.events.length);
    return reply.status(202).send({ accepted: req.body.events.length, position: written.position });
  });

  app.get<{ Querystring: { agentId?: string } }>('/commands', { schema: { querystring: commandsQuery } }, async (req) => {
    const agent = await authenticateAgent(req, log, tenants, req.query.agentId, deps.now);
    // A command whose product was switched off after it was dispatched waits until it is on again.
    const open = (await deps.outbox.pendingFor(agent.tenant, agent.agentId)).filter((c) => {
      const product = ACTIONS[c.action];
      return !product || agent.products.includes(product);
    });
    // The first pull records the delivery (the audit trail shows when the agent got it); a
    // command stays in the answer until its result is posted, so a crash between pull and run
    // loses nothing. The agent runs each id once.
    await Promise.all(
      open
        .filter((c) => c.status === 'pending')
        .map((c) => {
          const d = agentCommandDecider.decide({ kind: 'deliver', agentId: agent.agentId }, { status: 'pending', agentId: c.agentId });
          if (!d.ok || d.events.length === 0) return null;
          return log.append(
            { tenant: agent.tenant, aggregateType: COMMAND, aggregateId: c.id },
            d.events.map((e) => ({ ...e, id: derivedId(c.id, 'delivered') })),
            {
              expectedVersion: c.version,
              actor: actorOf(agent),
            },
          );
        }),
    );
    return { commands: open.map((c) => ({ id: c.id, action: c.action, args: c.args, dispatchedAt: c.dispatchedAt })) };
  });

  app.post<{ Params: { commandId: string }; Body: { agentId: string; outcome: CommandOutcome; output?: string } }>(
    '/commands/:commandId/result',
    { schema: { params: commandParams, body: resultBody }, bodyLimit: RESULT_MAX_BODY_BYTES },
    async (req) => {
      const agent = await authenticateAgent(req, log, tenants, req.body.agentId, deps.now);
      const result: CommandCompleted = { outcome: req.body.outcome, output: req.body.output ?? '' };
      const stream = { tenant: agent.tenant, aggregateType: COMMAND, aggregateId: req.params.commandId };
      for (let attempt = 0; ; attempt++) {
        // Read under the agent's own tenant: another tenant's command is simply not there.
        const { events, version } = await log.readAggregate(stream);
        const done = events.find((e) => e.type === CommandEvents.completed);
        if (done && fold(agentCommandDecider, events).agentId === agent.agentId) {
          if (sameResult(done, result)) return { commandId: req.params.commandId, status: 'completed' };
          throw new StkError('STK_ERR_AGENT_COMMAND_COMPLETED', 'this command already has a different result');
        }
        const d = agentCommandDecider.decide({ kind: 'complete', agentId: agent.agentId, ...result }, fold(agentCommandDecider, events));
        if (!d.ok) throw d.error;
        const r = await log.append(
          stream,
          d.events.map((e) => ({ ...e, id: derivedId(req.params.commandId, 'completed') })),
          { expectedVersion: version, actor: actorOf(agent) },
        );
        if (r.ok) return { commandId: req.params.commandId, status: 'completed', position: r.value.position };
        if (attempt >= 2) throw r.error;
      }
    },
  );

  app.post<{ Body: { agentId: string; csr: string } }>('/renew', { schema: { body: renewBody }, bodyLimit: ENROLL_MAX_BODY_BYTES }, async (req) => {
    let agent = await authenticateAgent(req, log, tenants, req.body.agentId, deps.now);
    const now = deps.now?.() ?? new Date();
    const cert = await deps.issuer.issue({
      csrPem: req.body.csr,
      agentId: agent.agentId,
      tenant: agent.tenant,
      now,
      ...(deps.certValidityDays ? { validityDays: deps.certValidityDays } : {}),
    });
    for (let attempt = 0; ; attempt++) {
      const d = agentDecider.decide(
        { kind: 'renew', certificate: { certFingerprint: cert.fingerprint, certNotAfter: cert.notAfter.toISOString() } },
        { exists: true, revoked: agent.revoked },
      );
      if (!d.ok) throw d.error;
      const r = await log.append({ tenant: agent.tenant, aggregateType: AGENT, aggregateId: agent.agentId }, d.events, {
        expectedVersion: agent.version,
        actor: actorOf(agent),
      });
      if (r.ok) break;
      const now = await readAgentRecord(log, agent.tenant, agent.agentId);
      if (!now) throw new StkError('STK_ERR_AGENT_CERT_INVALID', 'no enrolled agent matches this certificate');
      if (now.revoked) throw new StkError('STK_ERR_AGENT_REVOKED', 'agent is revoked');
      if (attempt >= 3) throw r.error;
      agent = { ...agent, ...now };
    }
    req.log.info({ tenant: agent.tenant, agentId: agent.agentId, keyType: cert.keyType }, 'agent certificate renewed');
    return { agentId: agent.agentId, certificate: cert.pem, caCertificate: deps.issuer.ca.certificatePem };
  });
}

function actorOf(agent: AgentIdentity): Actor {
  return { kind: 'agent', id: agent.agentId };
}

function sameResult(done: EventEnvelope, result: CommandCompleted): boolean {
  const d = done.data as CommandCompleted;
  return d.outcome === result.outcome && d.output === result.output;
}

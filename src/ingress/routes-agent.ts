import type { FastifyInstance } from 'fastify';
import { agentCommandDecider } from '../../commands/agent-commands/decider.ts';
import { CommandEvents, type CommandCompleted, type CommandOutcome } from '../../commands/agent-commands/events.ts';
import { agentDecider } from '../../commands/agents/decider.ts';
import { derivedIds, execute } from '../domain/execute.ts';
import { ACTIONS } from '../domain/products.ts';
import type { Actor } from '../domain/events.ts';
import { isStkError, StkError } from '../errors.ts';
import type { IngressDeps } from './deps.ts';
import { admitted, authenticateAgent, type AgentIdentity } from './identity.ts';
import type { OutboxCommand } from './outbox.ts';
import { agentWrite, planReport, writeReport, type ReportBatch } from './report.ts';
import {
  commandParams,
  commandsPollQuery,
  ENROLL_MAX_BODY_BYTES,
  LONG_POLL_MAX_S,
  REPORT_MAX_BODY_BYTES,
  RESULT_MAX_BODY_BYTES,
  renewBody,
  reportBody,
  resultBody,
} from './schemas.ts';

/** The routes an enrolled agent calls, each over mTLS as itself. */
export async function registerAgentRoutes(app: FastifyInstance, deps: IngressDeps): Promise<void> {
  const { log, tenants } = deps;

  app.post<{ Body: ReportBatch }>('/report', { schema: { body: reportBody }, bodyLimit: REPORT_MAX_BODY_BYTES }, async (req, reply) => {
    const agent = await authenticateAgent(req, deps, req.body.agentId);
    // Shed load before writing anything: memory stays bounded and the agent resends the same batch.
    await deps.backpressure?.admit();
    const plan = planReport(agent, agent.products, req.body);
    if (!plan.ok) throw plan.error;
    const written = await writeReport(log, agent, plan);
    if (written.agentHead) deps.agents?.wrote(agent.tenant, agent.agentId, written.agentHead);
    deps.metrics?.inc('stockade_ingress_report_events_total', 'Agent report events accepted by this ingress', {}, req.body.events.length);
    return reply.status(202).send({ accepted: req.body.events.length, consistencyToken: deps.tokens.issue(agent.tenant, written.position) });
  });

  app.get<{ Querystring: { agentId?: string; wait?: string } }>('/commands', { schema: { querystring: commandsPollQuery } }, async (req) => {
    let agent = await authenticateAgent(req, deps, req.query.agentId);
    // A command whose product was switched off after it was dispatched waits until it is on again;
    // one past its expiry is never handed out (the lifecycle role records it as expired).
    const nowIso = (): string => (deps.now?.() ?? new Date()).toISOString();
    const openFor = (a: AgentIdentity, all: OutboxCommand[]): OutboxCommand[] => {
      const now = nowIso();
      return all.filter((c) => {
        const product = ACTIONS[c.action];
        return (!product || a.products.includes(product)) && !isExpired(c.expiresAt, now);
      });
    };
    // authenticateAgent brought the views up to the log (or the outbox is brought up here): what
    // the outbox holds now is current.
    if (!tenants.agentAndTenant) await deps.outbox.current();
    let open = openFor(agent, deps.outbox.known(agent.tenant, agent.agentId));
    const waitMs = Math.min(Number(req.query.wait ?? 0), LONG_POLL_MAX_S) * 1000;
    const waiters = deps.waiters;
    if (open.length === 0 && waitMs > 0 && waiters && tenants.knownAgentAndTenant && waiters.size < (deps.maxWaiting ?? 100_000)) {
      // Held until a command for this agent arrives, the agent or its tenant changes, the wait
      // ends or the agent goes away: an idle agent costs one request per wait, not one per poll.
      const socket = req.raw.socket;
      const why = await waiters.wait(agent.tenant, agent.agentId, waitMs, (cb) => {
        socket.once('close', cb);
        return () => socket.off('close', cb);
      });
      if (why === 'closed' && socket.destroyed) return { commands: [] };
      if (why !== 'timeout') {
        // Woken by a record the views applied: they are at least that fresh, no further check needed.
        agent = admitted(await tenants.knownAgentAndTenant(agent.tenant, agent.agentId));
        open = openFor(agent, deps.outbox.known(agent.tenant, agent.agentId));
      }
    }
    const now = nowIso();
    // Sealed arguments are read for meaning here, right before they are handed out.
    open = await deps.outbox.reveal(open);
    // The first pull records the delivery (the audit trail shows when the agent got it); a
    // command stays in the answer until its result is posted, so a crash between pull and run
    // loses nothing. The agent runs each id once.
    await Promise.all(
      open
        .filter((c) => c.status === 'pending')
        .map((c) =>
          execute(
            log,
            { tenant: agent.tenant, id: c.id },
            agentCommandDecider,
            { kind: 'deliver', agentId: agent.agentId, now },
            {
              actor: actorOf(agent),
              known: { version: c.version, state: { status: 'pending', agentId: c.agentId, expiresAt: c.expiresAt } },
              eventIds: derivedIds(c.id, 'delivered'),
            },
          ),
        ),
    );
    return {
      commands: open.map((c) => ({
        id: c.id,
        action: c.action,
        args: c.args,
        dispatchedAt: c.dispatchedAt,
        ...(c.expiresAt ? { expiresAt: c.expiresAt } : {}),
      })),
    };
  });

  app.post<{ Params: { commandId: string }; Body: { agentId: string; outcome: CommandOutcome; output?: string } }>(
    '/commands/:commandId/result',
    { schema: { params: commandParams, body: resultBody }, bodyLimit: RESULT_MAX_BODY_BYTES },
    async (req) => {
      const agent = await authenticateAgent(req, deps, req.body.agentId);
      const result: CommandCompleted = { outcome: req.body.outcome, output: req.body.output ?? '' };
      // Under the agent's own tenant: another tenant's command is simply not there.
      const target = { tenant: agent.tenant, id: req.params.commandId };
      try {
        const r = await execute(
          log,
          target,
          agentCommandDecider,
          { kind: 'complete', agentId: agent.agentId, now: (deps.now?.() ?? new Date()).toISOString(), ...result },
          {
            actor: actorOf(agent),
            eventIds: derivedIds(req.params.commandId, 'completed'),
          },
        );
        // A result after the command's expiry is recorded, and marked late.
        const late = (r.events[0]?.data as CommandCompleted | undefined)?.late === true;
        return {
          commandId: req.params.commandId,
          status: 'completed',
          ...(late ? { late } : {}),
          consistencyToken: deps.tokens.issue(agent.tenant, r.position),
        };
      } catch (err) {
        // Completed already: the same result again is a retry (accepted), another result is not.
        if (!isStkError(err, 'STK_ERR_INVALID_TRANSITION')) throw err;
        const done = (await log.lastCommit({ tenant: agent.tenant, aggregateType: agentCommandDecider.aggregateType, aggregateId: target.id }))?.events.at(-1);
        // Cancelled before it was handed out: there is no result to compare with, the refusal says why.
        if (done?.type === CommandEvents.cancelled) throw err;
        const d = done?.data as CommandCompleted | undefined;
        if (d && d.outcome === result.outcome && d.output === result.output) return { commandId: req.params.commandId, status: 'completed' };
        throw new StkError('STK_ERR_AGENT_COMMAND_COMPLETED', 'this command already has a different result');
      }
    },
  );

  app.post<{ Body: { agentId: string; csr: string } }>('/renew', { schema: { body: renewBody }, bodyLimit: ENROLL_MAX_BODY_BYTES }, async (req) => {
    const agent = await authenticateAgent(req, deps, req.body.agentId);
    const now = deps.now?.() ?? new Date();
    const cert = await deps.issuer.issue({
      csrPem: req.body.csr,
      agentId: agent.agentId,
      tenant: agent.tenant,
      now,
      ...(deps.certValidityDays ? { validityDays: deps.certValidityDays } : {}),
    });
    const renewed = await agentWrite(() =>
      execute(
        log,
        { tenant: agent.tenant, id: agent.agentId },
        agentDecider,
        { kind: 'renew', certificate: { certFingerprint: cert.fingerprint, certNotAfter: cert.notAfter.toISOString(), replaces: agent.fingerprint! } },
        {
          actor: actorOf(agent),
          known: {
            version: agent.version,
            state: { exists: true, revoked: agent.revoked },
            ...(agent.position !== undefined ? { position: agent.position } : {}),
          },
        },
      ),
    );
    if (renewed.position > 0)
      deps.agents?.wrote(agent.tenant, agent.agentId, { version: renewed.version, position: renewed.position, msgId: renewed.events[0]!.id });
    // Stored, then made the one that talks for the agent before it is handed out: the certificate
    // that asked keeps working until the new one is used (its answer may be lost).
    await deps.certificates.renewed(agent.tenant, agent.agentId, cert.fingerprint, agent.fingerprint!, now);
    req.log.info({ tenant: agent.tenant, agentId: agent.agentId, keyType: cert.keyType }, 'agent certificate renewed');
    return { agentId: agent.agentId, certificate: cert.pem, caCertificate: deps.issuer.ca.certificatePem };
  });
}

/** True once `now` (ISO) has reached a command's expiry. */
function isExpired(expiresAt: string | null, now: string): boolean {
  return expiresAt !== null && Date.parse(now) >= Date.parse(expiresAt);
}

function actorOf(agent: AgentIdentity): Actor {
  return { kind: 'agent', id: agent.agentId };
}

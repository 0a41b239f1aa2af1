import type { FastifyInstance } from 'fastify';
import { evidenceDecider } from '../../commands/evidence/decider.ts';
import { EVIDENCE, type EvidenceCollected } from '../../commands/evidence/events.ts';
import { derivedIds, execute } from '../domain/execute.ts';
import { agentSubject } from '../domain/personal.ts';
import { StkError } from '../errors.ts';
import { evidenceBucketName, sha256Hex } from '../evidence/store.ts';
import { TOKEN_ID_PATTERN } from '../ids.ts';
import type { IngressDeps } from './deps.ts';
import { authenticateAgent } from './identity.ts';

const evidenceQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['agentId', 'commandId', 'sha256', 'name'],
  properties: {
    agentId: { type: 'string', pattern: TOKEN_ID_PATTERN },
    commandId: { type: 'string', pattern: TOKEN_ID_PATTERN },
    sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    /** The file's host path. */
    name: { type: 'string', minLength: 1, maxLength: 1024 },
  },
} as const;

/** The evidence id of the bytes uploaded for one collect-evidence command. */
export function evidenceIdOf(tenant: string, agentId: string, commandId: string): string {
  return derivedIds(tenant, agentId, commandId, 'evidence')(0);
}

/**
 * `POST /agent/v1/evidence?agentId&commandId&sha256&name` with the file's bytes
 * (`application/octet-stream`, at most `evidenceMaxBytes`): the upload of a collect-evidence
 * command of this agent that has no result yet. The ingress checks the bytes against the SHA-256
 * the agent declares, stores them in the tenant's object store bucket (encrypted under the
 * machine's data key when field encryption is on), then records
 * `evidence.collected` (hash sealed by the ledger) and the hand-over to the store in one commit.
 * Sending the same upload again stores and records nothing new.
 */
export async function registerEvidenceRoute(app: FastifyInstance, deps: IngressDeps): Promise<void> {
  const { log } = deps;
  // Raw bytes, only on this route's scope: every other route takes JSON alone.
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: deps.evidenceMaxBytes }, (_req, body, done) => done(null, body));
  app.post<{ Querystring: { agentId: string; commandId: string; sha256: string; name: string }; Body: Buffer }>(
    '/evidence',
    { schema: { querystring: evidenceQuery }, bodyLimit: deps.evidenceMaxBytes },
    async (req, reply) => {
      const q = req.query;
      const agent = await authenticateAgent(req, deps, q.agentId);
      if (!agent.products.includes('edr'))
        throw new StkError('STK_ERR_PRODUCT_DISABLED', 'evidence needs product edr, which is off for this tenant', { product: 'edr' });
      if (!Buffer.isBuffer(req.body)) throw new StkError('STK_ERR_UNSUPPORTED_MEDIA', 'evidence is uploaded as application/octet-stream');
      // Only an unanswered command of this very agent: another agent's, an unknown or an answered one is not there.
      const command = (await deps.outbox.pendingFor(agent.tenant, agent.agentId)).find((c) => c.id === q.commandId);
      if (!command) throw new StkError('STK_ERR_NOT_FOUND', 'no unanswered command of this agent has this id', { field: 'commandId' });
      if (command.action !== 'collect-evidence')
        throw new StkError('STK_ERR_VALIDATION', `command ${command.id} is ${command.action}, not collect-evidence`, { field: 'commandId' });
      const actual = sha256Hex(req.body);
      if (actual !== q.sha256)
        throw new StkError('STK_ERR_EVIDENCE_HASH_MISMATCH', 'the uploaded bytes do not have the declared SHA-256', { expected: q.sha256, actual });
      const evidenceId = evidenceIdOf(agent.tenant, agent.agentId, command.id);
      const existing = (await log.lastCommit({ tenant: agent.tenant, aggregateType: EVIDENCE, aggregateId: evidenceId }))?.events[0];
      const sealedSha = existing ? (existing.data as EvidenceCollected).sha256 : null;
      if (sealedSha !== null && sealedSha !== actual)
        throw new StkError('STK_ERR_EVIDENCE_HASH_MISMATCH', 'other bytes were already collected for this command', { expected: sealedSha, actual });
      await deps.backpressure?.admit();
      // Bytes first: the sealed event never names bytes that are not stored.
      const collectedAt = deps.now?.() ?? new Date();
      // Encrypted (when field encryption is on) under the machine's key, like the evidence name in its event: erasing the machine erases both.
      await deps.evidence.put(agent.tenant, evidenceId, req.body, {
        subject: agentSubject(agent.agentId),
        at: collectedAt,
        headers: { 'Stk-Agent': agent.agentId, 'Stk-Command': command.id },
      });
      const evidence: EvidenceCollected = {
        agentId: agent.agentId,
        name: q.name.length > 256 ? `…${q.name.slice(-255)}` : q.name,
        sha256: actual,
        sizeBytes: req.body.length,
        collectedAt: collectedAt.toISOString(),
        commandId: command.id,
        stored: { bucket: evidenceBucketName(agent.tenant), object: evidenceId },
      };
      const r = await execute(
        log,
        { tenant: agent.tenant, id: evidenceId },
        evidenceDecider,
        { kind: 'collect', evidence },
        { actor: { kind: 'agent', id: agent.agentId }, known: 'new', idempotent: true, eventIds: derivedIds(evidenceId, 'collected') },
      );
      return reply.status(201).send({
        evidenceId,
        sha256: actual,
        sizeBytes: req.body.length,
        duplicate: r.duplicate,
        ...(r.position > 0 ? { consistencyToken: deps.tokens.issue(agent.tenant, r.position) } : {}),
      });
    },
  );
}

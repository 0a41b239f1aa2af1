import type { FastifyInstance } from 'fastify';
import { StkError } from '../errors.ts';
import { execute } from '../domain/execute.ts';
import { newId } from '../ids.ts';
import { agentDecider } from '../../commands/agents/decider.ts';
import { machineBlocked } from './machines.ts';
import type { IngressDeps } from './deps.ts';
import { ENROLL_MAX_BODY_BYTES, enrollBody } from './schemas.ts';

interface EnrollBody {
  secret?: string;
  csr: string;
  hostname: string;
  os: string;
  agentVersion: string;
  machine?: string;
}

/** Every refusal of a secret, whatever its reason, is this one error: nothing to learn from it. */
const secretRefused = (): StkError => new StkError('STK_ERR_ENROLL_SECRET_INVALID', 'invalid or missing enrollment secret');

/**
 * `POST /agent/v1/enroll`: the one route an agent calls without a client certificate. The secret
 * decides the tenant; the server decides the agent id; the agent's key never leaves it (only a
 * CSR comes in). Rate-limited per source address.
 */
export async function registerEnroll(app: FastifyInstance, deps: IngressDeps): Promise<void> {
  const limit = deps.enrollRateLimit ?? { max: 30, timeWindowMs: 60_000 };
  app.post<{ Body: EnrollBody }>(
    '/enroll',
    {
      // `secret` is optional in the schema so a missing one gets the same 403 as a wrong one.
      schema: { body: { ...enrollBody, required: enrollBody.required.filter((f) => f !== 'secret') } },
      bodyLimit: ENROLL_MAX_BODY_BYTES,
      config: {
        rateLimit: {
          max: limit.max,
          timeWindow: limit.timeWindowMs,
          errorResponseBuilder: (_req: unknown, ctx: { ttl: number }) =>
            new StkError('STK_ERR_RATE_LIMITED', 'too many enrollments from this address', { retryAfterSeconds: Math.max(1, Math.ceil(ctx.ttl / 1000)) }),
        },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const who = await deps.tenants.verifyEnrollSecret(b.secret ?? '');
      // A suspended tenant's secret enrolls nothing, and says so no differently from a wrong one.
      if (!who || who.suspended) throw secretRefused();

      // A machine an admin blocked when revoking one of its agents enrolls nothing until the block is lifted.
      if (b.machine && (await machineBlocked(deps, who.tenant, b.machine))) {
        req.log.info({ tenant: who.tenant }, 'enrollment of a blocked machine refused');
        throw new StkError('STK_ERR_ENROLL_MACHINE_BLOCKED', 'this machine is blocked from enrolling; an admin must lift the block');
      }
      const agentId = newId();
      const now = deps.now?.() ?? new Date();
      const cert = await deps.issuer.issue({
        csrPem: b.csr,
        agentId,
        tenant: who.tenant,
        now,
        ...(deps.certValidityDays ? { validityDays: deps.certValidityDays } : {}),
      });
      const appended = await execute(
        deps.log,
        { tenant: who.tenant, id: agentId },
        agentDecider,
        {
          kind: 'enroll',
          agent: {
            hostname: b.hostname,
            os: b.os,
            agentVersion: b.agentVersion,
            certFingerprint: cert.fingerprint,
            certNotAfter: cert.notAfter.toISOString(),
            ...(b.machine ? { machine: b.machine } : {}),
          },
        },
        { actor: { kind: 'agent', id: agentId }, known: 'new' },
      );
      await deps.certificates.enrolled(who.tenant, agentId, cert.fingerprint);
      deps.metrics?.inc('stockade_ingress_enrollments_total', 'Agents enrolled through this ingress');
      req.log.info({ tenant: who.tenant, agentId, keyType: cert.keyType }, 'agent enrolled');
      return reply.status(201).send({
        agentId,
        certificate: cert.pem,
        caCertificate: deps.issuer.ca.certificatePem,
        consistencyToken: deps.tokens.issue(who.tenant, appended.position),
      });
    },
  );
}

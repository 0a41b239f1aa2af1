import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { installErrorHandling } from '../http/errors.ts';
import type { EventLog } from '../log/mod.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { Issuer } from '../pki/issuer.ts';
import type { CommandOutbox } from './outbox.ts';
import type { TenantGate } from './identity.ts';
import { registerEnroll } from './routes-enroll.ts';
import { registerAgentRoutes } from './routes-agent.ts';
import { ENROLL_MAX_BODY_BYTES, REPORT_MAX_BODY_BYTES } from './schemas.ts';

/** Everything the ingress's routes use. */
export interface IngressDeps {
  log: EventLog;
  /** The install's CA behind its issuing threads. */
  issuer: Issuer;
  tenants: TenantGate;
  outbox: CommandOutbox;
  logger: Logger;
  metrics?: Metrics;
  /** Validity of issued agent certificates. @defaultValue 30 */
  certValidityDays?: number;
  /** Enrollments allowed per source address per window. @defaultValue 30 per 60000 ms */
  enrollRateLimit?: { max: number; timeWindowMs: number };
  /** Clock for certificate validity. */
  now?: () => Date;
  /** Refuses reports with 503 + Retry-After while sealing or projection is too far behind. */
  backpressure?: { admit(): Promise<void> };
}

export interface IngressTls {
  certPem: string;
  keyPem: string;
}

/**
 * The agent ingress: fastify over HTTPS. Every connection is asked for a client certificate
 * verified against the install's CA only; the handshake does not insist on one because enrollment
 * is the one route an agent calls before it has a certificate, and every other route refuses a
 * request whose certificate is missing or did not verify (src/ingress/identity.ts).
 */
export async function buildIngressApp(deps: IngressDeps, tls: IngressTls): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'ingress' }) as FastifyBaseLogger,
    https: {
      cert: tls.certPem,
      key: tls.keyPem,
      ca: [deps.issuer.ca.certificatePem],
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
    },
    bodyLimit: REPORT_MAX_BODY_BYTES,
    requestIdHeader: false,
    keepAliveTimeout: 65_000,
    ajv: { customOptions: { removeAdditional: false, allErrors: false, coerceTypes: false } },
  });
  installErrorHandling(app);
  if (deps.metrics) {
    const metrics = deps.metrics;
    // Refusals by route and status show an attack or a broken agent fleet at a glance.
    app.addHook('onResponse', async (req, reply) => {
      metrics.inc('stockade_ingress_responses_total', 'Agent ingress responses by route and status', {
        route: req.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      });
    });
  }
  await app.register(rateLimit, { global: false });
  await app.register(async (scoped) => registerEnroll(scoped, deps), { prefix: '/agent/v1' });
  await app.register(async (scoped) => registerAgentRoutes(scoped, deps), { prefix: '/agent/v1' });
  app.get('/healthz', async () => ({ status: 'ok' }));
  return app;
}

export { ENROLL_MAX_BODY_BYTES };

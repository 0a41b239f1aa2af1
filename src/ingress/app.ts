import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { observeRequests } from '../http/api.ts';
import { installErrorHandling } from '../http/errors.ts';
import type { IngressDeps } from './deps.ts';
import { registerEnroll } from './routes-enroll.ts';
import { registerAgentRoutes } from './routes-agent.ts';
import { registerConfigRoute } from './routes-config.ts';
import { registerEvidenceRoute } from './routes-evidence.ts';
import { registerTelemetryRoute } from './routes-telemetry.ts';
import { registerPatchRoutes } from './routes-patch.ts';
import { registerScanRoutes } from './routes-scans.ts';
import { REPORT_MAX_BODY_BYTES } from './schemas.ts';

const HEALTH_BODY = { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['ok', 'unavailable'] } } } as const;

export interface IngressTls {
  certPem: string;
  keyPem: string;
}

/** How long a TLS session can be resumed (ticket lifetime, seconds): an agent that reconnects within it skips the certificate exchange. */
export const TLS_SESSION_TIMEOUT_S = 4 * 3600;
/** An idle keep-alive connection is closed after this long (an agent reporting every minute keeps its connection). */
export const KEEP_ALIVE_TIMEOUT_MS = 75_000;

/**
 * The agent ingress: fastify over HTTPS. Every connection is asked for a client certificate
 * verified against the install's CA only; the handshake does not insist on one because enrollment
 * is the one route an agent calls before it has a certificate, and every other route refuses a
 * request whose certificate is missing or did not verify (src/ingress/identity.ts).
 *
 * Connections: TLS 1.3 session tickets let an agent that reconnects resume its session (one key
 * exchange, no certificate chain to verify or sign for); the certificate it presented then comes
 * back with the session, and every request still checks its validity period, the agent's record
 * and its tenant. The ticket key is made at each start, so a restart costs every agent one full
 * handshake. Keep-alive connections stay open while idle up to `KEEP_ALIVE_TIMEOUT_MS` (longer
 * than a minute between reports); at most `maxConnections` are open at once.
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
      sessionTimeout: TLS_SESSION_TIMEOUT_S,
    },
    bodyLimit: REPORT_MAX_BODY_BYTES,
    requestIdHeader: false,
    // Two lines a request, serialised and redacted, cost more than most agent requests' own work.
    logController: new LogController({ disableRequestLogging: deps.accessLog !== 'all' }),
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    // A long-poll sends no body: the time to read a request stays bounded while a poll is held.
    requestTimeout: 120_000,
    ajv: { customOptions: { removeAdditional: false, allErrors: false, coerceTypes: false } },
  });
  installErrorHandling(app);
  if (deps.accessLog !== 'all') {
    // Refused and failed requests stay in the log: a broken agent or a probe shows there.
    app.addHook('onResponse', async (req, reply) => {
      if (reply.statusCode < 400) return;
      req.log.info(
        { method: req.method, route: req.routeOptions.url ?? 'unmatched', statusCode: reply.statusCode, remote: req.ip, ms: Math.round(reply.elapsedTime) },
        'agent request refused',
      );
    });
  }
  if (deps.maxConnections !== undefined) app.server.maxConnections = deps.maxConnections;
  if (deps.metrics) {
    const metrics = deps.metrics;
    // Refusals by route and status show an attack or a broken agent fleet at a glance.
    app.addHook('onResponse', async (req, reply) => {
      metrics.inc('stockade_ingress_responses_total', 'Agent ingress responses by route and status', {
        route: req.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      });
    });
    observeRequests(app, metrics, 'stockade_ingress_request_duration_seconds', 'Agent ingress requests by route, method and status');
  }
  await app.register(rateLimit, { global: false });
  await app.register(async (scoped) => registerEnroll(scoped, deps), { prefix: '/agent/v1' });
  await app.register(async (scoped) => registerAgentRoutes(scoped, deps), { prefix: '/agent/v1' });
  await app.register(async (scoped) => registerConfigRoute(scoped, deps), { prefix: '/agent/v1' });
  await app.register(async (scoped) => registerTelemetryRoute(scoped, deps), { prefix: '/agent/v1' });
  await app.register(async (scoped) => registerEvidenceRoute(scoped, deps), { prefix: '/agent/v1' });
  await app.register(async (scoped) => registerScanRoutes(scoped, deps), { prefix: '/agent/v1' });
  await app.register(async (scoped) => registerPatchRoutes(scoped, deps), { prefix: '/agent/v1' });
  // For a load balancer: 503 while this ingress would refuse agents as behind. No detail here (the
  // views' position is an install-wide count); the ops port's /healthz has it.
  app.get('/healthz', { schema: { response: { 200: HEALTH_BODY, 503: HEALTH_BODY } } }, async (_req, reply) => {
    if ((await deps.ready?.())?.ok === false) return reply.status(503).header('retry-after', '1').send({ status: 'unavailable' });
    return { status: 'ok' };
  });
  return app;
}

import swagger from '@fastify/swagger';
import type { OpenAPIV3 } from 'openapi-types';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics.ts';
import type { Runtime } from '../runtime.ts';
import { installErrorHandling } from './errors.ts';

/** Largest request body the operator API reads. */
export const API_MAX_BODY_BYTES = 256 * 1024;

/** Every error answer (src/http/errors.ts); the codes are in docs/errors.md. */
const ERROR_BODY: OpenAPIV3.SchemaObject = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'requestId'],
      properties: {
        code: { type: 'string', pattern: '^STK_ERR_[A-Z_]+$', description: 'Stable; listed with its meaning in docs/errors.md.' },
        message: { type: 'string' },
        requestId: { type: 'string', description: 'Finds the request in the logs.' },
        data: { type: 'object', description: 'Details of some codes (the field refused, the problems of a rule, …).' },
      },
    },
  },
};

/** A plugin of the operator API: registered under /api/v1 with the runtime at hand. */
export type ApiPlugin = (app: FastifyInstance, rt: Runtime) => Promise<void>;

/**
 * Builds the operator HTTP app: /healthz, /metrics and the /api/v1 plugins. Tests drive it with
 * `app.inject()`; `serve` listens on it.
 */
export async function buildApiApp(rt: Runtime, plugins: ApiPlugin[] = [], sitePlugins: ApiPlugin[] = []): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: rt.logger.child({ component: 'api' }) as FastifyBaseLogger,
    bodyLimit: API_MAX_BODY_BYTES,
    requestIdHeader: false,
    ajv: { customOptions: { removeAdditional: false, allErrors: false, coerceTypes: false } },
  });
  installErrorHandling(app);
  observeRequests(app, rt.metrics, 'stockade_http_request_duration_seconds', 'Operator API and dashboard requests by route, method and status');

  app.get('/healthz', { schema: { hide: true } as object }, async (_req, reply) => {
    const h = await rt.health.run();
    return reply.status(h.ok ? 200 : 503).send({ status: h.ok ? 'ok' : 'unavailable', checks: h.checks });
  });
  app.get('/metrics', { schema: { hide: true } as object }, async (_req, reply) => {
    return reply.type(rt.metrics.contentType).send(await rt.metrics.render());
  });

  // Registered before the plugins so it sees every route: the OpenAPI document is generated from
  // the same schemas that validate requests, so it cannot drift from them.
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Stockade operator API', version: '0.1.0', description: 'Bearer: the admin key or a tenant token. See docs/operator-manual.md.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } }, schemas: { Error: ERROR_BODY } },
    },
  });
  app.get('/docs', { schema: { hide: true } as object }, async () => app.swagger());

  for (const plugin of plugins) await app.register(async (scoped) => plugin(scoped, rt), { prefix: '/api/v1' });
  // Plugins that are not API areas (the dashboard under /ui) choose their own paths.
  for (const plugin of sitePlugins) await app.register(async (scoped) => plugin(scoped, rt));
  return app;
}

/**
 * Records every answered request in a latency histogram labelled by route pattern (never the raw
 * URL: ids would make a series per item), method and status.
 */
export function observeRequests(app: FastifyInstance, metrics: Metrics, name: string, help: string): void {
  const h = metrics.histogram(name, help, ['route', 'method', 'status']);
  app.addHook('onResponse', async (req, reply) => {
    h.observe({ route: req.routeOptions.url ?? 'unmatched', method: req.method, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
}

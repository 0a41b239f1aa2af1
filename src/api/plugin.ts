import type { FastifyInstance } from 'fastify';
import { StkError } from '../errors.ts';
import { ledgerStatus } from '../ledger/status.ts';
import type { Runtime } from '../runtime.ts';
import { ConsistencyTokens } from './consistency.ts';
import { type ApiServices, type RouteDef, registerRoutes } from './route.ts';
import { adminRoutes } from './routes/admin.ts';
import { agentConfigRoutes } from './routes/agent-config.ts';
import { coreRoutes } from './routes/core.ts';
import { edrRoutes } from './routes/edr.ts';
import { identityRoutes } from './routes/identity.ts';
import { ledgerRoutes } from './routes/ledger.ts';
import { productRoutes } from './routes/products.ts';
import { tenantRoutes } from './routes/tenants.ts';

/** Every route of the operator API; the isolation suite checks it covers them all. */
export const OPERATOR_ROUTES: RouteDef[] = [
  ...tenantRoutes,
  ...coreRoutes,
  ...agentConfigRoutes,
  ...productRoutes,
  ...edrRoutes,
  ...identityRoutes,
  ...ledgerRoutes,
  ...adminRoutes,
];

/**
 * The operator API (/api/v1): tenants, tokens, the read models and the commands that change
 * them. Queries read this process's read models (`rt.readModels`, opened by `serve` for the api
 * role), decorated on the API's scope as `app.api` with the write path and the tokens.
 */
export async function operatorApi(app: FastifyInstance, rt: Runtime): Promise<void> {
  if (!rt.readModels) throw new StkError('STK_ERR_INTERNAL', 'the operator API needs the read models of this process');
  const { store, projector, telemetry } = rt.readModels;
  const services: ApiServices = {
    store,
    projector,
    log: rt.log,
    tokens: await ConsistencyTokens.open(rt.streams, { replicas: rt.config.replicas }),
    adminKey: rt.adminKey,
    ledgerStatus: (tenant) => ledgerStatus(tenant, { streams: rt.streams }),
    telemetry,
  };
  app.decorate('api', services);
  registerRoutes(app, OPERATOR_ROUTES);
}

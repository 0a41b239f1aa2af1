import type { FastifyInstance } from 'fastify';
import { StkError } from '../errors.ts';
import { ledgerStatus } from '../ledger/status.ts';
import type { Runtime } from '../runtime.ts';
import { ConsistencyTokens } from './consistency.ts';
import { type ApiServices, type RouteDef, registerRoutes } from './route.ts';
import { adminRoutes } from './routes/admin.ts';
import { coreRoutes } from './routes/core.ts';
import { detectionRoutes } from './routes/detection.ts';
import { ledgerRoutes } from './routes/ledger.ts';
import { notificationRoutes, registerNotifyServices } from './routes/notifications.ts';
import { productRoutes } from './routes/products.ts';
import { tenantRoutes } from './routes/tenants.ts';

/** Every route of the operator API; the isolation suite checks it covers them all. */
export const OPERATOR_ROUTES: RouteDef[] = [
  ...tenantRoutes,
  ...coreRoutes,
  ...productRoutes,
  ...detectionRoutes,
  ...notificationRoutes,
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
  const { store, projector } = rt.readModels;
  const services: ApiServices = {
    store,
    projector,
    log: rt.log,
    tokens: await ConsistencyTokens.open(rt.streams, { replicas: rt.config.replicas }),
    adminKey: rt.adminKey,
    ledgerStatus: (tenant) => ledgerStatus(tenant, { streams: rt.streams }),
  };
  app.decorate('api', services);
  await registerNotifyServices(app, rt);
  registerRoutes(app, OPERATOR_ROUTES);
}

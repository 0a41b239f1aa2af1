import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../runtime.ts';
import { closeReadModels, readModels } from '../projector/role.ts';
import { registerRoutes, type RouteDef } from './route.ts';
import { coreRoutes } from './routes/core.ts';
import { productRoutes } from './routes/products.ts';
import { tenantRoutes } from './routes/tenants.ts';
import { adminRoutes } from './routes/admin.ts';

/** Every route of the operator API defined here; the isolation suite checks it covers them all. */
export const OPERATOR_ROUTES: RouteDef[] = [...tenantRoutes, ...coreRoutes, ...productRoutes, ...adminRoutes];

/**
 * The operator API (/api/v1): tenants, tokens, the read models and the commands that change
 * them. Starts this process's projector, since queries read its LevelDB.
 */
export async function operatorApi(app: FastifyInstance, rt: Runtime): Promise<void> {
  await readModels(rt);
  registerRoutes(app, rt, OPERATOR_ROUTES);
  app.addHook('onClose', () => closeReadModels(rt));
}

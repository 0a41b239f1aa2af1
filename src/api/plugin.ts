import type { FastifyInstance } from 'fastify';
import { StkError } from '../errors.ts';
import { ledgerStatus } from '../ledger/status.ts';
import { peopleOf } from '../people/people.ts';
import type { Runtime } from '../runtime.ts';
import { ConsistencyTokens } from './consistency.ts';
import { type ApiServices, type RouteDef, registerRoutes } from './route.ts';
import { accessRoutes } from './routes/access.ts';
import { adminRoutes } from './routes/admin.ts';
import { agentConfigRoutes } from './routes/agent-config.ts';
import { approvalRoutes } from './routes/approvals.ts';
import { attackSurfaceRoutes } from './routes/attack-surface.ts';
import { auditExportRoutes } from './routes/audit.ts';
import { coreRoutes } from './routes/core.ts';
import { detectionRoutes } from './routes/detection.ts';
import { edrRoutes } from './routes/edr.ts';
import { identityRoutes } from './routes/identity.ts';
import { ledgerRoutes } from './routes/ledger.ts';
import { meRoutes } from './routes/me.ts';
import { patchRoutes } from './routes/patches.ts';
import { mspRoutes } from './routes/msp.ts';
import { notificationRoutes, registerNotifyServices } from './routes/notifications.ts';
import { lifecycleRoutes } from './routes/lifecycle.ts';
import { productRoutes } from './routes/products.ts';
import { settingsRoutes } from './routes/settings.ts';
import { tenantRoutes } from './routes/tenants.ts';
import { invitationRoutes, userRoutes } from './routes/users.ts';

/** Every route of the operator API; the isolation and permission suites check they cover them all. */
export const OPERATOR_ROUTES: RouteDef[] = [
  ...tenantRoutes,
  // Before the core routes: `GET …/audit/export` must not be taken for an audit entry id.
  ...auditExportRoutes,
  ...coreRoutes,
  ...agentConfigRoutes,
  ...productRoutes,
  ...edrRoutes,
  ...identityRoutes,
  ...detectionRoutes,
  ...notificationRoutes,
  ...attackSurfaceRoutes,
  ...patchRoutes,
  ...ledgerRoutes,
  ...lifecycleRoutes,
  ...adminRoutes,
  ...accessRoutes,
  ...approvalRoutes,
  ...settingsRoutes,
  ...userRoutes,
  ...invitationRoutes,
  ...meRoutes,
  ...mspRoutes,
];

/**
 * The operator API (/api/v1): tenants, tokens, people, the read models and the commands that change
 * them. Queries read this process's read models (`rt.readModels`, opened by `serve` for the api
 * role), decorated on the API's scope as `app.api` with the write path, the tokens and the people
 * services.
 */
export async function operatorApi(app: FastifyInstance, rt: Runtime): Promise<void> {
  if (!rt.readModels) throw new StkError('STK_ERR_INTERNAL', 'the operator API needs the read models of this process');
  const { store, projector, telemetry, scans } = rt.readModels;
  const people = await peopleOf(rt);
  const services: ApiServices = {
    store,
    projector,
    log: rt.log,
    tokens: await ConsistencyTokens.open(rt.streams, { replicas: rt.config.replicas }),
    adminKey: rt.adminKey,
    ledgerStatus: (tenant) => ledgerStatus(tenant, { streams: rt.streams }),
    telemetry,
    people,
    privacy: rt.privacy ?? null,
    lifecycle: rt.config.lifecycle,
    scans,
  };
  app.decorate('api', services);
  await registerNotifyServices(app, rt);
  // Last-used times noted since the last flush are written when the API stops.
  app.addHook('onClose', async () => people.close());
  registerRoutes(app, OPERATOR_ROUTES);
}

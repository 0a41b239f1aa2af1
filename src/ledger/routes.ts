import type { FastifyInstance } from 'fastify';
import { registerRoutes, TENANT_PREFIX, type RouteDef } from '../api/route.ts';
import { TENANT_PARAM } from '../api/schemas.ts';
import type { Runtime } from '../runtime.ts';
import { ledgerStatus } from './status.ts';

/**
 * `GET /tenants/:tenant/ledger`: head, height, last checkpoint and sealing lag of the tenant's
 * chain, for its operators and auditors. It sits behind the operator API's tenant wall (the
 * same guard as every tenant route) and reads LEDGER/EVENTS, so it answers in every mode, with
 * or without a sealer in this process.
 */
export const ledgerRoutes: RouteDef[] = [
  {
    method: 'GET',
    url: `${TENANT_PREFIX}/ledger`,
    access: 'read',
    area: 'ledger',
    summary: "The tenant's ledger chain: head, height, blocks, last checkpoint and sealing lag",
    params: { ...TENANT_PARAM },
    handler: async (c) => ledgerStatus(c.tenant, { streams: c.rt.streams }),
  },
];

/** The ledger's part of the operator API, registered in API_PLUGINS. */
export async function ledgerApi(app: FastifyInstance, rt: Runtime): Promise<void> {
  registerRoutes(app, rt, ledgerRoutes);
}

import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
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
    handler: async (c) => ledgerStatus(c.tenant, { nc: c.rt.nc, jsm: await jsmOf(c.rt) }),
  },
];

const managers = new WeakMap<Runtime, Promise<JetStreamManager>>();
function jsmOf(rt: Runtime): Promise<JetStreamManager> {
  let m = managers.get(rt);
  if (!m) {
    m = jetstreamManager(rt.nc);
    managers.set(rt, m);
  }
  return m;
}

/** The ledger's part of the operator API, registered in API_PLUGINS. */
export async function ledgerApi(app: FastifyInstance, rt: Runtime): Promise<void> {
  registerRoutes(app, rt, ledgerRoutes);
}

import { TENANT_PREFIX, type TenantRouteDef, tenantRoute } from '../route.ts';
import { TENANT_PARAM } from '../schemas.ts';

/**
 * `GET /tenants/:tenant/ledger`: head, height, last checkpoint and sealing lag of the tenant's
 * chain, for its operators and auditors. It reads LEDGER/EVENTS, so it answers in every mode, with
 * or without a sealer in this process.
 */
export const ledgerRoutes: TenantRouteDef[] = [
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/ledger`,
    permission: 'ledger.read',
    area: 'ledger',
    summary: "The tenant's ledger chain: head, height, blocks, last checkpoint and sealing lag",
    params: { ...TENANT_PARAM },
    handler: (c) => c.ledgerStatus(),
  }),
];

import { StkError } from '../../errors.ts';
import { TENANT_PREFIX, type TenantContext, type TenantRouteDef, tenantRoute } from '../route.ts';
import { ID, TENANT_PARAM } from '../schemas.ts';

/** A tree size in a query: a decimal without leading zeros. */
const SIZE = { type: 'string', pattern: '^(0|[1-9][0-9]{0,15})$' };

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
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/ledger/proof`,
    permission: 'ledger.read',
    area: 'ledger',
    summary:
      "Inclusion proof of one event: its record, its chain entry, the audit path to the root of the tenant's tree, and the signed tree head (docs/ledger-format.md, Proofs)",
    params: { ...TENANT_PARAM },
    query: {
      event: { ...ID, description: 'The id of one of this tenant’s events.' },
      size: { ...SIZE, description: 'The tree size to prove against (default: the newest checkpoint that covers the event, else the newest block).' },
    },
    handler: (c: TenantContext<unknown, { event?: string; size?: string }>) => {
      if (!c.query.event) throw new StkError('STK_ERR_VALIDATION', 'event is required', { field: 'event' });
      return c.ledgerProof(c.query.event, c.query.size === undefined ? undefined : Number(c.query.size));
    },
  }),
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/ledger/consistency`,
    permission: 'ledger.read',
    area: 'ledger',
    summary: "Consistency proof that the tenant's tree of `to` leaves extends the tree of `from` leaves, with both signed tree heads",
    params: { ...TENANT_PARAM },
    query: {
      from: { ...SIZE, description: 'The older tree size (a checkpoint you hold).' },
      to: { ...SIZE, description: 'The newer tree size (default: the newest block).' },
    },
    handler: (c: TenantContext<unknown, { from?: string; to?: string }>) => {
      if (c.query.from === undefined) throw new StkError('STK_ERR_VALIDATION', 'from is required', { field: 'from' });
      return c.ledgerConsistency(Number(c.query.from), c.query.to === undefined ? undefined : Number(c.query.to));
    },
  }),
];

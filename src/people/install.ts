/**
 * Where the install's own records live. Users, their install-wide roles, their API tokens, the
 * install settings and the admin key's break-glass uses are events of one reserved tenant: they get
 * a tenant chain of their own in the ledger (sealed like any customer's), their own read-model
 * keyspace, and no customer can name it — every id starting with `stk-` is refused when a tenant
 * is created, and every route under `/tenants/:tenant` answers 404 for it, whoever asks.
 */
export const INSTALL_TENANT = 'stk-install';

/** Tenant ids with this prefix belong to Stockade itself. */
export const RESERVED_TENANT_PREFIX = 'stk-';

/** True for the install tenant and every other id a customer may not take. */
export function isReservedTenant(id: string): boolean {
  return id.startsWith(RESERVED_TENANT_PREFIX);
}

/** Collections whose documents exist only in the install tenant (never in a customer's keyspace). */
export const INSTALL_ONLY_COLLECTIONS: readonly string[] = ['users'];

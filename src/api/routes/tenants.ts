import { type TenantCommand, tenantDecider, tenantIdReserved } from '../../../commands/tenants/decider.ts';
import { fold } from '../../domain/decider.ts';
import { tokenDecider } from '../../../commands/tokens/decider.ts';
import { ROLES, type TokenRole } from '../../../commands/tokens/events.ts';
import type { TenantDoc } from '../../../projections/tenants/projection.ts';
import type { TokenDoc } from '../../../projections/tokens/projection.ts';
import { PRODUCTS, type Product } from '../../domain/products.ts';
import { StkError } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { mintSecret } from '../../tenancy/secrets.ts';
import { type InstallContext, type RouteDef, TENANT_PREFIX, type TenantContext, installRoute, tenantRoute } from '../route.ts';
import { itemCommand, oneOf, TENANT_ID, TENANT_PARAM, text } from '../schemas.ts';
import { canSee, seesAll } from '../access.ts';
import { ACTOR_NAMES_DOC, withActorNames } from '../actors.ts';
import type { Permission } from '../permissions.ts';
import { isReservedTenant } from '../../people/install.ts';
import { requestIfGated } from './approvals.ts';
import { tokenExpiry, withLastUsed } from './tokens.ts';

/** A tenant as operators see it: never the secret's hash or lookup. */
export function tenantView(t: TenantDoc) {
  return {
    id: t.id,
    name: t.name,
    products: t.products,
    suspended: t.suspended,
    openEnrollment: t.openEnrollment === true,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
  };
}

/** A token as lists show it: never its hash or lookup. */
export function tokenView(t: TokenDoc) {
  return {
    id: t.id,
    role: t.role,
    label: t.label,
    owner: t.owner ?? { kind: 'service', id: t.label || 'service' },
    expiresAt: t.expiresAt ?? null,
    revoked: t.revoked,
    createdAt: t.createdAt,
    createdBy: t.createdBy,
  };
}

/**
 * A change to the tenant itself (`<method> /tenants/:tenant[/<action>]`, admin only): the tenant
 * decider takes the command; the answer is the tenant as it reads afterwards.
 */
function tenantChange<B>(o: {
  method: 'POST' | 'PUT' | 'PATCH';
  action?: string;
  summary: string;
  permission?: Permission;
  params?: Record<string, object>;
  body?: RouteDef['body'];
  command: (c: TenantContext<B>) => TenantCommand;
}) {
  return tenantRoute({
    method: o.method,
    url: `${TENANT_PREFIX}${o.action ? `/${o.action}` : ''}`,
    permission: o.permission ?? 'tenant.manage',
    area: 'tenants',
    summary: o.summary,
    params: { ...TENANT_PARAM, ...(o.params ?? {}) },
    ...(o.body ? { body: o.body } : {}),
    handler: async (c: TenantContext<B>) => {
      const r = await c.execute(tenantDecider, c.tenant, o.command(c));
      const consistencyToken = await c.settle(r.position);
      const doc = (await c.store.get<TenantDoc>('tenant', c.tenant)) ?? c.tenantDoc;
      return { ...tenantView(doc), consistencyToken };
    },
  });
}

export const tenantRoutes: RouteDef[] = [
  installRoute({
    method: 'POST',
    url: '/tenants',
    area: 'tenants',
    permission: 'tenants.create',
    status: 201,
    summary: 'Create a tenant; the response carries its enrollment secret, shown this once',
    body: { properties: { id: TENANT_ID, name: text(200) }, required: ['id', 'name'] },
    handler: async (c: InstallContext<{ id: string; name: string }>) => {
      const { id, name } = c.body;
      if (isReservedTenant(id)) throw new StkError('STK_ERR_TENANT_RESERVED', 'tenant ids starting with stk- belong to Stockade itself', { field: 'id' });
      const s = mintSecret('enroll');
      const r = await c
        .execute(id, tenantDecider, id, { kind: 'create' as const, name, secret: { lookup: s.lookup, hash: s.hash } }, { known: 'new' })
        .catch(async (err) => {
          // A conflict (the id has events), or a tenant key that is a tombstone (an offboarded id) before the append even tried.
          if (!(err instanceof StkError && (err.code === 'STK_ERR_LOG_VERSION_CONFLICT' || err.code === 'STK_ERR_TENANT_DELETED'))) throw err;
          // The id was used before: by a live tenant, or by an offboarded one, whose id is reserved forever.
          const before = await c.req.server.api.log.readAggregate({ tenant: id, aggregateType: tenantDecider.aggregateType, aggregateId: id });
          throw fold(tenantDecider, before.events).deleted ? tenantIdReserved() : new StkError('STK_ERR_TENANT_EXISTS', 'tenant already exists');
        });
      return { id, name, products: [], enrollSecret: s.secret, consistencyToken: await c.settle(id, r.position) };
    },
  }),
  installRoute({
    method: 'GET',
    url: '/tenants',
    area: 'tenants',
    permission: 'tenants.list',
    summary: 'List the tenants the caller can see (every tenant for the admin key and install-wide roles)',
    handler: async (c) => {
      const all = (await c.admin.scan<string>('tenants', 'tenants')).map(({ value }) => value);
      const ids = seesAll(c.principal) ? all : all.filter((t) => canSee(c.principal, t));
      const docs = await Promise.all(ids.filter((t) => !isReservedTenant(t)).map((t) => c.forTenant(t).get<TenantDoc>('tenant', t)));
      return { items: docs.filter((d): d is TenantDoc => d !== null).map(tenantView), nextCursor: null };
    },
  }),
  tenantRoute({
    method: 'GET',
    url: TENANT_PREFIX,
    permission: 'tenant.read',
    area: 'tenants',
    summary: 'The tenant: name, products, suspended',
    params: TENANT_PARAM,
    handler: async (c) => tenantView(c.tenantDoc),
  }),
  tenantChange<{ name: string }>({
    method: 'PATCH',
    summary: 'Rename the tenant',
    body: { properties: { name: text(200) }, required: ['name'] },
    command: (c) => ({ kind: 'rename' as const, name: c.body.name }),
  }),
  tenantRoute({
    method: 'POST',
    url: `${TENANT_PREFIX}/enroll-secret/rotate`,
    permission: 'tenant.manage',
    area: 'tenants',
    params: TENANT_PARAM,
    summary: 'Rotate the enrollment secret: the old one enrolls nothing from the response on; enrolled agents keep working',
    handler: async (c) => {
      const s = mintSecret('enroll');
      const r = await c.execute(tenantDecider, c.tenant, { kind: 'rotate-secret', secret: { lookup: s.lookup, hash: s.hash } });
      return { enrollSecret: s.secret, consistencyToken: await c.settle(r.position) };
    },
  }),
  tenantChange<{ enabled: boolean }>({
    method: 'PUT',
    action: 'products/:product',
    summary: 'Turn a product on or off',
    params: { product: oneOf(PRODUCTS) },
    body: { properties: { enabled: { type: 'boolean' } }, required: ['enabled'] },
    command: (c) => ({ kind: 'set-product' as const, product: (c.params as { product: Product }).product, enabled: c.body.enabled }),
  }),
  tenantRoute({
    method: 'POST',
    url: `${TENANT_PREFIX}/suspend`,
    permission: 'tenant.suspend',
    area: 'tenants',
    params: TENANT_PARAM,
    fourEyes: true,
    summary:
      'Suspend the tenant: its agents are refused, nothing new enrolls, its own people and tokens keep only the reads the install allows; four eyes can apply (suspend-tenant)',
    body: { properties: { reason: text(500) }, required: ['reason'] },
    handler: async (c: TenantContext<{ reason: string }>) => {
      const pending = await requestIfGated(c, 'suspend-tenant', { kind: 'suspend', reason: c.body.reason });
      if (pending) return pending;
      const r = await c.execute(tenantDecider, c.tenant, { kind: 'suspend', reason: c.body.reason });
      const consistencyToken = await c.settle(r.position);
      return { ...tenantView((await c.store.get<TenantDoc>('tenant', c.tenant)) ?? c.tenantDoc), consistencyToken };
    },
  }),
  tenantChange({ method: 'POST', action: 'resume', permission: 'tenant.suspend', summary: 'Lift a suspension', command: () => ({ kind: 'resume' as const }) }),
  tenantChange<{ enabled: boolean }>({
    method: 'PUT',
    action: 'open-enrollment',
    summary: 'Single-install mode: let an empty enrollment secret enroll into the default tenant (default tenant only)',
    body: { properties: { enabled: { type: 'boolean' } }, required: ['enabled'] },
    command: (c) => ({ kind: 'set-open-enrollment' as const, tenant: c.tenant, enabled: c.body.enabled }),
  }),
  tenantRoute({
    method: 'POST',
    url: `${TENANT_PREFIX}/tokens`,
    permission: 'tokens.manage',
    area: 'tokens',
    status: 201,
    params: TENANT_PARAM,
    summary:
      "Create a service token (operator or auditor) owned by this customer's service account; shown this once; expires after `expiresInDays` (the install's default and maximum apply)",
    body: { properties: { role: oneOf(ROLES), label: text(200), expiresInDays: { type: 'integer', minimum: 1, maximum: 3650 } }, required: ['role'] },
    handler: async (c: TenantContext<{ role: TokenRole; label?: string; expiresInDays?: number }>) => {
      const { role, label } = c.body;
      const expiresAt = tokenExpiry(await c.people.refreshSettings(), c.body.expiresInDays);
      const id = newId();
      const s = mintSecret('token');
      const owner = { kind: 'service' as const, id: label || 'service' };
      const r = await c.execute(
        tokenDecider,
        id,
        { kind: 'create', token: { role, label: label ?? '', lookup: s.lookup, hash: s.hash, owner, expiresAt } },
        { known: 'new' },
      );
      return { id, role, owner, expiresAt, token: s.secret, consistencyToken: await c.settle(r.position) };
    },
  }),
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/tokens`,
    permission: 'tokens.manage',
    area: 'tokens',
    summary: "List the customer's service tokens, newest first, with their owner, expiry and last use",
    returns: `Each item: ${ACTOR_NAMES_DOC}`,
    params: TENANT_PARAM,
    query: { role: oneOf(ROLES), limit: { type: 'string', pattern: '^[0-9]{1,3}$' }, cursor: { type: 'string', maxLength: 200 } },
    handler: async (c: TenantContext<unknown, { role?: string; limit?: string; cursor?: string }>) => {
      const limit = c.query.limit === undefined ? 50 : Number(c.query.limit);
      if (limit < 1 || limit > 200) throw new StkError('STK_ERR_VALIDATION', 'limit must be 1 to 200', { field: 'limit' });
      const token = c.readToken();
      const page = await c.store.list<TokenDoc>('tokens', {
        filter: c.query.role ? { role: c.query.role } : {},
        limit,
        ...(c.query.cursor ? { cursor: c.query.cursor } : {}),
      });
      const items = await withActorNames({ fields: ['createdBy'] })(page.items.map(tokenView) as TokenDoc[], c);
      return { items: await withLastUsed(c.people, items), nextCursor: page.nextCursor, consistencyToken: token };
    },
  }),
  itemCommand({
    method: 'POST',
    area: 'tokens',
    collection: 'tokens',
    param: 'tokenId',
    action: 'revoke',
    summary: 'Revoke a token; it stops working at once',
    permission: 'tokens.manage',
    decider: tokenDecider,
    command: () => ({ kind: 'revoke' as const }),
    view: tokenView,
  }),
];

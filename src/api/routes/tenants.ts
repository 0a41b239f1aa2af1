import { type TenantCommand, tenantDecider } from '../../../commands/tenants/decider.ts';
import { tokenDecider } from '../../../commands/tokens/decider.ts';
import { ROLES, type TokenRole } from '../../../commands/tokens/events.ts';
import type { TenantDoc } from '../../../projections/tenants/projection.ts';
import type { TokenDoc } from '../../../projections/tokens/projection.ts';
import { PRODUCTS, type Product } from '../../domain/products.ts';
import { StkError } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { mintSecret } from '../../tenancy/secrets.ts';
import { type InstallContext, type RouteDef, TENANT_PREFIX, type TenantContext, installRoute, tenantRoute } from '../route.ts';
import { itemCommand, listRoute, oneOf, TENANT_ID, TENANT_PARAM, text } from '../schemas.ts';

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

function tokenView(t: TokenDoc) {
  return { id: t.id, role: t.role, label: t.label, revoked: t.revoked, createdAt: t.createdAt, createdBy: t.createdBy };
}

/**
 * A change to the tenant itself (`<method> /tenants/:tenant[/<action>]`, admin only): the tenant
 * decider takes the command; the answer is the tenant as it reads afterwards.
 */
function tenantChange<B>(o: {
  method: 'POST' | 'PUT' | 'PATCH';
  action?: string;
  summary: string;
  params?: Record<string, object>;
  body?: RouteDef['body'];
  command: (c: TenantContext<B>) => TenantCommand;
}) {
  return tenantRoute({
    method: o.method,
    url: `${TENANT_PREFIX}${o.action ? `/${o.action}` : ''}`,
    access: 'admin',
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
    status: 201,
    summary: 'Create a tenant; the response carries its enrollment secret, shown this once',
    body: { properties: { id: TENANT_ID, name: text(200) }, required: ['id', 'name'] },
    handler: async (c: InstallContext<{ id: string; name: string }>) => {
      const { id, name } = c.body;
      const s = mintSecret('enroll');
      const r = await c
        .execute(id, tenantDecider, id, { kind: 'create' as const, name, secret: { lookup: s.lookup, hash: s.hash } }, { known: 'new' })
        .catch((err) => {
          throw err instanceof StkError && err.code === 'STK_ERR_LOG_VERSION_CONFLICT' ? new StkError('STK_ERR_TENANT_EXISTS', 'tenant already exists') : err;
        });
      return { id, name, products: [], enrollSecret: s.secret, consistencyToken: await c.settle(id, r.position) };
    },
  }),
  installRoute({
    method: 'GET',
    url: '/tenants',
    area: 'tenants',
    summary: 'List every tenant (admin)',
    handler: async (c) => {
      const ids = await c.admin.scan<string>('tenants', 'tenants');
      const docs = await Promise.all(ids.map(({ value }) => c.admin.tenant(value).get<TenantDoc>('tenant', value)));
      return { items: docs.filter((d): d is TenantDoc => d !== null).map(tenantView), nextCursor: null };
    },
  }),
  tenantRoute({
    method: 'GET',
    url: TENANT_PREFIX,
    access: 'read',
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
    access: 'admin',
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
  tenantChange<{ reason: string }>({
    method: 'POST',
    action: 'suspend',
    summary: 'Suspend the tenant: its agents are refused and nothing new enrolls',
    body: { properties: { reason: text(500) }, required: ['reason'] },
    command: (c) => ({ kind: 'suspend' as const, reason: c.body.reason }),
  }),
  tenantChange({ method: 'POST', action: 'resume', summary: 'Lift a suspension', command: () => ({ kind: 'resume' as const }) }),
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
    access: 'admin',
    area: 'tokens',
    status: 201,
    params: TENANT_PARAM,
    summary: 'Create an operator or auditor token for this tenant; the token is shown this once',
    body: { properties: { role: oneOf(ROLES), label: text(200) }, required: ['role'] },
    handler: async (c: TenantContext<{ role: TokenRole; label?: string }>) => {
      const { role, label } = c.body;
      const id = newId();
      const s = mintSecret('token');
      const r = await c.execute(tokenDecider, id, { kind: 'create', token: { role, label: label ?? '', lookup: s.lookup, hash: s.hash } }, { known: 'new' });
      return { id, role, token: s.secret, consistencyToken: await c.settle(r.position) };
    },
  }),
  listRoute('tokens', 'tokens', { role: oneOf(ROLES) }, tokenView, { access: 'admin' }),
  {
    ...itemCommand({
      method: 'POST',
      area: 'tokens',
      collection: 'tokens',
      param: 'tokenId',
      action: 'revoke',
      summary: 'Revoke a token; it stops working at once',
      decider: tokenDecider,
      command: () => ({ kind: 'revoke' as const }),
      view: tokenView,
    }),
    access: 'admin',
  },
];

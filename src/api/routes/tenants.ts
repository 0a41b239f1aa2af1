import { tenantDecider } from '../../../commands/tenants/decider.ts';
import { tokenDecider } from '../../../commands/tokens/decider.ts';
import { ROLES, type TokenRole } from '../../../commands/tokens/events.ts';
import type { TenantDoc } from '../../../projections/tenants/projection.ts';
import type { TokenDoc } from '../../../projections/tokens/projection.ts';
import { execute } from '../../domain/decider.ts';
import { PRODUCTS, type Product } from '../../domain/products.ts';
import { StkError } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { mintSecret } from '../../tenancy/secrets.ts';
import { settled, TENANT_PREFIX, type RouteContext, type RouteDef } from '../route.ts';
import { ID, TENANT_ID, TENANT_PARAM, listRoute, mustGet, oneOf, text } from '../schemas.ts';

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

const tenantCmd = (c: RouteContext, command: Parameters<typeof tenantDecider.decide>[0]) =>
  execute(c.rt.log, c.tenant, c.tenant, tenantDecider, command, { actor: c.actor });

export const tenantRoutes: RouteDef[] = [
  {
    method: 'POST',
    url: '/tenants',
    access: 'admin',
    area: 'tenants',
    status: 201,
    summary: 'Create a tenant; the response carries its enrollment secret, shown this once',
    body: { properties: { id: TENANT_ID, name: text(200) }, required: ['id', 'name'] },
    handler: async (c) => {
      const { id, name } = c.body as { id: string; name: string };
      const s = mintSecret('enroll');
      const r = await execute(
        c.rt.log,
        id,
        id,
        tenantDecider,
        { kind: 'create', name, secret: { lookup: s.lookup, hash: s.hash } },
        { actor: c.actor, fresh: true },
      ).catch((err) => {
        throw err instanceof StkError && err.code === 'STK_ERR_LOG_VERSION_CONFLICT' ? new StkError('STK_ERR_TENANT_EXISTS', 'tenant already exists') : err;
      });
      return { id, name, products: [], enrollSecret: s.secret, position: await settled(c, r.position) };
    },
  },
  {
    method: 'GET',
    url: '/tenants',
    access: 'admin',
    area: 'tenants',
    summary: 'List every tenant (admin)',
    handler: async (c) => {
      const ids = await c.rm.store.adminScan<string>('tenants', 'tenants');
      const docs = await Promise.all(ids.map(({ value }) => c.rm.store.get<TenantDoc>(value, 'tenant', value)));
      return { items: docs.filter((d): d is TenantDoc => d !== null).map(tenantView), nextCursor: null };
    },
  },
  {
    method: 'GET',
    url: TENANT_PREFIX,
    access: 'read',
    area: 'tenants',
    summary: 'The tenant: name, products, suspended',
    params: TENANT_PARAM,
    handler: async (c) => tenantView(c.tenantDoc),
  },
  {
    method: 'PATCH',
    url: TENANT_PREFIX,
    access: 'admin',
    area: 'tenants',
    summary: 'Rename the tenant',
    params: TENANT_PARAM,
    body: { properties: { name: text(200) }, required: ['name'] },
    handler: async (c) => {
      const r = await tenantCmd(c, { kind: 'rename', name: (c.body as { name: string }).name });
      return { ...tenantView((await settledTenant(c, r.position)) ?? c.tenantDoc), position: r.position };
    },
  },
  {
    method: 'POST',
    url: `${TENANT_PREFIX}/enroll-secret/rotate`,
    access: 'admin',
    area: 'tenants',
    params: TENANT_PARAM,
    summary: 'Rotate the enrollment secret: the old one enrolls nothing from the response on; enrolled agents keep working',
    handler: async (c) => {
      const s = mintSecret('enroll');
      const r = await tenantCmd(c, { kind: 'rotate-secret', secret: { lookup: s.lookup, hash: s.hash } });
      return { enrollSecret: s.secret, position: await settled(c, r.position) };
    },
  },
  {
    method: 'PUT',
    url: `${TENANT_PREFIX}/products/:product`,
    access: 'admin',
    area: 'tenants',
    summary: 'Turn a product on or off',
    params: { ...TENANT_PARAM, product: oneOf(PRODUCTS) },
    body: { properties: { enabled: { type: 'boolean' } }, required: ['enabled'] },
    handler: async (c) => {
      const r = await tenantCmd(c, {
        kind: 'set-product',
        product: (c.params as { product: Product }).product,
        enabled: (c.body as { enabled: boolean }).enabled,
      });
      return { ...tenantView((await settledTenant(c, r.position)) ?? c.tenantDoc), position: r.position };
    },
  },
  {
    method: 'POST',
    url: `${TENANT_PREFIX}/suspend`,
    access: 'admin',
    area: 'tenants',
    params: TENANT_PARAM,
    summary: 'Suspend the tenant: its agents are refused and nothing new enrolls',
    body: { properties: { reason: text(500) }, required: ['reason'] },
    handler: async (c) => {
      const r = await tenantCmd(c, { kind: 'suspend', reason: (c.body as { reason: string }).reason });
      return { ...tenantView((await settledTenant(c, r.position)) ?? c.tenantDoc), position: r.position };
    },
  },
  {
    method: 'POST',
    url: `${TENANT_PREFIX}/resume`,
    access: 'admin',
    area: 'tenants',
    params: TENANT_PARAM,
    summary: 'Lift a suspension',
    handler: async (c) => {
      const r = await tenantCmd(c, { kind: 'resume' });
      return { ...tenantView((await settledTenant(c, r.position)) ?? c.tenantDoc), position: r.position };
    },
  },
  {
    method: 'PUT',
    url: `${TENANT_PREFIX}/open-enrollment`,
    access: 'admin',
    area: 'tenants',
    params: TENANT_PARAM,
    summary: 'Single-install mode: let an empty enrollment secret enroll into the default tenant (default tenant only)',
    body: { properties: { enabled: { type: 'boolean' } }, required: ['enabled'] },
    handler: async (c) => {
      const r = await tenantCmd(c, { kind: 'set-open-enrollment', tenant: c.tenant, enabled: (c.body as { enabled: boolean }).enabled });
      return { ...tenantView((await settledTenant(c, r.position)) ?? c.tenantDoc), position: r.position };
    },
  },
  {
    method: 'POST',
    url: `${TENANT_PREFIX}/tokens`,
    access: 'admin',
    area: 'tokens',
    status: 201,
    params: TENANT_PARAM,
    summary: 'Create an operator or auditor token for this tenant; the token is shown this once',
    body: { properties: { role: oneOf(ROLES), label: text(200) }, required: ['role'] },
    handler: async (c) => {
      const { role, label } = c.body as { role: TokenRole; label?: string };
      const id = newId();
      const s = mintSecret('token');
      const r = await execute(
        c.rt.log,
        c.tenant,
        id,
        tokenDecider,
        { kind: 'create', token: { role, label: label ?? '', lookup: s.lookup, hash: s.hash } },
        { actor: c.actor, fresh: true },
      );
      return { id, role, token: s.secret, position: await settled(c, r.position) };
    },
  },
  listRoute('tokens', 'tokens', { role: oneOf(ROLES) }, tokenView, 'admin'),
  {
    method: 'POST',
    url: `${TENANT_PREFIX}/tokens/:tokenId/revoke`,
    access: 'admin',
    area: 'tokens',
    summary: 'Revoke a token; it stops working at once',
    params: { ...TENANT_PARAM, tokenId: ID },
    handler: async (c) => {
      const id = (c.params as { tokenId: string }).tokenId;
      await mustGet(c, 'tokens', id);
      const r = await execute(c.rt.log, c.tenant, id, tokenDecider, { kind: 'revoke' }, { actor: c.actor });
      return { id, revoked: true, position: await settled(c, r.position) };
    },
  },
];

async function settledTenant(c: RouteContext, position: number): Promise<TenantDoc | null> {
  await settled(c, position);
  return c.rm.store.get<TenantDoc>(c.tenant, 'tenant', c.tenant);
}

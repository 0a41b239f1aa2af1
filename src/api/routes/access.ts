import { accessDecider } from '../../../commands/access/decider.ts';
import type { AccessDoc } from '../../../projections/access/projection.ts';
import type { UserDoc } from '../../../projections/users/projection.ts';
import { StkError } from '../../errors.ts';
import { INSTALL_TENANT } from '../../people/install.ts';
import { installPermissions, permissionsOn } from '../access.ts';
import { ACTOR_NAMES_DOC, actorNames } from '../actors.ts';
import type { Principal } from '../auth.ts';
import { isRole, type Permission, ROLE_NAMES, type Role, roleWithin, tenantPermissionsOf } from '../permissions.ts';
import { TENANT_PREFIX, type TenantContext, type TenantRouteDef, tenantRoute } from '../route.ts';
import { ID, oneOf, TENANT_PARAM } from '../schemas.ts';
import { requestIfGated } from './approvals.ts';

export const ROLES_SCHEMA = { type: 'array', items: oneOf(ROLE_NAMES), maxItems: 6, uniqueItems: true };

/**
 * Refuses (403) a change of roles the principal could not hold itself: nobody grants or takes
 * away more than they have. On a customer, the principal's rights on that customer count; for
 * install-wide roles (`tenant` = the install), its install-wide rights.
 */
export function checkGrantable(p: Principal, tenant: string, roles: Role[]): void {
  if (p.kind === 'admin') return;
  const heldTenant: ReadonlySet<Permission> =
    tenant === INSTALL_TENANT ? tenantPermissionsOf(p.kind === 'user' ? (p.grants[INSTALL_TENANT] ?? []) : []) : permissionsOn(p, tenant);
  const heldInstall = installPermissions(p);
  for (const r of roles) {
    if (!roleWithin(r, heldTenant, heldInstall))
      throw new StkError('STK_ERR_FORBIDDEN', `you cannot grant or take away ${r}: it has rights you do not hold`, { context: r });
  }
}

/** The user a customer route names: it must exist, and be visible to the caller (users.read, or already on this customer). */
async function visibleUser(c: TenantContext, userId: string): Promise<UserDoc> {
  const user = await c.directory.user(userId);
  const onTenant = await c.store.get<AccessDoc>('access', userId);
  if (!user || (!installPermissions(c.principal).has('users.read') && !onTenant)) throw new StkError('STK_ERR_NOT_FOUND', 'not found', { field: 'userId' });
  return user;
}

/** Who holds which role on a customer, and changes to it (events of the customer's own log). */
export const accessRoutes: TenantRouteDef[] = [
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/access`,
    permission: 'access.read',
    area: 'access',
    summary: 'People who hold roles on this customer (install-wide roles are not listed)',
    returns: `Each item: ${ACTOR_NAMES_DOC} (here \`updatedByName\`)`,
    params: TENANT_PARAM,
    handler: async (c) => {
      const page = await c.store.list<AccessDoc>('access', { limit: 200 });
      const names = await actorNames(
        c,
        page.items.map((a) => a.updatedBy),
      );
      const items = await Promise.all(
        page.items.map(async (a) => {
          const u = await c.directory.user(a.id);
          return {
            userId: a.id,
            name: u?.name ?? null,
            email: u?.email ?? null,
            status: u?.status ?? null,
            roles: a.roles,
            updatedAt: a.updatedAt,
            updatedBy: a.updatedBy,
            updatedByName: names.get(a.updatedBy)?.name ?? null,
          };
        }),
      );
      return { items, nextCursor: page.nextCursor, consistencyToken: c.readToken() };
    },
  }),
  tenantRoute({
    method: 'PUT',
    url: `${TENANT_PREFIX}/access`,
    permission: 'access.manage',
    area: 'access',
    fourEyes: true,
    summary: "Set a user's roles on this customer (an empty list takes all away); four eyes can apply (role-change)",
    params: TENANT_PARAM,
    body: { properties: { userId: ID, roles: ROLES_SCHEMA }, required: ['userId', 'roles'] },
    handler: async (c: TenantContext<{ userId: string; roles: Role[] }>) => {
      const { userId, roles } = c.body;
      await visibleUser(c, userId);
      if (!roles.every(isRole)) throw new StkError('STK_ERR_VALIDATION', 'unknown role', { field: 'roles' });
      const current = (await c.store.get<AccessDoc>('access', userId))?.roles ?? [];
      checkGrantable(c.principal, c.tenant, [...new Set([...roles, ...current.filter((r) => !roles.includes(r))])]);
      const pending = await requestIfGated(c, 'role-change', { kind: 'access', userId, roles });
      if (pending) return pending;
      const r = await c.execute(accessDecider, userId, { kind: 'set', roles, source: 'manual', scope: 'tenant' });
      const consistencyToken = await c.settle(r.position);
      return { userId, roles: (await c.store.get<AccessDoc>('access', userId))?.roles ?? [], consistencyToken };
    },
  }),
];

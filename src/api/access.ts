import { INSTALL_TENANT, isReservedTenant } from '../people/install.ts';
import type { Principal } from './auth.ts';
import { PERMISSIONS, type Permission, ROLES, type Role, TOKEN_ROLE_PERMISSIONS } from './permissions.ts';

const ALL = new Set(Object.keys(PERMISSIONS) as Permission[]);

/** Roles a user holds that reach `tenant`: install-wide ones and those held on the tenant itself. */
export function rolesOn(p: Principal, tenant: string): Role[] {
  if (p.kind !== 'user' || isReservedTenant(tenant)) return [];
  return [...new Set([...(p.grants[INSTALL_TENANT] ?? []), ...(p.grants[tenant] ?? [])])];
}

/**
 * Whether the principal can see a customer at all. A customer it cannot see is answered exactly
 * like one that does not exist (404), before anything else is looked at. The install tenant is
 * nobody's customer: no principal sees it through a customer route.
 */
export function canSee(p: Principal, tenant: string): boolean {
  if (isReservedTenant(tenant)) return false;
  if (p.kind === 'admin') return true;
  if (p.kind === 'token') return p.tenant === tenant;
  return rolesOn(p, tenant).length > 0;
}

/** True when the principal sees every customer (admin key, install-wide roles). */
export function seesAll(p: Principal): boolean {
  return p.kind === 'admin' || (p.kind === 'user' && (p.grants[INSTALL_TENANT] ?? []).length > 0);
}

/** The permissions a principal has on a customer it can see. */
export function permissionsOn(p: Principal, tenant: string): ReadonlySet<Permission> {
  if (p.kind === 'admin') return ALL;
  if (p.kind === 'token') return p.tenant === tenant ? new Set(TOKEN_ROLE_PERMISSIONS[p.role]) : new Set();
  if (p.via.kind === 'session' && p.via.mfaPending) return new Set();
  const out = new Set<Permission>();
  for (const r of rolesOn(p, tenant)) for (const x of ROLES[r].tenant) out.add(x);
  return out;
}

/** The install-wide permissions of a principal (tokens of a customer have none). */
export function installPermissions(p: Principal): ReadonlySet<Permission> {
  if (p.kind === 'admin') return ALL;
  if (p.kind === 'token') return new Set();
  if (p.via.kind === 'session' && p.via.mfaPending) return new Set<Permission>(['self']);
  const out = new Set<Permission>(['self']);
  for (const roles of Object.values(p.grants)) for (const r of roles) for (const x of ROLES[r].install) out.add(x);
  return out;
}

/**
 * Whether a suspended customer refuses this principal: its service tokens and the people whose
 * only way in is a role on that customer (customer admins and analysts, an auditor of that customer).
 * The MSP's people (install-wide roles, MSP analysts) and the admin key keep working, so somebody
 * can look into the suspension and lift it.
 */
export function refusedWhileSuspended(p: Principal, tenant: string): boolean {
  if (p.kind === 'admin') return false;
  if (p.kind === 'token') return true;
  if ((p.grants[INSTALL_TENANT] ?? []).length > 0) return false;
  return !(p.grants[tenant] ?? []).some((r) => ROLES[r].side === 'msp');
}

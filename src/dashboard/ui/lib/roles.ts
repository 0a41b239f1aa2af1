import { ROLE_NAMES, ROLES, type Role } from '../../../api/permissions.ts';

export { ROLE_NAMES, ROLES, type Role };

/** What a role may do, in the words of the roles table (`src/api/permissions.ts`). */
export function roleTitle(r: string): string {
  return (ROLES as Record<string, { title: string }>)[r]?.title ?? r;
}

/** Roles that can be held on one customer (the others are install-wide only). */
export const TENANT_ROLES: Role[] = ROLE_NAMES.filter((r) => ROLES[r].scope !== 'install');
/** Roles that can be held install-wide. */
export const INSTALL_ROLES: Role[] = ROLE_NAMES.filter((r) => ROLES[r].scope !== 'tenant');

/** The columns of "who can do what on this customer": a permission each, as people say it. */
export const ABILITIES: Array<[string, string]> = [
  ['alerts.read', 'Read'],
  ['alerts.triage', 'Triage'],
  ['commands.dispatch', 'Respond on hosts'],
  ['approvals.decide', 'Approve requests'],
  ['tokens.manage', 'Service tokens'],
  ['access.manage', 'Give roles'],
  ['policy.manage', 'Four-eyes policy'],
  ['audit.export', 'Export audit'],
  ['tenant.manage', 'Products'],
  ['tenant.suspend', 'Suspend'],
];

/** Whether any of the roles gives the permission on a customer. */
export function rolesAllow(roles: readonly string[], permission: string): boolean {
  return roles.some((r) => ((ROLES as Record<string, { tenant: readonly string[] }>)[r]?.tenant ?? []).includes(permission));
}

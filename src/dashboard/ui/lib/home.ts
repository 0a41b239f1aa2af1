import { type PageSpec, pagePermitted } from '../../page-list.ts';
import type { SessionInfo } from './page.ts';
import { tenantHref } from './router.ts';

/** Every permission the session holds somewhere: install-wide, on every customer, or on one of them. */
export function heldAnywhere(session: SessionInfo): Set<string> {
  const a = session.access;
  return new Set([...a.install, ...a.everywhere, ...Object.values(a.tenants).flat()]);
}

/** Whether an install page (`/ui/<name>`) is the session's to open: the same rule the server applies before sending the page. */
export function installPageOpen(session: SessionInfo, spec: PageSpec): boolean {
  const p = session.principal;
  if (p.kind === 'token' || (p.kind === 'user' && p.mfaPending && spec.name !== 'account')) return false;
  if (spec.person && p.kind !== 'user') return false;
  const held = heldAnywhere(session);
  return pagePermitted(spec, (x) => held.has(x));
}

/**
 * Where the session starts (as the server decides for `/ui/`): the all-customers overview for whoever
 * may read it (MSP roles), the customers list for the admin key and people who see several customers,
 * the customer's overview for a token or a person of one customer.
 */
export function homeOf(session: SessionInfo): string {
  const p = session.principal;
  if (p.kind === 'token') return tenantHref(p.tenant, 'overview');
  if (p.kind === 'user' && p.mfaPending) return '/ui/account';
  if (p.kind === 'admin') return '/ui/customers';
  if (session.access.install.includes('overview.read')) return '/ui/overview';
  const tenants = Object.keys(session.access.tenants);
  return session.access.everywhere.length === 0 && tenants.length === 1 ? tenantHref(tenants[0]!, 'overview') : '/ui/customers';
}

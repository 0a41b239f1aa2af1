import { AREA_PRODUCTS, type Product } from '../domain/products.ts';

/**
 * The dashboard's pages, shared by the server (which answers 404 for any other address, before the
 * shell is sent) and the browser (menu, router). Plain data with no Node or DOM import, so both sides
 * compile it. A page of a product area is shown only while one of its products is on.
 */
export interface PageSpec {
  /** Path segment: `/ui/t/<tenant>/<name>[/<id>]` or `/ui/<name>[/<id>]`. */
  name: string;
  title: string;
  scope: 'tenant' | 'install';
  /** Products of which one must be on (from AREA_PRODUCTS). */
  products?: readonly Product[];
  /** Whether `/<name>/<id>` is a page too. */
  detail: boolean;
  /** What `<id>` looks like. @defaultValue ITEM_ID_RE */
  detailId?: RegExp;
  /** Permissions of which the session must hold one (install-wide for install pages, on the customer otherwise). */
  permissions?: readonly string[];
  /** A page of a person's own (My account): only for sessions of a user. */
  person?: boolean;
  /** Shown in the menu (pages reached from another page, such as the MFA set-up, are not). @defaultValue true */
  menu?: boolean;
}

const tenant = (name: string, title: string, detail = false, permissions?: readonly string[]): PageSpec => ({
  name,
  title,
  scope: 'tenant',
  detail,
  ...(AREA_PRODUCTS[name] ? { products: AREA_PRODUCTS[name] } : {}),
  ...(permissions ? { permissions } : {}),
});
const install = (name: string, title: string, o: Partial<PageSpec> = {}): PageSpec => ({ name, title, scope: 'install', detail: false, ...o });

/** Every page, in menu order. */
export const PAGE_SPECS: readonly PageSpec[] = [
  install('overview', 'All customers', { permissions: ['overview.read'] }),
  { name: 'customers', title: 'Customers', scope: 'install', detail: true },
  install('fanout', 'Fan-out', { permissions: ['fanout.dispatch'] }),
  install('people', 'People', { detail: true, permissions: ['users.read'] }),
  install('service-accounts', 'Service accounts', { permissions: ['tokens.manage'] }),
  install('sign-in-policy', 'Sign-in policy', { permissions: ['settings.manage'] }),
  install('account', 'My account', { person: true, menu: false }),
  tenant('overview', 'Overview'),
  tenant('agents', 'Agents', true),
  tenant('alerts', 'Alerts', true),
  tenant('incidents', 'Incidents', true),
  tenant('findings', 'Findings', true),
  tenant('assets', 'Assets', false, ['assets.read']),
  tenant('scans', 'Scan runs', true),
  tenant('patches', 'Patches', true, ['patches.read']),
  // A job's result is reached from a host's patch view, the Patches page and its command.
  { name: 'patch-jobs', title: 'Patch jobs', scope: 'tenant', detail: true, products: AREA_PRODUCTS.patches!, permissions: ['patches.read'], menu: false },
  tenant('processes', 'Processes', true, ['processes.read']),
  tenant('connections', 'Connections', false, ['connections.read']),
  tenant('identities', 'Identities', true, ['identities.read']),
  // A telemetry item is named `<batch>:<index>`: TELEMETRY_ITEM_ID_PATTERN of src/telemetry/ids.ts,
  // spelled out here so the browser bundle does not take the server's modules (test/dashboard/edr.test.ts compares them).
  { ...tenant('telemetry', 'Telemetry proofs', true, ['telemetry.read']), detailId: /^[A-Za-z0-9_-]{1,64}:(0|[1-9][0-9]{0,3})$/ },
  tenant('evidence', 'Evidence', true),
  tenant('commands', 'Commands', true),
  tenant('rules', 'Rules', true, ['detection.read']),
  tenant('channels', 'Channels', true, ['notifications.read']),
  tenant('collection', 'Collection settings', false, ['agents.read']),
  tenant('audit', 'Audit log', true),
  tenant('ledger', 'Ledger'),
  tenant('access', 'People and roles', false, ['access.read']),
  tenant('approvals', 'Approvals', false, ['approvals.read']),
];

/** Names of the pages of one customer, in menu order. */
export const TENANT_PAGES: readonly string[] = PAGE_SPECS.filter((p) => p.scope === 'tenant').map((p) => p.name);

/** The spec of a page, or undefined. */
export function pageSpec(scope: PageSpec['scope'], name: string): PageSpec | undefined {
  return PAGE_SPECS.find((p) => p.scope === scope && p.name === name);
}

/** Whether a session holding `held` may open the page (its permissions; the API decides anyway). */
export function pagePermitted(spec: PageSpec, held: (permission: string) => boolean): boolean {
  return !spec.permissions || spec.permissions.some(held);
}

/** Whether a customer with these products has the page. */
export function pageAllowed(spec: PageSpec, products: readonly string[]): boolean {
  return !spec.products || spec.products.some((p) => products.includes(p));
}

/** Same shapes as the API's id patterns (`src/ids.ts`), for checking page addresses. */
export const TENANT_ID_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const ITEM_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The customer id pattern for an `<input pattern>`. Browsers compile `pattern` with the `v` flag,
 * where a `-` at the end of a class is a syntax error (the whole check is then skipped); escaped
 * here, it means the same as TENANT_ID_RE.
 */
export const TENANT_ID_INPUT_PATTERN = '[a-z0-9][a-z0-9\\-]{0,62}';

/**
 * The one table of who may do what. Every operator route names one permission from `PERMISSIONS`;
 * every role is a documented set of them; the guard in `route.ts` is the only place that checks
 * them (`src/api/access.ts` answers "may this principal do this here"). The permission suite
 * (`test/people/permissions.test.ts`) is generated from this table and the route table.
 */

/** Every permission, with what it allows. Tenant permissions apply within one customer. */
export const PERMISSIONS = {
  // ── within a customer (routes under /tenants/:tenant) ──
  'tenant.read': "Read the customer's profile and overview counts.",
  'tenant.manage': 'Rename the customer, turn products on and off, rotate its enrollment secret, open enrollment.',
  'tenant.suspend': 'Suspend and resume the customer (four eyes can apply).',
  'tokens.manage': "Create, list and revoke the customer's service tokens.",
  'access.read': 'See who holds which role on the customer.',
  'access.manage': 'Grant and take back roles on the customer (four eyes can apply; never above your own).',
  'policy.manage': "Change the customer's four-eyes policy.",
  'agents.read': 'List and read agents.',
  'agents.revoke': 'Revoke an agent.',
  'commands.read': 'List and read agent commands.',
  'commands.dispatch': 'Send a command to an agent (destructive actions can need four eyes).',
  'alerts.read': 'List and read alerts.',
  'alerts.triage': 'Acknowledge and resolve alerts.',
  'incidents.read': 'List and read incidents.',
  'incidents.manage': 'Open, change, link and close incidents.',
  'findings.read': 'List and read findings.',
  'findings.triage': 'Triage findings.',
  'scans.read': 'List and read scan runs, their items, diffs and item proofs.',
  'scans.run': "Ask the server's scanner to scan the customer's declared targets.",
  'assets.read': 'See the attack surface: declared targets, scanned hosts, open ports, certificates, listening services.',
  'assets.manage': 'Declare the targets scans may reach (the allowlist) and the certificate expiry threshold.',
  'patches.read': 'See patch compliance, pending updates per host and package, the trend, and patch job results.',
  'patches.manage': 'Set the maintenance window and the compliance threshold.',
  'evidence.read': 'List and read evidence.',
  'evidence.custody': 'Record custody transfers and seal evidence.',
  'evidence.download': 'Download the bytes of evidence (every download is recorded in its custody trail and sealed).',
  'hosts.read': "Read hosts: the agents' health reports and isolation state.",
  'processes.read': 'Read the processes the agents saw start.',
  'connections.read': 'Read the connections and listeners the agents saw.',
  'telemetry.read': 'Read the Merkle inclusion proof of any telemetry item.',
  'identities.read': 'Read accounts, their changes and privileged groups as the agents report them.',
  'agents.configure': 'Set what the agents collect and how often (collection and directory settings).',
  'audit.read': "Read the customer's audit trail.",
  'audit.export': "Export the customer's audit trail (CSV, JSON lines), refused attempts included.",
  'ledger.read': "Read the customer's ledger status.",
  'ledger.verify': "Verify the customer's ledger chain.",
  'approvals.read': 'See four-eyes requests.',
  'approvals.decide': 'Approve or reject four-eyes requests of other people.',
  'detection.read': "Read the customer's detection rules and their settings.",
  'detection.manage': 'Tune detection rules (on/off, level, exclusions) and upload custom rules.',
  'notifications.read': 'Read notification channels (never their secrets), deliveries and dead letters.',
  'notifications.manage': 'Add, change and remove notification channels; send dead letters back.',
  'privacy.erase': 'Erase a data subject of the customer: destroy the keys of its fields for good (four eyes can apply).',
  'tenant.offboard': 'Offboard the customer: export everything, then delete it for good; its id is reserved (four eyes can apply).',
  'machines.block': "Block a revoked agent's machine from enrolling again, and lift the block.",
  // ── install-wide (routes outside /tenants/:tenant) ──
  'tenants.list': 'List the customers you can see.',
  'tenants.create': 'Create customers.',
  'overview.read': 'The all-customers overview, over the customers you can see.',
  'fanout.dispatch': 'Send one agent command to several of your customers at once.',
  'users.read': 'List and read users.',
  'users.manage': 'Invite, disable and enable users, reset their MFA, set install-wide roles (never above your own).',
  'settings.manage': 'Install settings: MFA requirements, token lifetimes, reads allowed while suspended.',
  'install.audit': "Read and export the install's own audit trail (users, roles, break-glass uses).",
  'install.operate': 'Projection rebuilds and other operations of the install.',
  self: 'Your own profile, sessions, API tokens, password and MFA.',
} as const;

export type Permission = keyof typeof PERMISSIONS;

/** The permissions of install-wide routes. */
export const INSTALL_PERMISSIONS: readonly Permission[] = [
  'tenants.list',
  'tenants.create',
  'overview.read',
  'fanout.dispatch',
  'users.read',
  'users.manage',
  'settings.manage',
  'install.audit',
  'install.operate',
  'self',
];

/** The permissions of routes under /tenants/:tenant. */
export const TENANT_PERMISSIONS: readonly Permission[] = (Object.keys(PERMISSIONS) as Permission[]).filter((p) => !INSTALL_PERMISSIONS.includes(p));

const READS: readonly Permission[] = [
  'tenant.read',
  'access.read',
  'agents.read',
  'commands.read',
  'alerts.read',
  'incidents.read',
  'findings.read',
  'scans.read',
  'assets.read',
  'patches.read',
  'evidence.read',
  'hosts.read',
  'processes.read',
  'connections.read',
  'telemetry.read',
  'identities.read',
  'audit.read',
  'ledger.read',
  'ledger.verify',
  'approvals.read',
  'detection.read',
  'notifications.read',
];
const TRIAGE: readonly Permission[] = ['alerts.triage', 'incidents.manage', 'findings.triage'];
const RESPONSE: readonly Permission[] = ['commands.dispatch', 'scans.run', 'agents.revoke', 'evidence.custody', 'evidence.download', 'approvals.decide'];
/** What the SOC tunes for a customer: which rules run and how, who is told. */
const TUNING: readonly Permission[] = ['detection.manage', 'notifications.manage'];

/** Where a role can be held: on the whole install, on one customer, or either. */
export type RoleScope = 'install' | 'tenant' | 'either';

/**
 * Whose side a role is on. A suspended customer's own people (customer roles, its service
 * tokens) are refused on its routes except the reads an admin allows; the MSP's are not.
 */
export type RoleSide = 'msp' | 'customer' | 'audit';

export interface RoleDef {
  title: string;
  scope: RoleScope;
  side: RoleSide;
  /** What the role may do on every customer in its scope. */
  tenant: readonly Permission[];
  /** Install-wide routes it may call (they act only on the customers it can see). */
  install: readonly Permission[];
}

/** The roles. A user may hold different roles on different customers; each grant is an event. */
export const ROLES = {
  'msp-owner': {
    title: 'MSP owner: everything, on every customer and the install.',
    scope: 'install',
    side: 'msp',
    tenant: TENANT_PERMISSIONS,
    install: INSTALL_PERMISSIONS,
  },
  'msp-admin': {
    title: 'MSP admin: customers, users and products; every customer; not the install settings or operations.',
    scope: 'install',
    side: 'msp',
    tenant: TENANT_PERMISSIONS,
    install: INSTALL_PERMISSIONS.filter((p) => p !== 'settings.manage' && p !== 'install.operate'),
  },
  'msp-analyst': {
    title: 'MSP analyst: reads, triage, response and tuning (rules, channels) on the customers assigned to them only.',
    scope: 'tenant',
    side: 'msp',
    tenant: [...READS, ...TRIAGE, ...RESPONSE, ...TUNING],
    install: ['tenants.list', 'overview.read', 'fanout.dispatch', 'self'],
  },
  'customer-admin': {
    title: "Customer admin: their customer's people, tokens, policy, triage and response; not products or suspension.",
    scope: 'tenant',
    side: 'customer',
    tenant: [
      ...READS,
      ...TRIAGE,
      ...RESPONSE,
      ...TUNING,
      'tokens.manage',
      'access.manage',
      'policy.manage',
      'assets.manage',
      'patches.manage',
      'audit.export',
      'agents.configure',
    ],
    install: ['tenants.list', 'self'],
  },
  'customer-analyst': {
    title: 'Customer analyst: reads and triage on their customer; no response on hosts.',
    scope: 'tenant',
    side: 'customer',
    tenant: [...READS, ...TRIAGE],
    install: ['tenants.list', 'self'],
  },
  auditor: {
    title: 'Auditor: read-only, including ledger verification and audit export; on one customer or all.',
    scope: 'either',
    side: 'audit',
    tenant: [...READS, 'audit.export'],
    install: ['tenants.list', 'overview.read', 'users.read', 'install.audit', 'self'],
  },
} as const satisfies Record<string, RoleDef>;

export type Role = keyof typeof ROLES;
export const ROLE_NAMES = Object.keys(ROLES) as Role[];

export function isRole(r: unknown): r is Role {
  return typeof r === 'string' && Object.hasOwn(ROLES, r);
}

/**
 * The roles of the tenant tokens that predate users (`operator`, `auditor`), kept so every
 * existing token keeps its exact rights: an operator token may read and act on its customer but
 * not manage it (rules and channels are work on the customer, not managing it); an auditor token reads.
 */
export const TOKEN_ROLE_PERMISSIONS: Record<'operator' | 'auditor', readonly Permission[]> = {
  operator: [...READS, ...TRIAGE, ...RESPONSE, ...TUNING],
  auditor: READS,
};

/** The permissions of a set of roles on one customer (or the install). */
export function tenantPermissionsOf(roles: readonly Role[]): Set<Permission> {
  const out = new Set<Permission>();
  for (const r of roles) for (const p of ROLES[r].tenant) out.add(p);
  return out;
}

/** True when every permission of `role` is also one of `held` (no one grants more than they have). */
export function roleWithin(role: Role, heldTenant: ReadonlySet<Permission>, heldInstall: ReadonlySet<Permission>): boolean {
  return ROLES[role].tenant.every((p) => heldTenant.has(p)) && ROLES[role].install.every((p) => heldInstall.has(p));
}

/** True when the role can be held at that scope. */
export function roleFitsScope(role: Role, scope: 'install' | 'tenant'): boolean {
  const s = ROLES[role].scope;
  return s === 'either' || s === scope;
}

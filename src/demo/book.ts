// The demo's book of customers, drawn whole from the seed before anything is sent: companies and
// their products, hosts with what they run, people, and which host suffers which attack. Pure: the
// same (seed, customers, now) gives the same book, which is what makes screenshots repeatable.
import type { Role } from '../api/permissions.ts';
import type { Product } from '../domain/products.ts';
import type { ConnectionItem, ProcessItem } from '../telemetry/types.ts';
import { AGENT_ALERTS, type AttackKind, type AttackOnHost, attackOn, exeHash } from './attacks.ts';
import {
  BASE_DAEMONS,
  EXTRA_ROLES,
  FLAGSHIP_ROLES,
  type HostRole,
  type Listener,
  type OsKey,
  ROLE_TEMPLATES,
  type ServiceAccount,
  UPDATE_OFFERS,
} from './hosts.ts';
import { AUDIT_FIRMS, COMPANIES, FIRST_NAMES, LAST_NAMES, MSP_STAFF } from './names.ts';
import { Rng } from './random.ts';

/** Tenant ids the demo makes start with this (and the tenant holds the marker token, marking.ts). */
export const DEMO_TENANT_PREFIX = 'demo-';
/** Customers when `--customers` is not given; at most as many as there are companies in the pool. */
export const DEFAULT_CUSTOMERS = 4;
export const MAX_CUSTOMERS = COMPANIES.length;
/** The seed when `--seed` is not given (the videos are filmed with it). */
export const DEFAULT_SEED = '1';

/** A person of the book and the roles they get. */
export interface PersonPlan {
  name: string;
  email: string;
  installRoles: Role[];
  /** Roles per customer id. */
  tenantRoles: Record<string, Role[]>;
  /** False: invited, and the invitation left unanswered (a new hire who has not started yet). */
  accepts: boolean;
}

/** A TLS endpoint's certificate as the scan reads it. */
export interface CertPlan {
  subject: string;
  issuer: string;
  sans: string[];
  keyType: 'rsa' | 'ec';
  keyBits: number;
  curve?: string;
  notBefore: string;
  notAfter: string;
  selfSigned: boolean;
  serial: string;
  sha256: string;
}

export interface HostPlan {
  hostname: string;
  role: HostRole;
  os: OsKey;
  ip: string;
  /** The machine id (`/etc/machine-id`) the fingerprint is made from. */
  machineId: string;
  cpus: number;
  memoryBytes: number;
  /** Local admins beyond the MSP's support login: the customer's own IT people. */
  admins: string[];
  /** Processes running when the agent starts, and connections open then (listeners included). */
  processes: ProcessItem[];
  connections: ConnectionItem[];
  listeners: Array<Omit<Listener, 'cert'> & { cert?: CertPlan }>;
  accounts: ServiceAccount[];
  /** Pending updates: which offers (by package) the host lacks, and how many days ago each was published. */
  missing: Array<{ package: string; daysAgo: number }>;
  attack: AttackOnHost | null;
  /** Agent-reported alerts (antivirus, file integrity) raised on this host. */
  agentAlerts: Array<(typeof AGENT_ALERTS)[number]>;
  /** A new local account with uid 0 appears (identity), or an account gains sudo. */
  identityEvent: 'uid0-backdoor' | 'sudo-grant' | null;
  /** Enrolled, then revoked as decommissioned (its machine blocked). */
  decommissioned: boolean;
}

export interface CustomerPlan {
  index: number;
  /** `demo-<slug>`; seed.ts adds `-2`, `-3`… when an earlier demo's offboarded tenant holds the id. */
  id: string;
  name: string;
  domain: string;
  trade: string;
  products: Product[];
  hosts: HostPlan[];
  /** Who works on the customer's alerts and incidents (an e-mail of the book's people). */
  analyst: string;
  /** The customer's own admin (policy, declared targets, accepting risks, approvals). */
  admin: string;
  /** The scan block the allowlist declares, and the host the agent scans from. */
  scanBlock: string;
  auditFirm: string;
  /** A webhook the customer's admin adds for its own SIEM, on the office network (notify.ts). */
  siem: { name: string; url: string } | null;
}

export interface DemoBook {
  seed: string;
  now: string;
  customers: CustomerPlan[];
  people: PersonPlan[];
}

/** Products per customer after the first (which has all four): different mixes, drawn in turn. */
const PRODUCT_MIXES: readonly Product[][] = [
  ['edr', 'identity'],
  ['edr', 'patch'],
  ['attack-surface', 'patch'],
  ['edr', 'identity', 'attack-surface'],
  ['edr'],
  ['identity', 'patch'],
];
const ALL_PRODUCTS: Product[] = ['edr', 'identity', 'attack-surface', 'patch'];
/** Attackers come from documentation address blocks (RFC 5737), never a real network. */
const ATTACKERS = ['203.0.113.45', '203.0.113.77', '198.51.100.23', '198.51.100.61', '203.0.113.140', '198.51.100.190'];

const login = (name: string): string => {
  const [first = '', last = ''] = name.toLowerCase().split(' ');
  return `${first[0]}${last}`.replace(/[^a-z]/g, '');
};

/** Draws the whole book for `seed` with `customers` customers, times counted back from `now`. */
export function planBook(o: { seed: string; customers: number; now: Date }): DemoBook {
  if (!Number.isInteger(o.customers) || o.customers < 1 || o.customers > MAX_CUSTOMERS) throw new RangeError(`customers must be 1 to ${MAX_CUSTOMERS}`);
  const rng = new Rng(o.seed);
  const companies = rng.sample(COMPANIES, o.customers);
  const mixes = rng.shuffle(PRODUCT_MIXES);
  const names = rng.shuffle(FIRST_NAMES.flatMap((f) => LAST_NAMES.map((l) => `${f} ${l}`)));
  let nextName = 0;
  const people: PersonPlan[] = MSP_STAFF.map((s) => ({ name: s.name, email: s.email, installRoles: [...s.installRoles], tenantRoles: {}, accepts: true }));
  const customers = companies.map((company, index): CustomerPlan => {
    const id = `${DEMO_TENANT_PREFIX}${company.slug}`;
    const domain = `${company.slug}.demo.example`;
    const person = (roles: Role[], accepts = true): PersonPlan => {
      const name = names[nextName++]!;
      let email = `${login(name)}@${domain}`;
      for (let n = 2; people.some((x) => x.email === email); n++) email = `${login(name)}${n}@${domain}`;
      const p: PersonPlan = { name, email, installRoles: [], tenantRoles: { [id]: roles }, accepts };
      people.push(p);
      return p;
    };
    const admin = person(['customer-admin']);
    if (index === 0) person(['customer-analyst']);
    if (index === Math.min(1, o.customers - 1)) person(['customer-analyst'], false);
    // The MSP's analyst works on the first two customers; the others handle their own alerts.
    const dana = people[0]!;
    if (index < 2) dana.tenantRoles[id] = ['msp-analyst'];
    const products = index === 0 ? ALL_PRODUCTS : mixes[(index - 1) % mixes.length]!;
    const roles = index === 0 ? FLAGSHIP_ROLES : (['web', ...rng.sample(EXTRA_ROLES, rng.int(2, 3))] as HostRole[]);
    const net = `10.${20 + index}`;
    const hosts = roles.map((role, j) =>
      planHost(rng, { role, j, prefix: company.prefix, net, domain, admins: j === 0 ? [login(admin.name)] : [], now: o.now }),
    );
    assignTrouble(rng, { index, products, hosts, now: o.now });
    if (index === 1 && hosts.length > 2) hosts[hosts.length - 1]!.decommissioned = true;
    return {
      index,
      id,
      name: company.name,
      domain,
      trade: company.trade,
      products,
      hosts,
      analyst: index < 2 ? dana.email : admin.email,
      admin: admin.email,
      scanBlock: `${net}.1.0/28`,
      auditFirm: rng.pick(AUDIT_FIRMS),
      // Drawn from nothing random: a later draw would change every book after it.
      siem: index === 0 ? { name: `${company.name} SIEM`, url: `https://${net}.0.20/hooks/stockade` } : null,
    };
  });
  return { seed: o.seed, now: o.now.toISOString(), customers, people };
}

function planHost(rng: Rng, o: { role: HostRole; j: number; prefix: string; net: string; domain: string; admins: string[]; now: Date }): HostPlan {
  const t = ROLE_TEMPLATES[o.role];
  const hostname = `${o.prefix}-${o.role}-0${rng.int(1, 3)}`;
  const ip = `${o.net}.1.${2 + o.j * 2}`;
  const bootMinutes = rng.int(3, 40) * 1440 + rng.int(0, 1439);
  const at = (minutesAgo: number) => new Date(o.now.getTime() - minutesAgo * 60_000).toISOString();
  const processes: ProcessItem[] = [];
  const pids = new Map<string, number>();
  let pid = 300 + rng.int(0, 200);
  const start = (d: (typeof BASE_DAEMONS)[number], parent: ProcessItem | null, minutesAgo: number): ProcessItem => {
    pid += rng.int(3, 60);
    const p: ProcessItem = {
      kind: 'process',
      pid,
      ppid: parent?.pid ?? 1,
      uid: d.uid,
      user: d.user,
      exe: d.exe,
      name: d.name,
      sha256: exeHash(d.exe, t.os),
      cmdline: d.cmdline,
      cmdlineTruncated: false,
      startedAt: at(minutesAgo),
      cwd: '/',
      parentExe: parent?.exe ?? '/usr/lib/systemd/systemd',
      parentName: parent?.name ?? 'systemd',
      parentCmdline: parent?.cmdline ?? '/sbin/init',
    };
    processes.push(p);
    pids.set(d.name, pid);
    return p;
  };
  for (const d of [...BASE_DAEMONS, ...t.daemons]) start(d, null, bootMinutes - rng.int(0, 2));
  // Someone of the MSP is logged in over SSH.
  const sshd = processes.find((p) => p.name === 'sshd')!;
  const session = start({ exe: '/usr/sbin/sshd', name: 'sshd', user: 'root', uid: 0, cmdline: 'sshd: hpsupport [priv]' }, sshd, rng.int(20, 200));
  start({ exe: '/usr/bin/bash', name: 'bash', user: 'hpsupport', uid: 1001, cmdline: '-bash' }, session, rng.int(5, 19));
  const workstation = `${o.net}.0.${50 + rng.int(0, 40)}`;
  const connections: ConnectionItem[] = t.listeners.map((l) => ({
    kind: 'connection',
    protocol: l.protocol,
    state: l.protocol === 'tcp' ? 'LISTEN' : 'UNCONN',
    localAddress: '0.0.0.0',
    localPort: l.port,
    remoteAddress: '0.0.0.0',
    remotePort: 0,
    pid: pids.get(l.daemon) ?? null,
    exe: t.daemons.find((d) => d.name === l.daemon)?.exe ?? (l.daemon === 'sshd' ? '/usr/sbin/sshd' : null),
    user: 'root',
  }));
  connections.push({
    kind: 'connection',
    protocol: 'tcp',
    state: 'ESTABLISHED',
    localAddress: ip,
    localPort: 22,
    remoteAddress: workstation,
    remotePort: rng.int(49_152, 60_999),
    pid: session.pid,
    exe: '/usr/sbin/sshd',
    user: 'root',
  });
  const fqdn = `${hostname}.${o.domain}`;
  const listeners = t.listeners.map(({ cert, ...l }) => ({
    ...l,
    ...(l.banner ? { banner: l.banner.replace('{fqdn}', fqdn) } : {}),
    ...(cert ? { cert: planCert(rng, cert, fqdn, o.now) } : {}),
  }));
  const offers = UPDATE_OFFERS[t.os].map((u) => u.package);
  const missing = rng
    .sample(offers, rng.int(3, 6))
    .sort()
    .map((p) => ({ package: p, daysAgo: rng.pick([2, 5, 9, 21, 34, 48]) }));
  // openssl and its library travel together: a host lacks both or neither.
  const lib = t.os === 'debian11' ? 'libssl1.1' : 'libssl3';
  const openssl = missing.find((m) => m.package === 'openssl');
  if (openssl && !missing.some((m) => m.package === lib)) missing.push({ package: lib, daysAgo: openssl.daysAgo });
  return {
    hostname,
    role: o.role,
    os: t.os,
    ip,
    machineId: rng.hex(16),
    cpus: t.cpus,
    memoryBytes: t.memoryGiB * 1024 ** 3,
    admins: o.admins,
    processes,
    connections,
    listeners,
    accounts: t.accounts,
    missing,
    attack: null,
    agentAlerts: [],
    identityEvent: null,
    decommissioned: false,
  };
}

function planCert(rng: Rng, kind: NonNullable<Listener['cert']>, fqdn: string, now: Date): CertPlan {
  const day = 86_400_000;
  const iso = (days: number) => new Date(Math.floor(now.getTime() / day + days) * day).toISOString().replace('.000Z', 'Z');
  const sha256 = rng.hex(32);
  const serial = rng.hex(16).replace(/^0+/, '');
  switch (kind) {
    case 'public': {
      const left = rng.int(40, 80);
      return {
        subject: `CN=${fqdn}`,
        issuer: "CN=R11, O=Let's Encrypt, C=US",
        sans: [`dns:${fqdn}`],
        keyType: 'ec',
        keyBits: 256,
        curve: 'P-256',
        notBefore: iso(left - 90),
        notAfter: iso(left),
        selfSigned: false,
        serial,
        sha256,
      };
    }
    case 'expiring': {
      const left = rng.int(6, 12);
      return {
        subject: `CN=${fqdn}`,
        issuer: 'CN=Sectigo RSA Domain Validation Secure Server CA, O=Sectigo Limited, C=GB',
        sans: [`dns:${fqdn}`],
        keyType: 'rsa',
        keyBits: 2048,
        notBefore: iso(left - 365),
        notAfter: iso(left),
        selfSigned: false,
        serial,
        sha256,
      };
    }
    case 'internal': {
      const left = rng.int(200, 700);
      return {
        subject: `CN=${fqdn}`,
        issuer: `CN=${fqdn.split('.').slice(1, 2)[0]} Internal CA`,
        sans: [`dns:${fqdn}`],
        keyType: 'rsa',
        keyBits: 3072,
        notBefore: iso(left - 1095),
        notAfter: iso(left),
        selfSigned: false,
        serial,
        sha256,
      };
    }
    case 'self-signed-weak':
      return {
        subject: `CN=${fqdn}`,
        issuer: `CN=${fqdn}`,
        sans: [],
        keyType: 'rsa',
        keyBits: 1024,
        notBefore: iso(-2900),
        notAfter: iso(750),
        selfSigned: true,
        serial,
        sha256,
      };
  }
}

/** Who suffers what: the first customer gets the whole story, the others a part of it drawn in turn. */
function assignTrouble(rng: Rng, c: { index: number; products: Product[]; hosts: HostPlan[]; now: Date }): void {
  const edr = c.products.includes('edr');
  const identity = c.products.includes('identity');
  const attackers = rng.shuffle(ATTACKERS);
  const attack = (h: HostPlan, kind: AttackKind, n: number): void => {
    const user = h.accounts.find((a) => a.shell.endsWith('sh') && a.uid >= 100) ?? { name: 'hpsupport', uid: 1001 };
    h.attack = attackOn(
      kind,
      { os: h.os, hostname: h.hostname, ip: h.ip, user },
      { now: c.now, basePid: 20_000 + 1000 * n + rng.int(0, 900), attacker: attackers[n]! },
    );
  };
  const byRole = (r: HostRole) => c.hosts.find((h) => h.role === r);
  if (c.index === 0) {
    // The flagship's web server lacks the OpenSSL fixes for a month: the patch story installs them.
    const web = byRole('web')!;
    web.missing = [
      ...web.missing.filter((m) => m.package !== 'openssl' && m.package !== 'libssl3'),
      { package: 'libssl3', daysAgo: 34 },
      { package: 'openssl', daysAgo: 34 },
    ].sort((a, b) => (a.package < b.package ? -1 : 1));
    if (edr) {
      attack(byRole('web')!, 'webshell', 0);
      attack(byRole('build')!, 'miner', 1);
      byRole('mail')!.agentAlerts.push(AGENT_ALERTS[0]);
      byRole('db')!.agentAlerts.push(AGENT_ALERTS[1]);
    }
    if (identity) {
      byRole('web')!.identityEvent = 'uid0-backdoor';
      byRole('db')!.identityEvent = 'sudo-grant';
    }
    return;
  }
  if (edr) {
    const victim = rng.pick(c.hosts);
    attack(victim, rng.pick(['dropper', 'reverse-shell', 'miner'] as const), 2);
    rng.pick(c.hosts).agentAlerts.push(rng.pick(AGENT_ALERTS.slice(1)));
  }
  if (identity) rng.pick(c.hosts).identityEvent = 'sudo-grant';
}

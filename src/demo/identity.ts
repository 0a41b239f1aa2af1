// A demo host's local accounts as the identity collector would read them from /etc, before and
// after its identity event; the agent's own diff and finding rules turn them into what it reports.
import type { WireEvent } from '../agent/client.ts';
import { diffIdentity, localFindings } from '../agent/accounts/diff.ts';
import type { IdentitySnapshot, LocalAccount, LocalGroup } from '../agent/accounts/snapshot.ts';
import type { AccountChangeItem } from '../telemetry/types.ts';
import type { HostPlan } from './book.ts';

const EMPTY: IdentitySnapshot = { version: 1, source: 'local', accounts: [], groups: [], sudoFiles: [], sudoGroups: [], warnings: [] };

/** The MSP's support login, on every host, in the sudo group. */
export const SUPPORT_LOGIN = 'hpsupport';

// The titles the reference agent gives its local findings (src/agent/run/collectors.ts).
const TITLES: Record<string, string> = {
  'extra-uid-0': 'Account other than root with uid 0',
  'empty-password': 'Account without a password',
  'duplicate-uid': 'Accounts sharing a uid',
  'sudo-no-password': 'Sudo without a password',
  'sudo-all-users': 'Sudo for every user',
  'root-authorized-keys': 'SSH keys that log in as root',
};

function account(o: Partial<LocalAccount> & Pick<LocalAccount, 'name' | 'uid'>): LocalAccount {
  return {
    gid: o.uid,
    primaryGroup: o.name,
    gecos: '',
    home: `/home/${o.name}`,
    shell: '/usr/sbin/nologin',
    password: 'none',
    lastChange: '2024-01-15',
    mustChangePassword: false,
    expiresOn: null,
    groups: [],
    sudo: [],
    sudoNoPassword: false,
    keys: [],
    ...o,
  };
}

function key(login: string, n: string): LocalAccount['keys'][number] {
  return {
    fingerprint: `SHA256:${n}`,
    type: 'ssh-ed25519',
    comment: `${login}@workstation`,
    options: null,
    file: `/home/${login}/.ssh/authorized_keys`,
    line: 1,
  };
}

/** The host's accounts as they were when its agent started. */
export function snapshotBefore(h: HostPlan): IdentitySnapshot {
  const admins = [SUPPORT_LOGIN, ...h.admins];
  const accounts: LocalAccount[] = [
    account({ name: 'root', uid: 0, primaryGroup: 'root', home: '/root', shell: '/bin/bash', password: 'locked' }),
    account({ name: 'daemon', uid: 1, home: '/usr/sbin' }),
    account({ name: 'bin', uid: 2, home: '/bin' }),
    account({ name: 'sys', uid: 3, home: '/dev' }),
    account({ name: 'www-data', uid: 33, home: '/var/www' }),
    account({ name: 'nobody', uid: 65534, primaryGroup: 'nogroup', home: '/nonexistent' }),
    ...admins.map((login, i) =>
      account({
        name: login,
        uid: 1001 + i,
        shell: '/bin/bash',
        password: 'set',
        groups: ['sudo'],
        sudo: ['%sudo'],
        keys: [key(login, Buffer.from(`${h.machineId}${login}`).toString('base64').slice(0, 43))],
      }),
    ),
    ...h.accounts.map((a) =>
      account({
        name: a.name,
        uid: a.uid,
        home: a.home,
        shell: a.shell,
        password: a.name === 'svc-legacy' ? 'empty' : a.shell.endsWith('sh') ? 'set' : 'none',
        groups: [...a.groups].sort(),
        sudo: a.sudoNoPassword ? [a.name] : [],
        sudoNoPassword: a.sudoNoPassword === true,
      }),
    ),
  ].sort((a, b) => (a.name < b.name ? -1 : 1));
  return { ...EMPTY, accounts, groups: groupsOf(accounts), sudoFiles: ['/etc/sudoers', '/etc/sudoers.d/README'], sudoGroups: ['sudo'] };
}

const GIDS: Record<string, number> = { root: 0, sudo: 27, 'www-data': 33, 'ssl-cert': 110, docker: 998 };

function groupsOf(accounts: readonly LocalAccount[]): LocalGroup[] {
  const names = new Set(['root', 'sudo', 'www-data', ...accounts.flatMap((a) => a.groups)]);
  return [...names].sort().map((name) => ({ name, gid: GIDS[name] ?? 1900, members: accounts.filter((a) => a.groups.includes(name)).map((a) => a.name) }));
}

/** The host's accounts after its identity event (the same as before when it has none). */
export function snapshotAfter(h: HostPlan): IdentitySnapshot {
  const before = snapshotBefore(h);
  if (h.identityEvent === 'uid0-backdoor') {
    const backdoor = account({
      name: 'sysupdate',
      uid: 0,
      primaryGroup: 'root',
      home: '/var/lib/sysupdate',
      shell: '/bin/bash',
      password: 'set',
      lastChange: null,
      keys: [
        { ...key('sysupdate', `${h.machineId.slice(0, 20)}backdoorKeyFromAbroad00`), comment: 'root@kali', file: '/var/lib/sysupdate/.ssh/authorized_keys' },
      ],
    });
    const accounts = [...before.accounts, { ...backdoor, gid: 0 }].sort((a, b) => (a.name < b.name ? -1 : 1));
    return { ...before, accounts, groups: groupsOf(accounts) };
  }
  if (h.identityEvent === 'sudo-grant') {
    // A service account slipped into the sudo group (the kind of shortcut an attacker or a hurried admin takes).
    const target =
      before.accounts.find((a) => a.uid >= 100 && a.uid < 65534 && !a.groups.includes('sudo')) ?? before.accounts.find((a) => a.name === 'www-data')!;
    const accounts = before.accounts.map((a) => (a === target ? { ...a, groups: [...a.groups, 'sudo'].sort(), sudo: ['%sudo'] } : a));
    return { ...before, accounts, groups: groupsOf(accounts) };
  }
  return before;
}

/** The first collection as the agent reports it: every account and membership as added, marked baseline. */
export function baselineItems(h: HostPlan): AccountChangeItem[] {
  return diffIdentity(EMPTY, snapshotBefore(h)).map((i) => ({ ...i, details: { ...i.details, baseline: true } }));
}

/** What changed at the identity event. */
export function eventItems(h: HostPlan): AccountChangeItem[] {
  return diffIdentity(snapshotBefore(h), snapshotAfter(h));
}

/** The identity findings a snapshot holds that `known` (subjects already reported) does not, as report events. */
export function findingReports(snap: IdentitySnapshot, known: ReadonlySet<string>, at: string): WireEvent[] {
  return localFindings(snap)
    .map((f) => ({ ...f, subject: `local:${f.account}:${f.finding}` }))
    .filter((f) => !known.has(f.subject))
    .map((f) => ({
      kind: 'finding' as const,
      at,
      data: {
        product: 'identity',
        title: `${TITLES[f.finding] ?? f.finding}: ${f.account}`.slice(0, 256),
        severity: f.severity,
        subject: f.subject,
        details: { ...f.details, finding: f.finding, account: f.account, uid: f.uid, source: 'local' },
      },
    }));
}

/** The subjects of a snapshot's findings. */
export function findingSubjects(snap: IdentitySnapshot): Set<string> {
  return new Set(localFindings(snap).map((f) => `local:${f.account}:${f.finding}`));
}

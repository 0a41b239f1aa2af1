import type { AccountChangeItem } from '../../telemetry/types.ts';
import type { IdentitySnapshot, LocalAccount } from './snapshot.ts';

/** Groups whose members can become root without sudo (or are root): membership is privilege. */
export const PRIVILEGED_GROUPS: ReadonlySet<string> = new Set(['root', 'sudo', 'wheel', 'admin', 'docker', 'lxd', 'disk']);

/** Account fields whose change is a `modified` change. */
const WATCHED = ['uid', 'gid', 'gecos', 'home', 'shell', 'password', 'lastChange', 'mustChangePassword', 'expiresOn'] as const;

/** A risky fact about one local account, found in a single snapshot. */
export interface LocalFinding {
  finding: 'extra-uid-0' | 'empty-password' | 'duplicate-uid' | 'sudo-no-password' | 'sudo-all-users' | 'root-authorized-keys';
  severity: 'high' | 'medium' | 'low';
  account: string;
  uid: number;
  details: Record<string, unknown>;
}

/** The risky facts of an account that a change report carries along (`extra-uid-0`, `empty-password`). */
function flags(a: LocalAccount): string[] {
  return [...(a.uid === 0 && a.name !== 'root' ? ['extra-uid-0'] : []), ...(a.password === 'empty' ? ['empty-password'] : [])];
}

/** uid 0, sudo, or a member (primary or listed) of a privileged group. */
function isPrivileged(a: LocalAccount): boolean {
  return (
    a.uid === 0 ||
    a.gid === 0 ||
    a.sudo.length > 0 ||
    a.groups.some((g) => PRIVILEGED_GROUPS.has(g)) ||
    (a.primaryGroup !== null && PRIVILEGED_GROUPS.has(a.primaryGroup))
  );
}

/** A group is privileged when it is one of PRIVILEGED_GROUPS, has gid 0, or sudoers grants it. */
function groupPrivileged(name: string, gid: number | undefined, snap: IdentitySnapshot): boolean {
  return PRIVILEGED_GROUPS.has(name) || gid === 0 || (snap.sudoGroups ?? []).includes(name);
}

function byName<T extends { name: string }>(list: readonly T[]): Map<string, T> {
  return new Map(list.map((x) => [x.name, x]));
}

/**
 * The `account-change` items between two local identity snapshots, in a stable order (accounts by
 * name, then group memberships by group). Pure; the first snapshot an agent takes is its baseline
 * and has nothing to compare with.
 */
export function diffIdentity(prev: IdentitySnapshot, next: IdentitySnapshot): AccountChangeItem[] {
  const out: AccountChangeItem[] = [];
  const before = byName(prev.accounts);
  const after = byName(next.accounts);
  const names = [...new Set([...before.keys(), ...after.keys()])].sort();
  for (const name of names) {
    const a = before.get(name);
    const b = after.get(name);
    // A change to an account that is or was privileged is a privileged change (losing sudo too).
    const privileged = (a !== undefined && isPrivileged(a)) || (b !== undefined && isPrivileged(b));
    const item = (change: AccountChangeItem['change'], shown: LocalAccount, details: Record<string, unknown>): void => {
      out.push({ kind: 'account-change', source: 'local', change, account: shown.name, uid: shown.uid, group: null, privileged, details });
    };
    if (b && !a) {
      item('added', b, { uid: b.uid, gid: b.gid, home: b.home, shell: b.shell, password: b.password, groups: b.groups, sudo: b.sudo, flags: flags(b) });
    } else if (a && !b) {
      item('removed', a, { uid: a.uid, home: a.home, shell: a.shell, sudo: a.sudo });
    } else if (a && b) {
      const changes: Record<string, { from: unknown; to: unknown }> = {};
      for (const f of WATCHED) if (a[f] !== b[f]) changes[f] = { from: a[f], to: b[f] };
      if (Object.keys(changes).length > 0) item('modified', b, { changes, flags: flags(b) });
    }
    // Keys and sudo of added and removed accounts are reported too: a new account that arrives
    // with sudo or a key is exactly what "new sudo member" and "new authorized key" look for.
    const keysA = new Map((a?.keys ?? []).map((k) => [k.fingerprint, k]));
    const keysB = new Map((b?.keys ?? []).map((k) => [k.fingerprint, k]));
    for (const [fp, k] of keysB)
      if (!keysA.has(fp)) item('key-added', b!, { fingerprint: fp, type: k.type, comment: k.comment, file: k.file, options: k.options });
    for (const [fp, k] of keysA) if (!keysB.has(fp)) item('key-removed', a!, { fingerprint: fp, type: k.type, comment: k.comment, file: k.file });
    const viaA = a?.sudo ?? [];
    const viaB = b?.sudo ?? [];
    const gained = viaB.filter((v) => !viaA.includes(v));
    const lost = viaA.filter((v) => !viaB.includes(v));
    if (gained.length > 0) item('sudo-added', b!, { via: viaB, added: gained, noPassword: b!.sudoNoPassword });
    if (lost.length > 0) item('sudo-removed', b ?? a!, { via: viaB, removed: lost });
  }

  const groupsA = byName(prev.groups);
  const groupsB = byName(next.groups);
  for (const g of [...new Set([...groupsA.keys(), ...groupsB.keys()])].sort()) {
    const ga = groupsA.get(g);
    const gb = groupsB.get(g);
    const membersA = new Set(ga?.members ?? []);
    const membersB = new Set(gb?.members ?? []);
    const member = (change: 'group-member-added' | 'group-member-removed', m: string, snap: IdentitySnapshot, gid: number | undefined): void => {
      const acct = byName(snap.accounts).get(m);
      const privileged = groupPrivileged(g, ga?.gid, prev) || groupPrivileged(g, gb?.gid, next);
      out.push({ kind: 'account-change', source: 'local', change, account: m, uid: acct?.uid ?? null, group: g, privileged, details: { gid: gid ?? null } });
    };
    for (const m of [...membersB].sort()) if (!membersA.has(m)) member('group-member-added', m, next, gb?.gid);
    for (const m of [...membersA].sort()) if (!membersB.has(m)) member('group-member-removed', m, prev, ga?.gid);
  }
  return out;
}

/** The risky facts of one snapshot: extra uid-0 accounts, empty passwords, shared uids, sudo without password or for everyone, root's SSH keys. */
export function localFindings(snap: IdentitySnapshot): LocalFinding[] {
  const out: LocalFinding[] = [];
  const byUid = new Map<number, string[]>();
  for (const a of snap.accounts) byUid.set(a.uid, [...(byUid.get(a.uid) ?? []), a.name]);
  for (const a of snap.accounts) {
    const f = (finding: LocalFinding['finding'], severity: LocalFinding['severity'], details: Record<string, unknown>): void => {
      out.push({ finding, severity, account: a.name, uid: a.uid, details });
    };
    if (a.uid === 0 && a.name !== 'root') f('extra-uid-0', 'high', { shell: a.shell, password: a.password });
    if (a.password === 'empty') f('empty-password', 'high', { shell: a.shell, privileged: isPrivileged(a) });
    const same = byUid.get(a.uid)!;
    if (a.uid !== 0 && same.length > 1) f('duplicate-uid', 'medium', { accounts: same });
    if (a.sudo.includes('ALL')) f('sudo-all-users', 'high', { via: a.sudo });
    if (a.sudoNoPassword) f('sudo-no-password', 'medium', { via: a.sudo });
    if (a.uid === 0 && a.keys.length > 0) f('root-authorized-keys', 'low', { fingerprints: a.keys.map((k) => k.fingerprint) });
  }
  return out;
}

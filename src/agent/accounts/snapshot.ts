import { type HostRoot, listHostDir, readHostText } from '../host-root.ts';
import { type PasswordStatus, parseGroup, parsePasswd, parseShadow, passwordStatus } from './files.ts';
import { type AuthorizedKey, parseAuthorizedKeys } from './ssh-keys.ts';
import { readSudoers, sudoGrant, sudoGroups } from './sudoers.ts';

/** A local account as the identity collector sees it: status and facts, never a password hash. */
export interface LocalAccount {
  name: string;
  uid: number;
  gid: number;
  /** The name of `gid` in /etc/group, null when it has none. */
  primaryGroup: string | null;
  gecos: string;
  home: string;
  shell: string;
  password: PasswordStatus;
  lastChange: string | null;
  mustChangePassword: boolean;
  expiresOn: string | null;
  /** Supplementary groups (from the member lists of /etc/group), sorted. */
  groups: string[];
  /** The sudoers user-list items that grant this account sudo (empty: no sudo). */
  sudo: string[];
  sudoNoPassword: boolean;
  keys: AuthorizedKey[];
}

/** A local group and its explicit members. */
export interface LocalGroup {
  name: string;
  gid: number;
  members: string[];
}

/** Everything the local identity collector read at one moment; what `diffIdentity` compares. */
export interface IdentitySnapshot {
  version: 1;
  source: 'local';
  accounts: LocalAccount[];
  groups: LocalGroup[];
  /** The sudoers files read (host paths). */
  sudoFiles: string[];
  /** Names of the groups whose members sudoers grants sudo (aliases expanded). */
  sudoGroups: string[];
  /** Lines and files that could not be read as expected; shown, not fatal. */
  warnings: string[];
}

/** authorized_keys files looked at in each home (sshd's default AuthorizedKeysFile). */
const KEY_FILES = ['.ssh/authorized_keys', '.ssh/authorized_keys2'];

/**
 * Reads the host root's /etc/passwd, /etc/shadow, /etc/group, sudoers (with its includes) and
 * the authorized_keys of every home into one snapshot. Symlinks are followed only inside the root.
 */
export async function takeIdentitySnapshot(root: HostRoot): Promise<IdentitySnapshot> {
  const [passwdText, shadowText, groupText] = await Promise.all([
    readHostText(root, '/etc/passwd'),
    readHostText(root, '/etc/shadow'),
    readHostText(root, '/etc/group'),
  ]);
  const passwd = parsePasswd(passwdText ?? '');
  const warnings = passwd.bad.map((l) => `/etc/passwd: cannot read line ${JSON.stringify(l.slice(0, 80))}`);
  if (passwdText === null) warnings.push('/etc/passwd: missing');
  const shadow = new Map<string, ReturnType<typeof parseShadow>[number]>();
  for (const s of parseShadow(shadowText ?? '')) if (!shadow.has(s.name)) shadow.set(s.name, s);
  const groups = parseGroup(groupText ?? '');
  const sudoers = await readSudoers({ read: (p) => readHostText(root, p), list: (p) => listHostDir(root, p) });
  warnings.push(...sudoers.warnings);

  const keysByHome = new Map<string, AuthorizedKey[]>();
  for (const home of new Set(passwd.entries.map((e) => e.home).filter((h) => h.startsWith('/')))) {
    const keys: AuthorizedKey[] = [];
    for (const f of KEY_FILES) {
      const path = `${home.replace(/\/+$/, '')}/${f}`;
      const text = await readHostText(root, path, 1024 * 1024).catch(() => {
        warnings.push(`${path}: unreadable`);
        return null;
      });
      if (text !== null) keys.push(...parseAuthorizedKeys(text, path));
    }
    keysByHome.set(home, keys);
  }

  const accounts = new Map<string, LocalAccount>();
  for (const e of passwd.entries) {
    // getpwnam(3) answers the first line for a name; a second line of the same name is a trap.
    if (accounts.has(e.name)) {
      warnings.push(`/etc/passwd: ${e.name} is listed twice; the first line counts`);
      continue;
    }
    const sh = shadow.get(e.name);
    const primary = groups.find((g) => g.gid === e.gid);
    const supplementary = groups.filter((g) => g.members.includes(e.name));
    const memberOf = [...(primary ? [primary] : []), ...supplementary];
    const grant = sudoGrant(sudoers, { name: e.name, uid: e.uid, groups: memberOf.map((g) => ({ name: g.name, gid: g.gid })) });
    accounts.set(e.name, {
      name: e.name,
      uid: e.uid,
      gid: e.gid,
      primaryGroup: primary?.name ?? null,
      gecos: e.gecos,
      home: e.home,
      shell: e.shell,
      // A field other than `x` in passwd itself is what login checks, whatever shadow says.
      password: e.passwdField !== 'x' ? passwordStatus(e.passwdField) : (sh?.password ?? 'none'),
      lastChange: sh?.lastChange ?? null,
      mustChangePassword: sh?.mustChange ?? false,
      expiresOn: sh?.expiresOn ?? null,
      groups: [...new Set(supplementary.map((g) => g.name))].sort(),
      sudo: grant.via,
      sudoNoPassword: grant.noPassword,
      keys: keysByHome.get(e.home) ?? [],
    });
  }
  return {
    version: 1,
    source: 'local',
    accounts: [...accounts.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    groups: groups.map((g) => ({ name: g.name, gid: g.gid, members: [...new Set(g.members)].sort() })),
    sudoFiles: sudoers.files,
    sudoGroups: [
      ...new Set(
        sudoGroups(sudoers).flatMap((item) =>
          item.startsWith('%#') ? groups.filter((g) => String(g.gid) === item.slice(2)).map((g) => g.name) : [item.slice(1)],
        ),
      ),
    ].sort(),
    warnings,
  };
}

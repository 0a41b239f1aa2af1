/** Parsers of /etc/passwd, /etc/shadow and /etc/group. Pure: text in, records out. */

/** One line of /etc/passwd. */
export interface PasswdEntry {
  name: string;
  /** The password field of passwd itself: `x` (look in shadow), `` (no password!), or an old-style hash. */
  passwdField: string;
  uid: number;
  gid: number;
  gecos: string;
  home: string;
  shell: string;
}

/** The status of an account's password, never the hash itself. */
export type PasswordStatus = 'set' | 'empty' | 'locked' | 'none';

/** One line of /etc/shadow, with the hash reduced to its status. */
export interface ShadowEntry {
  name: string;
  password: PasswordStatus;
  /** Day of the last change (YYYY-MM-DD); null when the field is empty. */
  lastChange: string | null;
  /** Last change 0: the password must be changed at the next login. */
  mustChange: boolean;
  /** Day the account expires (YYYY-MM-DD); null for never. */
  expiresOn: string | null;
}

/** One line of /etc/group. */
export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** Lines worth parsing: not blank, not a comment, not an NIS `+`/`-` include. */
function dataLines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '' && !/^[#+-]/.test(l));
}

const INT = /^\d+$/;

/** Parses /etc/passwd; malformed lines are returned in `bad` (by line text) rather than guessed at. */
export function parsePasswd(text: string): { entries: PasswdEntry[]; bad: string[] } {
  const entries: PasswdEntry[] = [];
  const bad: string[] = [];
  for (const line of dataLines(text)) {
    const f = line.split(':');
    if (f.length !== 7 || !f[0] || !INT.test(f[2]!) || !INT.test(f[3]!)) {
      bad.push(line);
      continue;
    }
    entries.push({ name: f[0], passwdField: f[1]!, uid: Number(f[2]), gid: Number(f[3]), gecos: f[4]!, home: f[5]!, shell: f[6]! });
  }
  return { entries, bad };
}

/**
 * The status of a crypt(3) field: `` is no password at all (anyone may log in where PAM allows
 * nullok); `!` before a hash is a locked password (`usermod -L`, `passwd -l`); a field that can
 * never match a hash (`*`, `!`, `!!`, `!*`, `x` in shadow) means no password is set; anything else
 * is a password.
 */
export function passwordStatus(field: string): PasswordStatus {
  if (field === '') return 'empty';
  if (field.startsWith('!')) {
    const rest = field.replace(/^!+/, '');
    return rest === '' || rest === '*' ? 'none' : 'locked';
  }
  if (field.startsWith('*') || field === 'x') return 'none';
  return 'set';
}

/** YYYY-MM-DD of a day count after 1970-01-01, as shadow stores dates. */
function day(field: string): string | null {
  if (!INT.test(field)) return null;
  return new Date(Number(field) * 86_400_000).toISOString().slice(0, 10);
}

/** Parses /etc/shadow down to password status and dates; the hash never leaves this function. */
export function parseShadow(text: string): ShadowEntry[] {
  const out: ShadowEntry[] = [];
  for (const line of dataLines(text)) {
    const f = line.split(':');
    if (f.length < 8 || !f[0]) continue;
    out.push({ name: f[0], password: passwordStatus(f[1]!), lastChange: day(f[2]!), mustChange: f[2] === '0', expiresOn: day(f[7]!) });
  }
  return out;
}

/** Parses /etc/group. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of dataLines(text)) {
    const f = line.split(':');
    if (f.length !== 4 || !f[0] || !INT.test(f[2]!)) continue;
    out.push({ name: f[0], gid: Number(f[2]), members: f[3]!.split(',').filter(Boolean) });
  }
  return out;
}

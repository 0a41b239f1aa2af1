import { posix } from 'node:path';

/** How deep `#include` may nest before the reader stops (sudo itself refuses deep nesting too). */
const MAX_INCLUDE_DEPTH = 16;

/** A user specification of sudoers: who (as written, aliases not yet expanded) and what. */
export interface SudoRule {
  /** The host path of the file and the line the rule starts on. */
  file: string;
  line: number;
  /** The user list as written: names, `%group`, `%#gid`, `#uid`, `ALL`, aliases, each maybe `!`-negated. */
  users: string[];
  /** The rest of the line: hosts, run-as, tags, commands. */
  spec: string;
  noPassword: boolean;
}

/** Everything read from sudoers and the files it includes. */
export interface SudoersPolicy {
  rules: SudoRule[];
  userAliases: Record<string, string[]>;
  /** Host paths of every file read, in reading order. */
  files: string[];
  /** Lines not understood, includes not found, include loops. */
  warnings: string[];
}

/** How the parser reaches files: host paths in, text or listing out (null when absent). */
export interface SudoersSource {
  read(hostPath: string): Promise<string | null>;
  list(hostDir: string): Promise<string[] | null>;
}

/** The identity of an account as sudoers matches it. */
export interface SudoSubject {
  name: string;
  uid: number;
  /** Names and gids of the primary and every supplementary group. */
  groups: ReadonlyArray<{ name: string; gid: number }>;
}

/** Joins backslash-continued lines; each logical line keeps the number of its first line. */
function logicalLines(text: string): Array<{ line: number; text: string }> {
  const out: Array<{ line: number; text: string }> = [];
  let pending: { line: number; text: string } | null = null;
  for (const [i, raw] of text.split('\n').entries()) {
    const continued = /(?:^|[^\\])(?:\\\\)*\\$/.test(raw);
    const body = continued ? raw.slice(0, -1) : raw;
    if (pending) pending.text += ` ${body}`;
    else pending = { line: i + 1, text: body };
    if (!continued) {
      out.push(pending);
      pending = null;
    }
  }
  if (pending) out.push(pending);
  return out;
}

/** Cuts a `#` comment; `#` followed by digits is a uid (`#1000`, `%#27`) and stays. */
function stripComment(s: string): string {
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (c === '#' && !quoted && !/[0-9]/.test(s[i + 1] ?? '')) return s.slice(0, i);
  }
  return s;
}

/** Reads the comma-separated user list at the start of a user specification; returns the list and the rest. */
function userList(s: string): { users: string[]; rest: string } {
  const users: string[] = [];
  let i = 0;
  let negation = '';
  for (;;) {
    while (s[i] === ' ' || s[i] === '\t') i++;
    let item = '';
    let quoted = false;
    for (; i < s.length; i++) {
      const c = s[i]!;
      if (c === '\\' && i + 1 < s.length) item += s[++i];
      else if (c === '"') quoted = !quoted;
      else if (!quoted && (c === ',' || c === ' ' || c === '\t')) break;
      else item += c;
    }
    if (/^!+$/.test(item)) {
      negation += item;
      continue;
    }
    if (item !== '') users.push(negation + item);
    negation = '';
    while (s[i] === ' ' || s[i] === '\t') i++;
    if (s[i] !== ',') break;
    i++;
  }
  return { users, rest: s.slice(i).trim() };
}

/**
 * Reads sudoers from `path` (default `/etc/sudoers`) with every `#include`/`@include` and
 * `#includedir`/`@includedir` it names (relative paths against the including file's folder;
 * included folders skip names with a `.` or ending in `~` and are read in name order, as sudo does).
 */
export async function readSudoers(source: SudoersSource, path = '/etc/sudoers'): Promise<SudoersPolicy> {
  const policy: SudoersPolicy = { rules: [], userAliases: {}, files: [], warnings: [] };
  await readFile(source, path, policy, []);
  return policy;
}

async function readFile(source: SudoersSource, file: string, policy: SudoersPolicy, chain: string[]): Promise<void> {
  if (chain.includes(file)) {
    policy.warnings.push(`${file}: include loop via ${chain.join(' -> ')}`);
    return;
  }
  if (chain.length >= MAX_INCLUDE_DEPTH) {
    policy.warnings.push(`${file}: includes nested deeper than ${MAX_INCLUDE_DEPTH}`);
    return;
  }
  const text = await source.read(file);
  if (text === null) {
    if (chain.length > 0) policy.warnings.push(`${file}: included by ${chain.at(-1)} but not found`);
    return;
  }
  policy.files.push(file);
  const here = [...chain, file];
  for (const { line, text: raw } of logicalLines(text)) {
    const include = /^\s*[#@]include(dir)?\s+(?:"([^"]+)"|(\S+))\s*$/.exec(raw);
    if (include) {
      const target = posix.resolve(posix.dirname(file), include[2] ?? include[3]!);
      if (!include[1]) await readFile(source, target, policy, here);
      else {
        const names = await source.list(target);
        if (names === null) policy.warnings.push(`${target}: included by ${file} but not a folder`);
        for (const n of (names ?? []).filter((n) => !n.includes('.') && !n.endsWith('~')).sort()) await readFile(source, `${target}/${n}`, policy, here);
      }
      continue;
    }
    parseLine(stripComment(raw).trim(), file, line, policy);
  }
}

function parseLine(s: string, file: string, line: number, policy: SudoersPolicy): void {
  if (s === '' || /^Defaults(?:[:@>!]\S*)?(?:\s|$)/.test(s)) return;
  const alias = /^(User_Alias|Runas_Alias|Host_Alias|Cmnd_Alias|Cmd_Alias)\s+(.*)$/.exec(s);
  if (alias) {
    if (alias[1] !== 'User_Alias') return;
    // `A = x, y : B = z` defines two aliases; a ':' inside `%:group` is not a separator.
    for (const def of alias[2]!.split(/\s*:\s*(?=[A-Z][A-Z0-9_]*\s*=)/)) {
      const m = /^([A-Z][A-Z0-9_]*)\s*=\s*(.*)$/.exec(def.trim());
      if (!m) {
        policy.warnings.push(`${file}:${line}: cannot read User_Alias ${def}`);
        continue;
      }
      policy.userAliases[m[1]!] = userList(m[2]!).users;
    }
    return;
  }
  const { users, rest } = userList(s);
  if (users.length === 0 || !rest.includes('=')) {
    policy.warnings.push(`${file}:${line}: not a user specification: ${s}`);
    return;
  }
  // A rule with NOPASSWD for some commands and PASSWD for others counts as password-less: the
  // question a finding asks is whether any command runs as root without a password.
  policy.rules.push({ file, line, users, spec: rest, noPassword: /(?:^|[\s(),:=])NOPASSWD\s*:/.test(rest) });
}

/** Does one user-list item match the subject? undefined when it says nothing about it. */
function matchItem(item: string, who: SudoSubject, aliases: Record<string, string[]>, depth: number): boolean | undefined {
  if (item.startsWith('!')) {
    const m = matchItem(item.slice(1), who, aliases, depth);
    return m === undefined ? undefined : !m;
  }
  if (item === 'ALL') return true;
  if (/^[A-Z][A-Z0-9_]*$/.test(item) && aliases[item]) return depth > 8 ? undefined : matchList(aliases[item]!, who, aliases, depth + 1);
  if (item.startsWith('%:') || item.startsWith('+')) return undefined; // non-Unix groups and netgroups are resolved elsewhere
  if (item.startsWith('%#')) return who.groups.some((g) => String(g.gid) === item.slice(2)) || undefined;
  if (item.startsWith('%')) return who.groups.some((g) => g.name === item.slice(1)) || undefined;
  if (item.startsWith('#')) return String(who.uid) === item.slice(1) || undefined;
  return item === who.name || undefined;
}

/** sudoers list semantics: the last item that matches decides. */
function matchList(items: readonly string[], who: SudoSubject, aliases: Record<string, string[]>, depth: number): boolean | undefined {
  let result: boolean | undefined;
  for (const item of items) {
    const m = matchItem(item, who, aliases, depth);
    if (m !== undefined) result = m;
  }
  return result;
}

/**
 * Which rules let `who` run sudo: the user-list items through which it is granted (`alice`,
 * `%sudo`, `ADMINS`, `ALL`, …; sorted, no repeats) and whether any of them needs no password.
 */
export function sudoGrant(policy: SudoersPolicy, who: SudoSubject): { via: string[]; noPassword: boolean } {
  const via = new Set<string>();
  let noPassword = false;
  for (const rule of policy.rules) {
    if (matchList(rule.users, who, policy.userAliases, 0) !== true) continue;
    for (const item of rule.users) if (!item.startsWith('!') && matchItem(item, who, policy.userAliases, 0) === true) via.add(item);
    noPassword ||= rule.noPassword;
  }
  return { via: [...via].sort(), noPassword };
}

/** The groups sudoers grants (`%name` and `%#gid` items of every rule, aliases expanded, negated items left out). */
export function sudoGroups(policy: SudoersPolicy): string[] {
  const out = new Set<string>();
  const walk = (items: readonly string[], depth: number): void => {
    for (const item of items) {
      if (item.startsWith('!')) continue;
      if (/^[A-Z][A-Z0-9_]*$/.test(item) && policy.userAliases[item] && depth < 8) walk(policy.userAliases[item]!, depth + 1);
      else if (item.startsWith('%') && !item.startsWith('%:')) out.add(item);
    }
  };
  for (const rule of policy.rules) walk(rule.users, 0);
  return [...out].sort();
}

import type { Entry } from 'ldapts';
import { decodeGroupType, decodeSid, decodeUac, filetimeToIso, generalizedTimeToIso, type GroupScope, parseRange, type UacFlag, UAC_FLAGS } from './codec.ts';
import { all, type DirectoryConnection, first, firstBuffer } from './connection.ts';
import { resolvePrivileged } from './privileged.ts';

/** A user or computer account as the collector saw it. Times are ISO strings, null when unset. */
export interface DirectoryAccount {
  /** The string SID: the account's identity across renames and moves. */
  sid: string;
  dn: string;
  samAccountName: string;
  userPrincipalName: string | null;
  displayName: string | null;
  kind: 'user' | 'computer';
  userAccountControl: number;
  flags: UacFlag[];
  enabled: boolean;
  servicePrincipalNames: string[];
  /** 1 when AD's SDProp has protected the account as (once) privileged. */
  adminCount: number | null;
  /** Null when the password was never set or a change is forced (`pwdLastSet` 0). */
  pwdLastSet: string | null;
  /** `pwdLastSet` is 0: the user must change the password at next logon. */
  mustChangePassword: boolean;
  /** Replicated last logon, accurate to about 14 days (ms-DS-Logon-Time-Sync-Interval). */
  lastLogonTimestamp: string | null;
  whenCreated: string | null;
  /** Null when the account never expires. */
  accountExpires: string | null;
  /** Direct group memberships, as DNs (AD leaves the primary group out). */
  memberOf: string[];
  primaryGroupId: number | null;
}

/** A group and its direct members (DNs). */
export interface DirectoryGroup {
  sid: string;
  dn: string;
  samAccountName: string;
  groupType: number;
  scope: GroupScope;
  security: boolean;
  adminCount: number | null;
  members: string[];
}

/** An effective member of a privileged group. */
export interface PrivilegedMember {
  sid: string;
  dn: string;
  name: string;
  kind: 'user' | 'computer';
  /** The nested groups between the privileged group and the member; empty for a direct member. */
  via: string[];
  /** Member through `primaryGroupID` (invisible in `member`). */
  primaryGroup: boolean;
}

/** A privileged group with its effective (nested, primary-group) members. */
export interface PrivilegedGroup {
  /** `domain-admins`, `administrators`, … (see PRIVILEGED_GROUPS), or `extra:<sid>`. */
  key: string;
  sid: string;
  dn: string;
  name: string;
  tier: 0 | 1;
  members: PrivilegedMember[];
  /** Member DNs that are neither an account nor a group read by the collector (foreign principals, contacts). */
  unresolved: string[];
}

/** What one collection saw; JSON, sorted by SID, so equal directories give equal snapshots. */
export interface DirectorySnapshot {
  format: 1;
  takenAt: string;
  source: { url: string; searchBaseDn: string; dnsHostName: string | null; domainSid: string | null };
  accounts: DirectoryAccount[];
  groups: DirectoryGroup[];
  privileged: PrivilegedGroup[];
}

/** Counters of one collection, for logs and tests (not part of the snapshot). */
export interface CollectStats {
  accountPages: number;
  groupPages: number;
  /** Entries without a decodable objectSid (left out). */
  skipped: number;
  /** Follow-up reads of ranged `member` values. */
  memberRangeReads: number;
}

/** Options of one collection. */
export interface CollectOptions {
  /** The snapshot's time. @defaultValue now */
  now?: Date;
  /**
   * Ask for group members in ranges of this many values. AD itself answers in ranges above its
   * MaxValRange (1500) whatever is asked; the collector follows those either way.
   */
  memberRangeSize?: number;
}

const ACCOUNT_ATTRIBUTES = [
  'objectSid',
  'objectClass',
  'sAMAccountName',
  'userPrincipalName',
  'displayName',
  'userAccountControl',
  'servicePrincipalName',
  'adminCount',
  'pwdLastSet',
  'lastLogonTimestamp',
  'whenCreated',
  'accountExpires',
  'memberOf',
  'primaryGroupID',
];

const intOrNull = (v: string | undefined): number | null => (v !== undefined && /^-?\d+$/.test(v) ? Number(v) : null);
const bySid = <T extends { sid: string }>(a: T, b: T): number => a.sid.localeCompare(b.sid);

function toAccount(e: Entry): DirectoryAccount | null {
  const raw = firstBuffer(e.objectSid);
  const sid = raw ? decodeSid(raw) : null;
  if (!sid) return null;
  const uac = intOrNull(first(e.userAccountControl)) ?? 0;
  const pwdLastSetRaw = first(e.pwdLastSet);
  return {
    sid,
    dn: e.dn,
    samAccountName: first(e.sAMAccountName) ?? '',
    userPrincipalName: first(e.userPrincipalName) ?? null,
    displayName: first(e.displayName) ?? null,
    kind: all(e.objectClass).some((c) => c.toLowerCase() === 'computer') ? 'computer' : 'user',
    userAccountControl: uac,
    flags: decodeUac(uac),
    enabled: (uac & UAC_FLAGS.ACCOUNTDISABLE) === 0,
    servicePrincipalNames: all(e.servicePrincipalName).sort(),
    adminCount: intOrNull(first(e.adminCount)),
    pwdLastSet: filetimeToIso(pwdLastSetRaw),
    mustChangePassword: pwdLastSetRaw === '0',
    lastLogonTimestamp: filetimeToIso(first(e.lastLogonTimestamp)),
    whenCreated: generalizedTimeToIso(first(e.whenCreated)),
    accountExpires: filetimeToIso(first(e.accountExpires)),
    memberOf: all(e.memberOf).sort(),
    primaryGroupId: intOrNull(first(e.primaryGroupID)),
  };
}

/** Every `member` value of a group entry, reading the further ranges AD hands out in pieces. */
async function membersOf(conn: DirectoryConnection, e: Entry, rangeSize: number | undefined, stats: CollectStats): Promise<string[]> {
  const members = all(e.member);
  let entry: Entry = e;
  let asked = 0;
  for (;;) {
    let next: number | null = null;
    for (const [key, value] of Object.entries(entry)) {
      const range = parseRange(key);
      if (range?.attribute.toLowerCase() !== 'member') continue;
      const values = all(value);
      if (values.length === 0) continue;
      members.push(...values);
      if (range.end !== null) next = range.end + 1;
    }
    // A server that answers the same range again would loop us forever.
    if (next === null || next <= asked) return members;
    asked = next;
    const upper = rangeSize ? String(next + rangeSize - 1) : '*';
    stats.memberRangeReads++;
    const more = await conn.read(e.dn, [`member;range=${next}-${upper}`]);
    if (!more) return members;
    entry = more;
  }
}

/**
 * Reads users, computers and groups with paged searches and resolves privileged membership.
 * Throws the connection's catalogue errors (`STK_ERR_DIRECTORY_OPERATION`, `_UNREACHABLE`).
 */
export async function collectSnapshot(conn: DirectoryConnection, options: CollectOptions = {}): Promise<{ snapshot: DirectorySnapshot; stats: CollectStats }> {
  const takenAt = (options.now ?? new Date()).toISOString();
  const searchBaseDn = conn.config.searchBaseDn ?? conn.rootDse.defaultNamingContext;
  const stats: CollectStats = { accountPages: 0, groupPages: 0, skipped: 0, memberRangeReads: 0 };

  const domainEntry = await conn.read(conn.rootDse.defaultNamingContext, ['objectSid'], ['objectSid']);
  const domainSidRaw = firstBuffer(domainEntry?.objectSid);
  const domainSid = domainSidRaw ? decodeSid(domainSidRaw) : null;

  const users = await conn.search(searchBaseDn, { filter: '(objectClass=user)', attributes: ACCOUNT_ATTRIBUTES, binary: ['objectSid'] });
  stats.accountPages = users.pages;
  const accounts: DirectoryAccount[] = [];
  for (const e of users.entries) {
    const a = toAccount(e);
    if (a) accounts.push(a);
    else stats.skipped++;
  }

  const rangeSize = options.memberRangeSize;
  const memberAttribute = rangeSize ? `member;range=0-${rangeSize - 1}` : 'member';
  const found = await conn.search(searchBaseDn, {
    filter: '(objectClass=group)',
    attributes: ['objectSid', 'sAMAccountName', 'groupType', 'adminCount', memberAttribute],
    binary: ['objectSid'],
  });
  stats.groupPages = found.pages;
  const groups: DirectoryGroup[] = [];
  for (const e of found.entries) {
    const raw = firstBuffer(e.objectSid);
    const sid = raw ? decodeSid(raw) : null;
    if (!sid) {
      stats.skipped++;
      continue;
    }
    const groupType = intOrNull(first(e.groupType)) ?? 0;
    groups.push({
      sid,
      dn: e.dn,
      samAccountName: first(e.sAMAccountName) ?? '',
      groupType,
      ...decodeGroupType(groupType),
      adminCount: intOrNull(first(e.adminCount)),
      members: (await membersOf(conn, e, rangeSize, stats)).sort(),
    });
  }

  accounts.sort(bySid);
  groups.sort(bySid);
  const snapshot: DirectorySnapshot = {
    format: 1,
    takenAt,
    source: { url: conn.config.url, searchBaseDn, dnsHostName: conn.rootDse.dnsHostName, domainSid },
    accounts,
    groups,
    privileged: resolvePrivileged(accounts, groups, conn.config.extraPrivilegedGroups),
  };
  return { snapshot, stats };
}

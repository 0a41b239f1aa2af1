import { sidDomain, sidRid } from './codec.ts';
import type { DirectoryAccount, DirectoryGroup, PrivilegedGroup, PrivilegedMember } from './snapshot.ts';

/** How a privileged group is recognised: a well-known SID, a domain-relative RID, or (no fixed RID) a name. */
interface PrivilegedGroupDef {
  key: string;
  /** The English default name, for the snapshot when the directory's name differs (localised AD). */
  name: string;
  /** 0: owns the domain or forest outright; 1: can get there in a step or two. */
  tier: 0 | 1;
  sid?: string;
  rid?: number;
  samAccountName?: string;
}

/**
 * The groups whose members can take over the domain, by well-known SID or RID so that renamed or
 * localised groups are still found. DnsAdmins has no fixed RID (it is made with the DNS role), so
 * it is the one matched by name.
 */
export const PRIVILEGED_GROUPS: readonly PrivilegedGroupDef[] = [
  { key: 'domain-admins', name: 'Domain Admins', tier: 0, rid: 512 },
  { key: 'enterprise-admins', name: 'Enterprise Admins', tier: 0, rid: 519 },
  { key: 'schema-admins', name: 'Schema Admins', tier: 0, rid: 518 },
  { key: 'administrators', name: 'Administrators', tier: 0, sid: 'S-1-5-32-544' },
  { key: 'account-operators', name: 'Account Operators', tier: 1, sid: 'S-1-5-32-548' },
  { key: 'server-operators', name: 'Server Operators', tier: 1, sid: 'S-1-5-32-549' },
  { key: 'print-operators', name: 'Print Operators', tier: 1, sid: 'S-1-5-32-550' },
  { key: 'backup-operators', name: 'Backup Operators', tier: 1, sid: 'S-1-5-32-551' },
  { key: 'group-policy-creator-owners', name: 'Group Policy Creator Owners', tier: 1, rid: 520 },
  { key: 'dns-admins', name: 'DnsAdmins', tier: 1, samAccountName: 'dnsadmins' },
];

/** The definition a group matches, or an `extra` one from the configuration, or null. */
function classify(group: DirectoryGroup, extra: readonly string[]): PrivilegedGroupDef | null {
  for (const def of PRIVILEGED_GROUPS) {
    if (def.sid !== undefined && group.sid === def.sid) return def;
    // Domain-relative RIDs only count on domain SIDs (S-1-5-21-a-b-c-rid), never on builtin ones.
    if (def.rid !== undefined && sidDomain(group.sid) !== null && sidRid(group.sid) === def.rid) return def;
    if (def.samAccountName !== undefined && group.samAccountName.toLowerCase() === def.samAccountName) return def;
  }
  const wanted = extra.find((x) => x === group.sid || x.toLowerCase() === group.samAccountName.toLowerCase());
  return wanted ? { key: `extra:${group.sid}`, name: group.samAccountName, tier: 1 } : null;
}

const dnKey = (dn: string): string => dn.toLowerCase();

/**
 * Every privileged group with its effective members: nested groups are followed (each group once,
 * so a membership cycle ends), and an account whose `primaryGroupID` is a group's RID counts as a
 * member of it, as AD counts it, although AD leaves it out of `member`. A member is reported once
 * per privileged group, by its shortest path; `via` names the groups between (empty: direct).
 */
export function resolvePrivileged(accounts: readonly DirectoryAccount[], groups: readonly DirectoryGroup[], extra: readonly string[] = []): PrivilegedGroup[] {
  const groupsByDn = new Map(groups.map((g) => [dnKey(g.dn), g]));
  const accountsByDn = new Map(accounts.map((a) => [dnKey(a.dn), a]));
  const byPrimaryGroup = new Map<string, DirectoryAccount[]>();
  for (const a of accounts) {
    const domain = sidDomain(a.sid);
    if (a.primaryGroupId === null || domain === null) continue;
    const key = `${domain}-${a.primaryGroupId}`;
    byPrimaryGroup.set(key, [...(byPrimaryGroup.get(key) ?? []), a]);
  }

  const out: PrivilegedGroup[] = [];
  for (const group of groups) {
    const def = classify(group, extra);
    if (!def) continue;
    const members = new Map<string, PrivilegedMember>();
    const unresolved = new Set<string>();
    const seen = new Set<string>([dnKey(group.dn)]);
    const queue: Array<{ g: DirectoryGroup; via: string[] }> = [{ g: group, via: [] }];
    while (queue.length) {
      const { g, via } = queue.shift()!;
      const add = (a: DirectoryAccount, primaryGroup: boolean): void => {
        if (!members.has(a.sid)) members.set(a.sid, { sid: a.sid, dn: a.dn, name: a.samAccountName, kind: a.kind, via, primaryGroup });
      };
      for (const memberDn of g.members) {
        const key = dnKey(memberDn);
        const account = accountsByDn.get(key);
        const nested = groupsByDn.get(key);
        if (account) add(account, false);
        else if (nested) {
          if (!seen.has(key)) {
            seen.add(key);
            queue.push({ g: nested, via: [...via, nested.samAccountName] });
          }
        } else unresolved.add(memberDn);
      }
      for (const a of byPrimaryGroup.get(g.sid) ?? []) add(a, true);
    }
    out.push({
      key: def.key,
      sid: group.sid,
      dn: group.dn,
      name: group.samAccountName || def.name,
      tier: def.tier,
      members: [...members.values()].sort((a, b) => a.sid.localeCompare(b.sid)),
      unresolved: [...unresolved].sort(),
    });
  }
  return out.sort((a, b) => a.sid.localeCompare(b.sid));
}

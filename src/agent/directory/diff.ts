import { StkError } from '../../errors.ts';
import type { AccountChangeItem, AccountChangeKind } from '../../telemetry/types.ts';
import type { DirectoryAccount, DirectorySnapshot, PrivilegedGroup, PrivilegedMember } from './snapshot.ts';

/** What a directory `modified` item reports, in `details.what`. */
export type DirectoryModification = 'disabled' | 'enabled' | 'spn-added' | 'preauth-not-required' | 'password-never-expires';

function privilegedSids(snapshot: DirectorySnapshot): Set<string> {
  return new Set(snapshot.privileged.flatMap((g) => g.members.map((m) => m.sid)));
}

function memberIndex(groups: PrivilegedGroup[]): Map<string, { group: PrivilegedGroup; member: PrivilegedMember }> {
  const out = new Map<string, { group: PrivilegedGroup; member: PrivilegedMember }>();
  for (const group of groups) for (const member of group.members) out.set(`${group.sid}|${member.sid}`, { group, member });
  return out;
}

/**
 * The `account-change` items (`source: 'directory'`, `uid` null; the SID is in `details`) that
 * lead from `before` to `after`: accounts added and removed; accounts disabled, enabled, given an
 * SPN, relieved of Kerberos pre-authentication or of password expiry; and effective membership of
 * privileged groups gained or lost, nested and primary-group membership included. Accounts and
 * groups are matched by SID, so a rename is no change. Sorted by account, change, group.
 */
export function diffSnapshots(before: DirectorySnapshot, after: DirectorySnapshot): AccountChangeItem[] {
  if (before.format !== 1 || after.format !== 1) {
    throw new StkError('STK_ERR_VALIDATION', 'directory snapshots of an unknown format', { expected: 1, actual: [before.format, after.format] });
  }
  const out: AccountChangeItem[] = [];
  const privBefore = privilegedSids(before);
  const privAfter = privilegedSids(after);
  const item = (
    change: AccountChangeKind,
    a: Pick<DirectoryAccount, 'samAccountName' | 'sid' | 'dn'>,
    privileged: boolean,
    details: Record<string, unknown>,
    group: string | null = null,
  ): void => {
    out.push({
      kind: 'account-change',
      source: 'directory',
      change,
      account: a.samAccountName,
      uid: null,
      group,
      privileged,
      details: { sid: a.sid, dn: a.dn, ...details },
    });
  };

  const oldAccounts = new Map(before.accounts.map((a) => [a.sid, a]));
  const newAccounts = new Map(after.accounts.map((a) => [a.sid, a]));
  for (const [sid, a] of newAccounts) {
    const old = oldAccounts.get(sid);
    const privileged = privAfter.has(sid);
    if (!old) {
      item('added', a, privileged, { accountKind: a.kind, enabled: a.enabled, flags: a.flags });
      continue;
    }
    const uac = { before: old.userAccountControl, after: a.userAccountControl };
    const modified = (what: DirectoryModification, extra: Record<string, unknown> = {}): void =>
      item('modified', a, privileged, { what, userAccountControl: uac, ...extra });
    if (old.enabled && !a.enabled) modified('disabled');
    if (!old.enabled && a.enabled) modified('enabled');
    const newSpns = a.servicePrincipalNames.filter((s) => !old.servicePrincipalNames.includes(s));
    if (newSpns.length) modified('spn-added', { servicePrincipalNames: newSpns });
    if (!old.flags.includes('DONT_REQ_PREAUTH') && a.flags.includes('DONT_REQ_PREAUTH')) modified('preauth-not-required');
    if (!old.flags.includes('DONT_EXPIRE_PASSWORD') && a.flags.includes('DONT_EXPIRE_PASSWORD')) modified('password-never-expires');
  }
  for (const [sid, a] of oldAccounts) {
    if (!newAccounts.has(sid)) item('removed', a, privBefore.has(sid), { accountKind: a.kind });
  }

  const oldMembers = memberIndex(before.privileged);
  const newMembers = memberIndex(after.privileged);
  for (const [key, { group, member }] of newMembers) {
    if (oldMembers.has(key)) continue;
    const details = { groupSid: group.sid, groupKey: group.key, via: member.via, primaryGroup: member.primaryGroup };
    item('group-member-added', { samAccountName: member.name, sid: member.sid, dn: member.dn }, true, details, group.name);
  }
  for (const [key, { group, member }] of oldMembers) {
    if (newMembers.has(key)) continue;
    const details = { groupSid: group.sid, groupKey: group.key, via: member.via, primaryGroup: member.primaryGroup };
    item('group-member-removed', { samAccountName: member.name, sid: member.sid, dn: member.dn }, true, details, group.name);
  }

  const order = (c: AccountChangeItem): string => `${c.account}\u0000${c.change}\u0000${c.group ?? ''}\u0000${String(c.details.what ?? '')}`;
  return out.sort((x, y) => (order(x) < order(y) ? -1 : order(x) > order(y) ? 1 : 0));
}

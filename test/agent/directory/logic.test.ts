/**
 * Privileged-group resolution, findings and diff on hand-made snapshots: the cases a test DC
 * cannot easily show (a localised AD, a name spoof, an enabled krbtgt, renames).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  decodeUac,
  diffSnapshots,
  type DirectoryAccount,
  type DirectoryGroup,
  type DirectorySnapshot,
  directoryFindings,
  resolvePrivileged,
} from '../../../src/agent/directory/mod.ts';
import { throws } from '../../helpers/assert.ts';

const test = suite('directory findings, privileged groups and diff (pure)');

const DOMAIN = 'S-1-5-21-10-20-30';
const BASE = 'DC=corp,DC=example';
const NOW = new Date('2026-06-01T00:00:00.000Z');

function user(name: string, rid: number, o: Partial<DirectoryAccount> = {}): DirectoryAccount {
  const uac = o.userAccountControl ?? 0x200;
  return {
    sid: `${DOMAIN}-${rid}`,
    dn: `CN=${name},CN=Users,${BASE}`,
    samAccountName: name,
    userPrincipalName: null,
    displayName: null,
    kind: 'user',
    userAccountControl: uac,
    flags: decodeUac(uac),
    enabled: (uac & 2) === 0,
    servicePrincipalNames: [],
    adminCount: null,
    pwdLastSet: '2026-05-01T00:00:00.000Z',
    mustChangePassword: false,
    lastLogonTimestamp: '2026-05-30T00:00:00.000Z',
    whenCreated: '2025-01-01T00:00:00.000Z',
    accountExpires: null,
    memberOf: [],
    primaryGroupId: 513,
    ...o,
  };
}

function group(name: string, sid: string, members: string[]): DirectoryGroup {
  return { sid, dn: `CN=${name},CN=Users,${BASE}`, samAccountName: name, groupType: -2147483646, scope: 'global', security: true, adminCount: null, members };
}

function snapshot(accounts: DirectoryAccount[], groups: DirectoryGroup[]): DirectorySnapshot {
  return {
    format: 1,
    takenAt: NOW.toISOString(),
    source: { url: 'ldaps://dc', searchBaseDn: BASE, dnsHostName: null, domainSid: DOMAIN },
    accounts,
    groups,
    privileged: resolvePrivileged(accounts, groups),
  };
}

const dnOf = (name: string): string => `CN=${name},CN=Users,${BASE}`;

test('privileged groups are recognised by RID/SID, not by a name anyone can give a group', () => {
  const accounts = [user('anna', 1101), user('bert', 1102), user('carl', 1103)];
  const groups = [
    // A German AD: Domain Admins renamed, same RID.
    group('Domänen-Admins', `${DOMAIN}-512`, [dnOf('anna')]),
    // A group named like a privileged one but with an ordinary RID.
    group('Domain Admins', `${DOMAIN}-1200`, [dnOf('bert')]),
    // RID 512 under the builtin authority is not a domain group.
    group('Odd builtin', 'S-1-5-32-512', [dnOf('carl')]),
  ];
  const s = snapshot(accounts, groups);
  assert.equal(
    s.privileged.map((g) => [g.key, g.name, g.members.map((m) => m.name)]),
    [['domain-admins', 'Domänen-Admins', ['anna']]],
  );
  assert.equal(
    resolvePrivileged(accounts, groups, [`${DOMAIN}-1200`]).map((g) => g.key),
    [`extra:${DOMAIN}-1200`, `domain-admins`],
  );
});

test('nesting is followed through cycles, and foreign members are kept as unresolved', () => {
  const accounts = [user('dora', 1101)];
  const fsp = `CN=S-1-5-11,CN=ForeignSecurityPrincipals,${BASE}`;
  const groups = [
    group('Backup Operators', 'S-1-5-32-551', [dnOf('ring-a'), fsp]),
    group('ring-a', `${DOMAIN}-1300`, [dnOf('ring-b')]),
    group('ring-b', `${DOMAIN}-1301`, [dnOf('ring-a'), dnOf('dora')]),
  ];
  const [bo] = snapshot(accounts, groups).privileged;
  assert.equal(
    bo!.members.map((m) => [m.name, m.via]),
    [['dora', ['ring-a', 'ring-b']]],
  );
  assert.equal(bo!.unresolved, [fsp]);
});

test('krbtgt, computers and disabled accounts raise no roasting findings; never-logged-on old accounts are stale', () => {
  const accounts = [
    user('krbtgt', 502, { servicePrincipalNames: ['kadmin/changepw'] }),
    user('ws9$', 1401, { kind: 'computer', servicePrincipalNames: ['HOST/ws9'], userAccountControl: 0x1000 }),
    user('gone', 1402, { userAccountControl: 0x2 | 0x200 | 0x400000, servicePrincipalNames: ['HTTP/x'] }),
    user('ghost', 1403, { lastLogonTimestamp: null, whenCreated: '2025-12-01T00:00:00.000Z' }),
    user('newbie', 1404, { lastLogonTimestamp: null, whenCreated: '2026-05-20T00:00:00.000Z' }),
    user('edge', 1405, { lastLogonTimestamp: '2026-03-03T00:00:00.000Z' }),
  ];
  const findings = directoryFindings(snapshot(accounts, []), NOW);
  assert.equal(
    findings.map((f) => [f.details.account, f.details.kind]),
    [[`ghost`, 'stale-account']],
  );
  assert.match(findings[0]!.title, /never logged on \(created 182 days ago\)/);
  // 90 days before NOW is 2026-03-03T00:00Z: exactly on the line is not yet stale.
  assert.equal(
    directoryFindings(snapshot(accounts, []), new Date(NOW.getTime() + 1)).map((f) => f.details.account),
    ['ghost', 'edge'],
  );
});

test('a privileged account that is roastable gets critical findings', () => {
  const accounts = [user('svc-admin', 1101, { servicePrincipalNames: ['MSSQLSvc/db:1433'], userAccountControl: 0x200 | 0x400000 })];
  const findings = directoryFindings(snapshot(accounts, [group('Administrators', 'S-1-5-32-544', [dnOf('svc-admin')])]), NOW);
  assert.equal(findings.map((f) => [f.details.kind, f.severity]).sort(), [
    ['asrep-roastable', 'critical'],
    ['kerberoastable', 'critical'],
    ['privileged-member', 'high'],
  ]);
});

test('the diff matches by SID: a rename is no change, a deleted admin is removed and leaves the group', () => {
  const da = (members: string[]) => group('Domain Admins', `${DOMAIN}-512`, members);
  const before = snapshot([user('erin', 1101), user('finn', 1102)], [da([dnOf('finn')])]);
  const renamed = user('erin.renamed', 1101, { dn: dnOf('erin.renamed') });
  const after = snapshot([renamed], [da([])]);
  assert.equal(
    diffSnapshots(before, after).map((c) => [c.change, c.account, c.group, c.privileged]),
    [
      ['group-member-removed', 'finn', 'Domain Admins', true],
      ['removed', 'finn', null, true],
    ],
  );
  throws(() => diffSnapshots(before, { ...after, format: 2 as 1 }), 'STK_ERR_VALIDATION');
});

test.run();

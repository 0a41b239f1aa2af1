/**
 * The directory collector, its findings and its diff against a real Samba AD DC provisioned for
 * this file (test/helpers/samba.ts), with one account made for each case.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  collectDirectory,
  dateToFiletime,
  diffSnapshots,
  type DirectoryFinding,
  type DirectoryFindingKind,
  type DirectorySnapshot,
  directoryFindings,
  FINDING_KINDS,
} from '../../../src/agent/directory/mod.ts';
import { type SambaDc, startSambaDc } from '../../helpers/samba.ts';
import { configFor, createUser, DAY_MS, managedDn, MANAGED_OU, replaceLdif, seedBase, sidOf } from './seed.ts';

type Ctx = { dc: SambaDc; seededFrom: number; seededTo: number; staleAt: Date };
const test = suite<Ctx>('directory collector against a Samba AD DC');

const NORMAL = 0x200;
const DONT_EXPIRE_PASSWORD = 0x10000;
const DONT_REQ_PREAUTH = 0x400000;

test.before(async (ctx) => {
  ctx.dc = await startSambaDc();
  const dc = ctx.dc;
  ctx.seededFrom = Date.now();
  await seedBase(dc);
  const users = [
    'plain.user',
    'da.direct',
    'da.nested',
    'bo.member',
    'dns.member',
    'pg.admin',
    'loop.user',
    'svc.sql',
    'asrep.user',
    'noexp.tool',
    'noexp.raw',
    'stale.user',
    'stale.disabled',
    'disabled.admin',
    'late.admin',
    'chg.disable',
    'chg.enable',
    'chg.spn',
    'chg.preauth',
    'chg.noexp',
    'chg.remove',
    'chg.admin',
  ];
  for (const u of users) await createUser(dc, u);
  await dc.tool(['computer', 'create', 'ws01']);
  await dc.tool(['spn', 'add', 'HTTP/ws01.corp.stockade.test', 'ws01$']);

  // Nesting: tier0-ops ∈ Domain Admins; a cycle loop-a ∈ loop-b ∈ loop-a under Account Operators.
  for (const g of ['tier0-ops', 'loop-a', 'loop-b']) await dc.tool(['group', 'add', g, `--groupou=${MANAGED_OU}`]);
  // DnsAdmins comes with the DNS role (not provisioned here); made as the role makes it.
  await dc.tool(['group', 'add', 'DnsAdmins', '--group-scope=Domain']);
  await dc.tool(['group', 'addmembers', 'Domain Admins', 'da.direct,tier0-ops,pg.admin,disabled.admin,chg.admin']);
  await dc.tool(['group', 'addmembers', 'tier0-ops', 'da.nested']);
  await dc.tool(['group', 'addmembers', 'Backup Operators', 'bo.member']);
  await dc.tool(['group', 'addmembers', 'DnsAdmins', 'dns.member']);
  await dc.tool(['group', 'addmembers', 'Account Operators', 'loop-a']);
  await dc.tool(['group', 'addmembers', 'loop-a', 'loop-b']);
  await dc.tool(['group', 'addmembers', 'loop-b', 'loop-a,loop.user']);

  await dc.tool(['spn', 'add', 'MSSQLSvc/sql.corp.stockade.test:1433', 'svc.sql']);
  await dc.tool(['user', 'setexpiry', 'noexp.tool', '--noexpiry']);
  await dc.tool(['user', 'disable', 'stale.disabled']);
  await dc.tool(['user', 'disable', 'disabled.admin']);
  await dc.tool(['user', 'disable', 'chg.enable']);
  ctx.staleAt = new Date(Date.now() - 200 * DAY_MS);
  await dc.ldbmodify(
    [
      replaceLdif(managedDn(dc, 'asrep.user'), 'userAccountControl', String(NORMAL | DONT_REQ_PREAUTH)),
      replaceLdif(managedDn(dc, 'noexp.raw'), 'userAccountControl', String(NORMAL | DONT_EXPIRE_PASSWORD)),
      replaceLdif(managedDn(dc, 'stale.user'), 'lastLogonTimestamp', dateToFiletime(ctx.staleAt)),
      replaceLdif(managedDn(dc, 'stale.disabled'), 'lastLogonTimestamp', dateToFiletime(ctx.staleAt)),
      // AD drops a member from `member` when the group becomes its primary group.
      replaceLdif(managedDn(dc, 'pg.admin'), 'primaryGroupID', '512'),
    ].join('\n'),
  );
  ctx.seededTo = Date.now();
});

test.after(async (ctx) => {
  await ctx.dc?.stop();
});

const collect = async (dc: SambaDc, extra = {}): Promise<DirectorySnapshot> => (await collectDirectory(configFor(dc, extra))).snapshot;
const account = (s: DirectorySnapshot, name: string) => {
  const a = s.accounts.find((x) => x.samAccountName === name);
  if (!a) throw new Error(`no account ${name} in the snapshot`);
  return a;
};
const namesOf = (findings: DirectoryFinding[], kind: DirectoryFindingKind): string[] =>
  findings
    .filter((f) => f.details.kind === kind)
    .map((f) => f.details.account)
    .sort();

test('the collector sees the made users with their flags, SIDs and converted times', async ({ dc, seededFrom, seededTo, staleAt }) => {
  const s = await collect(dc);
  assert.is(s.format, 1);
  assert.is(s.source.searchBaseDn, dc.baseDn);
  assert.is(s.source.domainSid, (await sidOf(dc, 'Administrator')).replace(/-500$/, ''));

  for (const name of ['plain.user', 'asrep.user', 'stale.user']) assert.is(account(s, name).sid, await sidOf(dc, name), `SID of ${name}`);

  const plain = account(s, 'plain.user');
  assert.is(plain.dn, managedDn(dc, 'plain.user'));
  assert.is(plain.kind, 'user');
  assert.is(plain.userAccountControl, NORMAL);
  assert.equal(plain.flags, ['NORMAL_ACCOUNT']);
  assert.ok(plain.enabled);
  assert.is(plain.lastLogonTimestamp, null);
  assert.not.ok(plain.mustChangePassword);
  // Set by the DC when the account was made: FILETIME conversion off by a factor or an epoch lands far outside.
  const pwd = Date.parse(plain.pwdLastSet!);
  assert.ok(pwd >= seededFrom - 1000 && pwd <= seededTo + 1000, `pwdLastSet ${plain.pwdLastSet}`);
  const created = Date.parse(plain.whenCreated!);
  assert.ok(created >= Math.floor(seededFrom / 1000) * 1000 - 1000 && created <= seededTo + 1000, `whenCreated ${plain.whenCreated}`);
  assert.is(plain.accountExpires, null);

  assert.equal(account(s, 'asrep.user').flags, ['NORMAL_ACCOUNT', 'DONT_REQ_PREAUTH']);
  assert.equal(account(s, 'noexp.raw').flags, ['NORMAL_ACCOUNT', 'DONT_EXPIRE_PASSWORD']);
  assert.equal(account(s, 'noexp.tool').flags, ['NORMAL_ACCOUNT', 'DONT_EXPIRE_PASSWORD']);
  assert.equal(account(s, 'stale.disabled').flags, ['ACCOUNTDISABLE', 'NORMAL_ACCOUNT']);
  assert.not.ok(account(s, 'stale.disabled').enabled);
  assert.is(account(s, 'stale.user').lastLogonTimestamp, staleAt.toISOString());
  assert.equal(account(s, 'svc.sql').servicePrincipalNames, ['MSSQLSvc/sql.corp.stockade.test:1433']);
  assert.equal(account(s, 'da.direct').memberOf, [`CN=Domain Admins,CN=Users,${dc.baseDn}`]);
  assert.is(account(s, 'Administrator').adminCount, 1);
  assert.is(account(s, 'pg.admin').primaryGroupId, 512);

  const ws = account(s, 'ws01$');
  assert.is(ws.kind, 'computer');
  assert.ok(ws.flags.includes('WORKSTATION_TRUST_ACCOUNT'));
  assert.ok(ws.servicePrincipalNames.includes('HTTP/ws01.corp.stockade.test'));

  const group = s.groups.find((g) => g.samAccountName === 'tier0-ops')!;
  assert.equal(group.members, [managedDn(dc, 'da.nested')]);
  assert.is(group.scope, 'global');
  assert.ok(group.security);
  assert.is(s.groups.find((g) => g.sid === 'S-1-5-32-544')?.scope, 'domain-local');
});

test('privileged groups are found by SID and resolved through nesting, cycles and primary groups', async ({ dc }) => {
  const s = await collect(dc);
  const group = (key: string) => s.privileged.find((g) => g.key === key)!;
  const members = (key: string) => Object.fromEntries(group(key).members.map((m) => [m.name, m]));

  assert.equal(s.privileged.map((g) => g.key).sort(), [
    'account-operators',
    'administrators',
    'backup-operators',
    'dns-admins',
    'domain-admins',
    'enterprise-admins',
    'group-policy-creator-owners',
    'print-operators',
    'schema-admins',
    'server-operators',
  ]);
  const da = members('domain-admins');
  assert.equal(Object.keys(da).sort(), ['Administrator', 'chg.admin', 'da.direct', 'da.nested', 'disabled.admin', 'pg.admin']);
  assert.equal(da['da.nested']!.via, ['tier0-ops']);
  assert.equal(da['da.direct']!.via, []);
  assert.ok(da['pg.admin']!.primaryGroup, 'member through primaryGroupID only');
  assert.not.ok(s.groups.find((g) => g.sid.endsWith('-512'))!.members.includes(managedDn(dc, 'pg.admin')));

  const admins = members('administrators');
  assert.equal(admins['da.nested']!.via, ['Domain Admins', 'tier0-ops']);
  assert.equal(admins['pg.admin']!.via, ['Domain Admins']);
  assert.equal(members('account-operators')['loop.user']!.via, ['loop-a', 'loop-b']);
  assert.equal(Object.keys(members('backup-operators')), ['bo.member']);
  assert.equal(Object.keys(members('dns-admins')), ['dns.member']);
});

test('each finding kind names exactly the accounts made for it', async ({ dc }) => {
  const s = await collect(dc);
  const findings = directoryFindings(s, new Date());
  for (const f of findings) {
    assert.is(f.product, 'identity');
    assert.is(f.subject, `ad:${f.details.sid}:${f.details.kind}`);
    assert.ok(f.title.length > 0 && f.title.length <= 256);
  }
  assert.is(new Set(findings.map((f) => f.subject)).size, findings.length, 'subjects are unique');
  assert.equal(namesOf(findings, 'privileged-member'), [
    'Administrator',
    'bo.member',
    'chg.admin',
    'da.direct',
    'da.nested',
    'dns.member',
    'loop.user',
    'pg.admin',
  ]);
  assert.equal(namesOf(findings, 'disabled-privileged'), ['disabled.admin']);
  // dns-dc1 is Samba's own DNS service account (made by every provision): an enabled user with a DNS/ SPN.
  assert.equal(namesOf(findings, 'kerberoastable'), ['dns-dc1', 'svc.sql']);
  assert.equal(namesOf(findings, 'asrep-roastable'), ['asrep.user']);
  assert.equal(namesOf(findings, 'password-never-expires'), ['noexp.raw', 'noexp.tool']);
  assert.equal(namesOf(findings, 'stale-account'), ['stale.user']);
  assert.equal(new Set(findings.map((f) => f.details.kind)), new Set(FINDING_KINDS));

  const by = (name: string, kind: DirectoryFindingKind) => findings.find((f) => f.details.account === name && f.details.kind === kind)!;
  assert.is(by('da.direct', 'privileged-member').severity, 'high');
  assert.is(by('bo.member', 'privileged-member').severity, 'medium');
  assert.is(by('asrep.user', 'asrep-roastable').severity, 'high');
  assert.is(by('stale.user', 'stale-account').details.days, 200);

  // Same snapshot, same time: same findings; a longer threshold drops the stale one.
  const now = new Date();
  assert.equal(directoryFindings(s, now), directoryFindings(s, now));
  assert.equal(namesOf(directoryFindings(s, now, { staleAfterDays: 365 }), 'stale-account'), []);
});

test('adding a member to Domain Admins shows as that change, with the nested Administrators membership', async ({ dc }) => {
  const before = await collect(dc);
  await dc.tool(['group', 'addmembers', 'Domain Admins', 'late.admin']);
  const after = await collect(dc);
  const sid = await sidOf(dc, 'late.admin');
  const changes = diffSnapshots(before, after);
  assert.equal(
    changes.map((c) => [c.kind, c.source, c.change, c.account, c.group, c.privileged, c.uid, c.details.via, c.details.sid]),
    [
      ['account-change', 'directory', 'group-member-added', 'late.admin', 'Administrators', true, null, ['Domain Admins'], sid],
      ['account-change', 'directory', 'group-member-added', 'late.admin', 'Domain Admins', true, null, [], sid],
    ],
  );
  assert.equal(diffSnapshots(after, after), []);
});

test('the diff reports accounts added, removed, disabled, enabled, given an SPN, pre-auth and expiry relaxed, and demoted', async ({ dc }) => {
  const before = await collect(dc);
  await dc.tool(['user', 'disable', 'chg.disable']);
  await dc.tool(['user', 'enable', 'chg.enable']);
  await dc.tool(['spn', 'add', 'HTTP/app.corp.stockade.test', 'chg.spn']);
  await dc.ldbmodify(replaceLdif(managedDn(dc, 'chg.preauth'), 'userAccountControl', String(NORMAL | DONT_REQ_PREAUTH)));
  await dc.tool(['user', 'setexpiry', 'chg.noexp', '--noexpiry']);
  await dc.tool(['user', 'delete', 'chg.remove']);
  await createUser(dc, 'chg.new');
  await dc.tool(['group', 'removemembers', 'Domain Admins', 'chg.admin']);
  const after = await collect(dc);

  const got = diffSnapshots(before, after).map((c) => [c.change, c.account, c.group ?? c.details.what ?? null, c.privileged]);
  assert.equal(got, [
    ['group-member-removed', 'chg.admin', 'Administrators', true],
    ['group-member-removed', 'chg.admin', 'Domain Admins', true],
    ['modified', 'chg.disable', 'disabled', false],
    ['modified', 'chg.enable', 'enabled', false],
    ['added', 'chg.new', null, false],
    ['modified', 'chg.noexp', 'password-never-expires', false],
    ['modified', 'chg.preauth', 'preauth-not-required', false],
    ['removed', 'chg.remove', null, false],
    ['modified', 'chg.spn', 'spn-added', false],
  ]);
  const spn = diffSnapshots(before, after).find((c) => c.account === 'chg.spn')!;
  assert.equal(spn.details.servicePrincipalNames, ['HTTP/app.corp.stockade.test']);
});

test('paged searches with a small page size read every entry, over several pages', async ({ dc }) => {
  const whole = await collectDirectory(configFor(dc));
  const paged = await collectDirectory(configFor(dc, { pageSize: 2 }));
  assert.ok(paged.stats.accountPages >= Math.ceil(whole.snapshot.accounts.length / 2), `pages ${paged.stats.accountPages}`);
  assert.ok(paged.stats.groupPages > 1);
  assert.equal(
    paged.snapshot.accounts.map((a) => a.sid),
    whole.snapshot.accounts.map((a) => a.sid),
  );
  assert.equal(paged.snapshot.privileged, whole.snapshot.privileged);
});

test('ranged member values are followed to the end', async ({ dc }) => {
  const whole = await collectDirectory(configFor(dc));
  const ranged = await collectDirectory(configFor(dc), { memberRangeSize: 2 });
  assert.ok(ranged.stats.memberRangeReads > 0, 'Domain Admins has more than two members');
  assert.equal(ranged.snapshot.groups, whole.snapshot.groups);
});

test('StartTLS on the plain port gives the same snapshot as LDAPS', async ({ dc }) => {
  const ldaps = await collect(dc);
  const starttls = await collect(dc, { url: dc.ldapUrl, startTls: true });
  assert.equal(
    starttls.accounts.map((a) => [a.sid, a.userAccountControl]),
    ldaps.accounts.map((a) => [a.sid, a.userAccountControl]),
  );
});

test.run();

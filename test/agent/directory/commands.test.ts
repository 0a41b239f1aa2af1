/**
 * disable-account and reset-credentials, and the connection's refusals (bad password, untrusted
 * CA, wrong name, plain LDAP), against a real Samba AD DC provisioned for this file. The bind
 * account holds only the delegated rights README.md asks for.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { Client, type Entry } from 'ldapts';
import { readFile } from 'node:fs/promises';
import { collectDirectory, runDirectoryCommand } from '../../../src/agent/directory/mod.ts';
import { InstallCa } from '../../../src/pki/ca.ts';
import { rejects } from '../../helpers/assert.ts';
import { tempDir } from '../../helpers/nats.ts';
import { type SambaDc, startSambaDc } from '../../helpers/samba.ts';
import { CASE_PASSWORD, configFor, createUser, delegateCommands, managedDn, seedBase, sidOf } from './seed.ts';

type Ctx = { dc: SambaDc; tmp: { path: string; cleanup(): Promise<void> }; otherCaFile: string };
const test = suite<Ctx>('directory commands against a Samba AD DC');

test.before(async (ctx) => {
  ctx.tmp = await tempDir('stk-dir-');
  ctx.otherCaFile = join(ctx.tmp.path, 'other', 'ca.crt');
  await InstallCa.open(join(ctx.tmp.path, 'other'), { commonName: 'Not the DC CA' });
  ctx.dc = await startSambaDc();
  const dc = ctx.dc;
  await seedBase(dc);
  await delegateCommands(dc);
  for (const u of ['target.disable', 'target.bysid', 'target.reset', 'target.bydn', 'target.noexp', 'target.guarded', 'ro.user']) await createUser(dc, u);
  await dc.tool(['user', 'setexpiry', 'target.noexp', '--noexpiry']);
});

test.after(async (ctx) => {
  await ctx.dc?.stop();
  await ctx.tmp?.cleanup();
});

/** A fresh admin search of one entry: the command's claims are checked against the DC, not against its own read-back. */
async function fresh(dc: SambaDc, dn: string, attributes: string[]): Promise<Entry> {
  const admin = await dc.adminClient();
  try {
    const { searchEntries } = await admin.search(dn, { scope: 'base', attributes });
    return searchEntries[0]!;
  } finally {
    await admin.unbind();
  }
}

/** Binds as `dn` over LDAPS; resolves to null on success, else the server's diagnostic. */
async function bindAs(dc: SambaDc, dn: string, password: string): Promise<string | null> {
  const client = new Client({ url: dc.ldapsUrl, tlsOptions: { ca: await readFile(dc.caFile), servername: dc.hostName }, timeout: 60_000 });
  try {
    await client.bind(dn, password);
    return null;
  } catch (err) {
    return `${(err as { code?: number }).code}: ${(err as Error).message}`;
  } finally {
    await client.unbind().catch(() => {});
  }
}

test('disable-account sets ACCOUNTDISABLE: a fresh search shows it and the user can no longer bind', async ({ dc }) => {
  const dn = managedDn(dc, 'target.disable');
  assert.is(await bindAs(dc, dn, CASE_PASSWORD), null, 'binds before');
  const r = await runDirectoryCommand(configFor(dc), 'disable-account', { account: 'target.disable' });
  assert.is(r.outcome, 'succeeded', r.output);
  assert.equal(r.details.userAccountControl, { before: 0x200, after: 0x202 });
  assert.is(r.details.resultCode, 0);
  assert.match(r.output, /512 -> 514/);
  assert.is(Number((await fresh(dc, dn, ['userAccountControl'])).userAccountControl) & 0x2, 0x2);
  // AD's sub-code 533: account disabled.
  assert.match((await bindAs(dc, dn, CASE_PASSWORD)) ?? 'bound', /^49: .*data 533/);

  const again = await runDirectoryCommand(configFor(dc), 'disable-account', { account: 'target.disable' });
  assert.is(again.outcome, 'succeeded');
  assert.is(again.details.changed, false);
});

test('disable-account accepts a SID; reset-credentials accepts a DN', async ({ dc }) => {
  const sid = await sidOf(dc, 'target.bysid');
  const r = await runDirectoryCommand(configFor(dc), 'disable-account', { account: sid });
  assert.is(r.outcome, 'succeeded', r.output);
  assert.is(r.details.dn, managedDn(dc, 'target.bysid'));
  const dn = managedDn(dc, 'target.bydn');
  const reset = await runDirectoryCommand(configFor(dc), 'reset-credentials', { account: dn.toLowerCase() });
  assert.is(reset.outcome, 'succeeded', reset.output);
  assert.is((await fresh(dc, dn, ['pwdLastSet'])).pwdLastSet, '0');
});

test('reset-credentials sets pwdLastSet to 0: a fresh search shows it and a bind must change the password', async ({ dc }) => {
  const dn = managedDn(dc, 'target.reset');
  assert.is.not((await fresh(dc, dn, ['pwdLastSet'])).pwdLastSet, '0');
  const r = await runDirectoryCommand(configFor(dc), 'reset-credentials', { account: 'target.reset' });
  assert.is(r.outcome, 'succeeded', r.output);
  assert.is(r.details.pwdLastSet, '0');
  assert.is((await fresh(dc, dn, ['pwdLastSet'])).pwdLastSet, '0');
  // AD's sub-code 773: the user must reset the password.
  assert.match((await bindAs(dc, dn, CASE_PASSWORD)) ?? 'bound', /^49: .*data 773/);
});

test('reset-credentials reports that a never-expiring password defeats the forced change', async ({ dc }) => {
  const r = await runDirectoryCommand(configFor(dc), 'reset-credentials', { account: 'target.noexp' });
  assert.is(r.outcome, 'failed');
  assert.is(r.details.reason, 'password-never-expires');
  assert.is((await fresh(dc, managedDn(dc, 'target.noexp'), ['pwdLastSet'])).pwdLastSet, '0');
});

test('an unknown account, an account outside the base DN and a bad argument are refused and nothing changes', async ({ dc }) => {
  const unknown = await runDirectoryCommand(configFor(dc), 'disable-account', { account: 'nobody.here' });
  assert.is(unknown.outcome, 'failed');
  assert.is(unknown.details.reason, 'unknown-account');

  const adminDn = `CN=Administrator,CN=Users,${dc.baseDn}`;
  const before = (await fresh(dc, adminDn, ['userAccountControl', 'pwdLastSet'])) as Entry;
  for (const action of ['disable-account', 'reset-credentials']) {
    const outside = await runDirectoryCommand(configFor(dc), action, { account: 'Administrator' });
    assert.is(outside.outcome, 'failed');
    assert.is(outside.details.reason, 'outside-base-dn');
    assert.is(outside.details.dn, adminDn);
  }
  const after = await fresh(dc, adminDn, ['userAccountControl', 'pwdLastSet']);
  assert.equal([after.userAccountControl, after.pwdLastSet], [before.userAccountControl, before.pwdLastSet]);

  // A filter metacharacter is a value, not syntax: no account is named `*`.
  const star = await runDirectoryCommand(configFor(dc), 'disable-account', { account: '*' });
  assert.is(star.details.reason, 'unknown-account');
  assert.is((await runDirectoryCommand(configFor(dc), 'disable-account', {})).details.reason, 'invalid-account');
  assert.is((await runDirectoryCommand(configFor(dc), 'disable-account', { account: 'a\nb' })).details.reason, 'invalid-account');
  assert.is((await runDirectoryCommand(configFor(dc), 'wipe-domain', { account: 'target.guarded' })).details.reason, 'unknown-action');
  const noBase = await runDirectoryCommand(configFor(dc, { actionBaseDn: '' }), 'disable-account', { account: 'target.guarded' });
  assert.is(noBase.details.reason, 'no-action-base');
  assert.is(Number((await fresh(dc, managedDn(dc, 'target.guarded'), ['userAccountControl'])).userAccountControl), 0x200);
});

test("the directory's own refusal comes back with its result code when the bind account lacks the right", async ({ dc }) => {
  const config = configFor(dc, { bindDn: managedDn(dc, 'ro.user'), bindPassword: CASE_PASSWORD });
  const r = await runDirectoryCommand(config, 'disable-account', { account: 'target.guarded' });
  assert.is(r.outcome, 'failed');
  assert.is(r.details.reason, 'directory-refused');
  assert.is(r.details.resultCode, 50);
  assert.is(r.details.resultName, 'insufficientAccessRights');
  assert.match(String(r.details.diagnostic), /write property access/);
  assert.match(r.output, /insufficientAccessRights \(50\)/);
  assert.is(Number((await fresh(dc, managedDn(dc, 'target.guarded'), ['userAccountControl'])).userAccountControl), 0x200);
});

test('a wrong bind password is refused with the AD reason', async ({ dc }) => {
  const err = await rejects(collectDirectory(configFor(dc, { bindPassword: 'Wrong-Passw0rd!' })), 'STK_ERR_DIRECTORY_BIND');
  assert.is(err.data.resultCode, 49);
  assert.is(err.data.reason, 'invalid-credentials');
  assert.not.match(JSON.stringify(err.toJSON()), /Wrong-Passw0rd/);
  const r = await runDirectoryCommand(configFor(dc, { bindPassword: 'Wrong-Passw0rd!' }), 'disable-account', { account: 'target.guarded' });
  assert.is(r.outcome, 'failed');
  assert.is((r.details.error as { code: string }).code, 'STK_ERR_DIRECTORY_BIND');
});

test('a certificate from another CA is refused, over LDAPS and over StartTLS', async ({ dc, otherCaFile }) => {
  const ldaps = await rejects(collectDirectory(configFor(dc, { caFile: otherCaFile })), 'STK_ERR_DIRECTORY_TLS');
  assert.match(String(ldaps.data.reason), /UNABLE_TO_VERIFY|SELF_SIGNED|CERT/);
  await rejects(collectDirectory(configFor(dc, { caFile: otherCaFile, url: dc.ldapUrl, startTls: true })), 'STK_ERR_DIRECTORY_TLS');
});

test('a certificate that does not name the server is refused', async ({ dc }) => {
  const { tlsServerName: _, ...byAddress } = configFor(dc);
  const err = await rejects(collectDirectory(byAddress), 'STK_ERR_DIRECTORY_TLS');
  assert.is(err.data.reason, 'ERR_TLS_CERT_ALTNAME_INVALID');
  await rejects(collectDirectory(configFor(dc, { tlsServerName: 'other.corp.stockade.test' })), 'STK_ERR_DIRECTORY_TLS');
});

test('plain LDAP without StartTLS is refused before any password is sent', async ({ dc }) => {
  const err = await rejects(collectDirectory(configFor(dc, { url: dc.ldapUrl })), 'STK_ERR_DIRECTORY_INSECURE');
  assert.is(err.data.url, dc.ldapUrl);
  await rejects(collectDirectory(configFor(dc, { url: `ldap://${dc.address}:389`, startTls: false })), 'STK_ERR_DIRECTORY_INSECURE');
});

test('a port where no directory listens is unreachable', async ({ dc }) => {
  await rejects(collectDirectory(configFor(dc, { url: `ldaps://${dc.address}:1636` })), 'STK_ERR_DIRECTORY_UNREACHABLE');
});

test.run();

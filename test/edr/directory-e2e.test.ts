/**
 * The identity product against a real Samba AD DC, through the whole path: an operator gives one
 * agent its directory settings (the bind password stays in a file on the agent's host), the agent
 * collects the directory into identities, privileged groups and findings, and the operator's
 * disable-account and reset-credentials go API → ingress → agent → directory and come back with
 * the directory's answer; a fresh search of the DC confirms them.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type SambaDc, startSambaDc } from '../helpers/samba.ts';
import { CASE_PASSWORD, createUser, delegateCommands, MANAGED_OU, managedDn, SVC_NAME, SVC_PASSWORD, seedBase } from '../agent/directory/seed.ts';
import { completed, dispatch, type EdrStack, edrStack, type Proc, startStockade, until } from './fixture.ts';

const test = suite('identity: Active Directory through the whole path');
let dc: SambaDc;
let s: EdrStack;
let agent: Proc | null = null;
let agentId: string;

test.before(async () => {
  dc = await startSambaDc();
  try {
    await seedBase(dc);
    await delegateCommands(dc);
    for (const u of ['dir.disable', 'dir.reset', 'dir.roast']) await createUser(dc, u);
    await dc.tool(['spn', 'add', 'HTTP/roast.corp.stockade.test', 'dir.roast']);
    await dc.tool(['group', 'addmembers', 'Domain Admins', 'dir.roast']);
    s = await edrStack({ host: '127.0.0.1', products: ['identity'] });
    await s.admin('PUT', '/agent-config', { configIntervalMs: 1000, heartbeatIntervalMs: 2000, commandPollMs: 300, localAccounts: { intervalMs: 60_000 } });
    let dir: string;
    ({ dir, agentId } = await s.enrollAgent('dc-agent'));
    await writeFile(join(dir, 'directory.password'), `${SVC_PASSWORD}\n`, { mode: 0o600 });
    const own = await s.admin('PUT', `/agents/${agentId}/config`, {
      directory: {
        intervalMs: 5000,
        url: dc.ldapsUrl,
        caPem: await readFile(dc.caFile, 'utf8'),
        tlsServerName: dc.hostName,
        bindDn: `CN=${SVC_NAME},CN=Users,${dc.baseDn}`,
        actionBaseDn: `${MANAGED_OU},${dc.baseDn}`,
      },
    });
    if (own.status !== 200) throw new Error(JSON.stringify(own.body));
    agent = startStockade(['agent', 'run', '--dir', dir, '--host-root', await s.hostRoot('dc')]);
    await agent.waitFor(/"agent running"/);
  } catch (err) {
    await s?.close();
    await dc.stop();
    throw err;
  }
});
test.after(async () => {
  await agent?.kill();
  await s?.close();
  await dc?.stop();
});

async function uac(dn: string): Promise<{ uac: number; pwdLastSet: string }> {
  const admin = await dc.adminClient();
  try {
    const e = (await admin.search(dn, { scope: 'base', attributes: ['userAccountControl', 'pwdLastSet'] })).searchEntries[0]!;
    return { uac: Number(e.userAccountControl), pwdLastSet: String(e.pwdLastSet) };
  } finally {
    await admin.unbind();
  }
}

test('the directory is collected: accounts, privileged groups, and findings linked to the account', async () => {
  await agent!.waitFor(/"collected".*"directory"/, { timeoutMs: 120_000 });
  const roast = await until('dir.roast in identities', async () => (await s.api('GET', `/identities?agentId=${agentId}&account=dir.roast`)).body.items?.[0]);
  assert.equal([roast.source, roast.privileged, roast.privilegedGroups.includes('Domain Admins')], ['directory', true, true]);
  assert.match(roast.sid, /^S-1-5-21-/);
  const view = await until('findings linked to dir.roast', async () => {
    const v = (await s.api('GET', `/identities/${roast.id}`)).body;
    return v.findings?.some((f: any) => f.details.kind === 'kerberoastable') ? v : null;
  });
  const kinds = view.findings.map((f: any) => f.details.kind).sort();
  assert.ok(kinds.includes('kerberoastable') && kinds.includes('privileged-member'), kinds.join(','));
  assert.ok(view.findings.every((f: any) => f.subject.startsWith(`ad:${roast.sid}:`)));
  const groups = (await s.api('GET', `/identity-groups?agentId=${agentId}&privileged=true`)).body.items;
  assert.ok(groups.some((g: any) => g.group === 'Domain Admins' && g.members.includes('dir.roast')));
});

test('disable-account: operator → API → ingress → agent → directory, with the directory answer; the change comes back as telemetry', async () => {
  const dn = managedDn(dc, 'dir.disable');
  assert.is((await uac(dn)).uac & 0x2, 0);
  const r = await completed(s, await dispatch(s, agentId, 'disable-account', { account: 'dir.disable' }), 120_000);
  assert.is(r.outcome, 'succeeded', r.output);
  assert.match(r.output, /512 -> 514/);
  assert.is((await uac(dn)).uac & 0x2, 0x2, 'a fresh search of the DC shows the account disabled');
  const changed = await until(
    'the disable seen by the collector',
    async () => {
      const v = (await s.api('GET', `/identity-changes?agentId=${agentId}&account=dir.disable&change=modified`)).body.items;
      return v?.find((c: any) => c.details.what === 'disabled');
    },
    120_000,
  );
  assert.is(changed.source, 'directory');
});

test('reset-credentials forces a change at next logon; an account outside the action base is refused by the agent with the reason', async () => {
  const dn = managedDn(dc, 'dir.reset');
  const r = await completed(s, await dispatch(s, agentId, 'reset-credentials', { account: 'dir.reset' }), 120_000);
  assert.is(r.outcome, 'succeeded', r.output);
  assert.is((await uac(dn)).pwdLastSet, '0');
  const outside = await completed(s, await dispatch(s, agentId, 'disable-account', { account: 'Administrator' }), 120_000);
  assert.is(outside.outcome, 'failed');
  assert.match(outside.output, /outside-base-dn/);
  void CASE_PASSWORD;
});

test.run();

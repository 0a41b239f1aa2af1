import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { pageSpec } from '../../src/dashboard/page-list.ts';
import { TELEMETRY_ITEM_ID_PATTERN } from '../../src/telemetry/ids.ts';
import { createHash } from 'node:crypto';
import { readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { AgentClient, saveAgentState } from '../../src/agent/client.ts';
import { copySleep, startChild, writeTree, type Child } from '../agent/fixture.ts';
import { GROUP, PASSWD, SHADOW, SUDOERS } from '../agent/identity-fixture.ts';
import { makeNetns, type Netns, type Proc, startStockade } from '../edr/fixture.ts';
import { tempDir } from '../helpers/nats.ts';
import { browserFixture, isolatedContext } from './browser.ts';
import { apiCall, stockadeFixture } from './stack.ts';
import { auditPages, confirmDialog, ready, screenshot, SLOW_MS, settled, signIn } from './ui.ts';

/**
 * The EDR and identity pages in a real browser, over data made the real way: `stockade agent run`
 * runs in a network namespace the test made (its ingress on the machine's side of the veth pair),
 * with a prepared host root, and reports processes, connections and accounts through the mTLS
 * ingress. Isolation really cuts the namespace off (nftables inside it); evidence is a file of the
 * prepared root that the agent uploads; account commands run usermod on that root.
 */
const test = suite('dashboard: EDR and identity pages against a real agent');

type Stack = Awaited<ReturnType<typeof stockadeFixture>>;
type Browser = Awaited<ReturnType<typeof browserFixture>>;
let ns: Netns;
let stack: Stack;
let browser: Browser;
let page: Page;
let dir: { path: string; cleanup(): Promise<void> };
let agent: Proc | null = null;
let sleeper: Child | null = null;
let sleeperSha = '';
let agentId = '';
let root = '';
const T = 'acme';
const HOST = 'acme-web-01';
const violations: string[] = [];

const api = (method: string, path: string, body?: unknown) => apiCall(stack.base, stack.adminKey, method, `/tenants/${T}${path}`, body);

test.before(async () => {
  ns = await makeNetns('ui');
  try {
    dir = await tempDir('stk-ui-edr-');
    stack = await stockadeFixture({ ingressHost: ns.hostAddress });
    const created = await apiCall(stack.base, stack.adminKey, 'POST', '/tenants', { id: T, name: 'Acme Corp' });
    assert.is(created.status, 201);
    for (const p of ['edr', 'identity']) assert.is((await api('PUT', `/products/${p}`, { enabled: true })).status, 200);
    // Short intervals, each longer than the config period (a config refresh must not keep putting the collectors off).
    const cfg = await api('PUT', '/agent-config', {
      configIntervalMs: 500,
      heartbeatIntervalMs: 1000,
      commandPollMs: 300,
      processes: { intervalMs: 700 },
      connections: { intervalMs: 700 },
      localAccounts: { intervalMs: 1000 },
    });
    assert.is(cfg.status, 200, JSON.stringify(cfg.body));
    const client = await AgentClient.enroll({
      url: stack.stk.ingressUrl!,
      caPem: await stack.caPem(),
      secret: created.body.enrollSecret,
      hostname: HOST,
      os: 'linux 6.1',
      agentVersion: '1.0.0',
    });
    agentId = client.agentId;
    client.close();
    await saveAgentState(join(dir.path, 'agent'), client.state);
    root = join(dir.path, 'root');
    await writeTree(root, {
      'etc/passwd': PASSWD,
      'etc/shadow': SHADOW,
      'etc/group': GROUP,
      'etc/sudoers': SUDOERS,
      'etc/sudoers.d/.keep': '',
      'var/log/app.log': 'Nov 30 05:12:01 acme-web-01 app[812]: login failed for admin from 203.0.113.9\n',
    });
    // The collectors read the machine's processes (read only); the rest of the root is the test's.
    await symlink('/proc', join(root, 'proc'));
    agent = startStockade(['agent', 'run', '--dir', join(dir.path, 'agent'), '--host-root', root], { netns: ns.name });
    await agent.waitFor(/"agent running"/);
    sleeperSha = await copySleep(join(dir.path, 'bin', 'stk-ui-sleeper'));
    sleeper = await startChild(join(dir.path, 'bin', 'stk-ui-sleeper'), ['900']);
    browser = await browserFixture();
    page = browser.context.pages()[0] ?? (await browser.newPage());
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
    });
    page.on('pageerror', (err) => violations.push(`uncaught: ${err.message}`));
    await signIn(stack, page, stack.adminKey);
  } catch (err) {
    console.error('EDR dashboard suite could not start:', err);
    throw err;
  }
});

test.after(async () => {
  await sleeper?.stop();
  await agent?.kill();
  await browser?.close();
  await stack?.close();
  await dir?.cleanup();
  await ns?.remove();
});

test('processes per host: searched by name, executable hash and user, live; a row links to the proof of its item, checked in the browser', async () => {
  await page.goto(`${stack.base}/ui/t/${T}/processes?agentId=${agentId}&name=stk-ui-sleeper`);
  await ready(page, 'processes');
  // The page was drawn before the agent's next scan: the row arrives live.
  const row = page.locator('[data-table="processes"] tbody tr', { hasText: `pid ${sleeper!.pid}` });
  await row.waitFor({ timeout: SLOW_MS });
  assert.ok((await row.innerText()).includes(HOST), 'the host by its name');
  assert.ok((await row.innerText()).includes(join(dir.path, 'bin', 'stk-ui-sleeper')));
  // By hash: every process of this executable, whoever ran it.
  await row.locator(`a[title="Everything with SHA-256 ${sleeperSha}"]`).click();
  await page.waitForURL(new RegExp(`sha256=${sleeperSha}$`));
  await ready(page, 'processes');
  await page.locator('[data-table="processes"] tbody tr', { hasText: `pid ${sleeper!.pid}` }).waitFor({ timeout: SLOW_MS });
  assert.is(await page.locator('#filter-processes-sha256').inputValue(), sleeperSha);
  // By user: the filter is in the address, so a reload shows the same list.
  await page.goto(`${stack.base}/ui/t/${T}/processes?agentId=${agentId}&user=root&name=stk-ui-sleeper`);
  await ready(page, 'processes');
  await page.locator('[data-table="processes"] tbody tr', { hasText: `pid ${sleeper!.pid}` }).waitFor({ timeout: SLOW_MS });
  await screenshot(page, 'processes');
  // A user who ran nothing: an empty list that says so.
  await page.locator('#filter-processes-user').fill('nobody-ran-this');
  await page.locator('#filter-processes-user').press('Enter');
  await page.getByText('No process matches.').waitFor();

  await page.goBack();
  await ready(page, 'processes');
  const again = page.locator('[data-table="processes"] tbody tr', { hasText: `pid ${sleeper!.pid}` });
  await again.waitFor({ timeout: SLOW_MS });
  // An item is named by its batch and index, never by its place in the stream all customers share.
  const itemId = (await again.locator('[data-proof-link]').getAttribute('data-proof-link'))!;
  assert.match(itemId, new RegExp(TELEMETRY_ITEM_ID_PATTERN));
  assert.is(pageSpec('tenant', 'telemetry')?.detailId?.source, TELEMETRY_ITEM_ID_PATTERN, 'the page address takes what the API names');
  await again.locator('[data-proof-link]').click();
  await page.waitForURL((url) => decodeURIComponent(url.pathname).endsWith(`/telemetry/${itemId}`));
  await ready(page, 'telemetry');
  await page.locator('[data-proof="verified"]').waitFor({ timeout: SLOW_MS });
  // The proof the page checked is the API's, for this very item.
  const proof = (await api('GET', `/telemetry/items/${encodeURIComponent(itemId)}/proof`)).body;
  assert.is(proof.item.pid, sleeper!.pid);
  assert.ok((await page.locator('main').innerText()).includes(proof.merkleRoot));
  await screenshot(page, 'process-proof');

  // The process's own page: every field, the kill and collect actions, the proof again.
  await page.goto(`${stack.base}/ui/t/${T}/processes?agentId=${agentId}&name=stk-ui-sleeper`);
  await ready(page, 'processes');
  await page.getByRole('link', { name: 'stk-ui-sleeper', exact: true }).first().click();
  await ready(page, 'processes');
  await page.getByRole('heading', { name: /stk-ui-sleeper/ }).waitFor();
  assert.ok(await page.getByRole('button', { name: 'Kill process' }).isVisible());
  await page.locator('[data-proof="verified"]').waitFor({ timeout: SLOW_MS });
});

test("connections: the agent's own connection to the ingress, with its process", async () => {
  await page.goto(`${stack.base}/ui/t/${T}/connections?agentId=${agentId}&remoteAddress=${ns.hostAddress}`);
  await ready(page, 'connections');
  const row = page.locator('[data-table="connections"] tbody tr', { hasText: 'ESTABLISHED' }).first();
  await row.waitFor({ timeout: SLOW_MS });
  const port = new URL(stack.stk.ingressUrl!).port;
  assert.ok((await row.innerText()).includes(`${ns.hostAddress}:${port}`), await row.innerText());
  await screenshot(page, 'connections');
});

test('isolation from the agents list: the namespace is really cut off, the list and the agent page show it live; release from the agent page', async () => {
  await page.goto(`${stack.base}/ui/t/${T}/agents`);
  await ready(page, 'agents');
  const row = page.locator(`tr[data-id="${agentId}"]`);
  await row.locator('[data-network="not-isolated"]').waitFor();
  await row.getByRole('button', { name: 'Isolate' }).click();
  await page.getByLabel('Reason', { exact: true }).fill('beaconing to 203.0.113.9');
  await confirmDialog(page, 'Isolate host');
  await row.locator('[data-network="isolated"]').waitFor({ timeout: SLOW_MS });
  assert.match(await ns.exec('nft', ['list', 'tables']), /table inet stockade_isolation/);
  const host = (await api('GET', `/hosts/${agentId}`)).body;
  assert.is(host.isolation, 'isolated');

  await row.getByRole('link', { name: HOST }).click();
  await ready(page, 'agents');
  await page.locator('.host-state[data-isolation="isolated"]').waitFor();
  assert.ok((await page.locator('#host').innerText()).includes('only the Stockade ingress is reachable'));
  await screenshot(page, 'agent-isolated');
  await page.locator('#host').getByRole('button', { name: 'Release' }).click();
  await confirmDialog(page, 'Release host');
  await page.locator('.host-state[data-isolation="not-isolated"]').waitFor({ timeout: SLOW_MS });
  assert.not.match(await ns.exec('nft', ['list', 'tables']), /stockade_isolation/);
});

test('evidence: collected through the command form, downloaded from its page (the bytes match the sealed SHA-256), the download is in the custody trail live', async () => {
  const bytes = await readFile(join(root, 'var/log/app.log'));
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  await page.goto(`${stack.base}/ui/t/${T}/agents/${agentId}`);
  await ready(page, 'agents');
  await page.getByLabel('Command', { exact: true }).selectOption('collect-evidence');
  await page.getByLabel('File on the host', { exact: true }).fill('/var/log/app.log');
  await page.getByRole('button', { name: 'Dispatch' }).click();
  await page
    .locator('[data-table="commands"] tr', { hasText: 'uploaded as evidence' })
    .waitFor({ timeout: SLOW_MS })
    .catch(async (err) => {
      console.log(JSON.stringify((await api('GET', `/commands?agentId=${agentId}`)).body.items, null, 1));
      console.log(await page.locator('main').innerText());
      throw err;
    });

  await page.goto(`${stack.base}/ui/t/${T}/evidence`);
  await ready(page, 'evidence');
  await page.getByRole('link', { name: '/var/log/app.log' }).click();
  await ready(page, 'evidence');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download app.log' }).click()]);
  assert.is(download.suggestedFilename(), 'app.log');
  const got = await readFile((await download.path())!);
  assert.is(createHash('sha256').update(got).digest('hex'), sha256);
  await page.locator('[data-table="custody"] tr', { hasText: 'downloaded' }).waitFor({ timeout: SLOW_MS });
  assert.ok((await page.locator('main dl.kv').innerText()).includes('downloaded 1 time(s)'));
  await screenshot(page, 'evidence-download');
});

test('identities: accounts with risky flags and privileged groups, the findings linked to the account, its history; lock an account and see the change come back', async () => {
  await page.goto(`${stack.base}/ui/t/${T}/identities?account=toor`);
  await ready(page, 'identities');
  const row = page.locator('[data-table="identities"] tbody tr', { hasText: 'toor' });
  await row.waitFor({ timeout: SLOW_MS });
  assert.ok((await row.innerText()).includes('extra-uid-0'));
  await page.locator('#filter-identities-account').fill('');
  await page.locator('#filter-identities-account').press('Enter');
  await page.locator('[data-table="identities"] tbody tr', { hasText: 'alice' }).first().waitFor();
  await screenshot(page, 'identities');

  await page.goto(`${stack.base}/ui/t/${T}/identities?account=toor`);
  await ready(page, 'identities');
  await page.getByRole('link', { name: 'toor', exact: true }).click();
  await ready(page, 'identities');
  await page.locator('[data-table="identity-findings"] tr', { hasText: 'local:toor:extra-uid-0' }).waitFor({ timeout: SLOW_MS });
  await page.locator('[data-table="identity-history"] tr', { hasText: 'added (first collection)' }).waitFor();
  await screenshot(page, 'identity');

  await page.goto(`${stack.base}/ui/t/${T}/identities?view=groups&agentId=${agentId}`);
  await ready(page, 'identities');
  await page.locator('[data-table="identity-groups"] tr', { hasText: 'sudo' }).getByRole('link', { name: 'alice' }).waitFor({ timeout: SLOW_MS });

  // Lock frank: usermod on the prepared root, and the change comes back as telemetry into his history.
  await page.goto(`${stack.base}/ui/t/${T}/identities?account=frank&source=local`);
  await ready(page, 'identities');
  await page.getByRole('link', { name: 'frank', exact: true }).click();
  await ready(page, 'identities');
  await page.getByRole('button', { name: 'Lock', exact: true }).click();
  await page.getByLabel('Reason', { exact: true }).fill('left the company');
  await confirmDialog(page, 'Lock');
  await page.locator('[data-table="identity-history"] tr', { hasText: 'modified: password' }).waitFor({ timeout: SLOW_MS });
  const shadow = (await readFile(join(root, 'etc/shadow'), 'utf8')).split('\n').find((l) => l.startsWith('frank:'))!;
  assert.ok(shadow.split(':')[1]!.startsWith('!'), shadow);
  const commands = (await api('GET', `/commands?agentId=${agentId}`)).body.items.filter((c: { action: string }) => c.action === 'lock-account');
  assert.equal(
    commands.map((c: { args: unknown; outcome: string }) => [c.args, c.outcome]),
    [[{ account: 'frank', reason: 'left the company' }, 'succeeded']],
  );
});

test("collection settings: the customer's, and one agent's own over them, saved from the pages", async () => {
  await page.goto(`${stack.base}/ui/t/${T}/collection`);
  await ready(page, 'collection');
  const field = page.getByLabel('Look for new connections every (ms)', { exact: true });
  assert.is(await field.inputValue(), '700');
  await field.fill('1500');
  await page.getByRole('button', { name: 'Save collection settings' }).click();
  await page.getByText('Collection settings saved').waitFor();
  const tenant = (await api('GET', '/agent-config')).body;
  // The form replaces the customer's settings whole: what it did not touch stays as it was.
  assert.equal([tenant.settings.connections, tenant.settings.configIntervalMs, tenant.settings.processes], [{ intervalMs: 1500 }, 500, { intervalMs: 700 }]);
  await screenshot(page, 'collection');

  await page.goto(`${stack.base}/ui/t/${T}/agents/${agentId}`);
  await ready(page, 'agents');
  await page.getByText('Give this agent its own settings').click();
  await page.locator('#agent-cfg-commandPollMs').fill('250');
  await page.locator('#collection').getByRole('button', { name: 'Save collection settings' }).click();
  await page.getByText('Collection settings saved').first().waitFor();
  const own = (await api('GET', `/agents/${agentId}/config`)).body;
  assert.equal([own.settings, own.effective.commandPollMs, own.effective.connections.intervalMs], [{ commandPollMs: 250 }, 250, 1500]);
});

test("a product switched off: its pages leave the menu of the open page at once and answer not found; the agent's host section drops their links", async () => {
  await page.goto(`${stack.base}/ui/t/${T}/agents/${agentId}`);
  await ready(page, 'agents');
  await page.locator('body[data-live="on"]').waitFor();
  await page.locator('nav').getByRole('link', { name: 'Identities' }).waitFor();
  assert.is((await api('PUT', '/products/identity', { enabled: false })).status, 200);
  await page.locator('nav').getByRole('link', { name: 'Identities' }).waitFor({ state: 'detached', timeout: SLOW_MS });
  assert.is(
    await page
      .locator('#host')
      .getByRole('link', { name: `Accounts on ${HOST}` })
      .count(),
    0,
  );
  const res = await page.goto(`${stack.base}/ui/t/${T}/identities`);
  assert.is(res!.status(), 404);
  assert.ok((await page.locator('h1').innerText()).includes('Not found'));
  assert.is((await api('PUT', '/products/identity', { enabled: true })).status, 200);
  await settled(stack, T);
  assert.is((await page.goto(`${stack.base}/ui/t/${T}/identities`))!.status(), 200);
});

test('an auditor reads every page and is offered nothing that acts: no kill, isolate, download, account command or settings change', async () => {
  const tok = await apiCall(stack.base, stack.adminKey, 'POST', `/tenants/${T}/tokens`, { role: 'auditor' });
  assert.is(tok.status, 201);
  await settled(stack, T);
  const other = await isolatedContext();
  try {
    const p = other.page;
    await signIn(stack, p, tok.body.token);
    const processId = (await api('GET', `/processes?agentId=${agentId}&name=stk-ui-sleeper`)).body.items[0].id;
    const evidenceId = (await api('GET', '/evidence')).body.items[0].id;
    const frank = (await api('GET', '/identities?account=frank&source=local')).body.items[0].id;
    const visits: Array<[string, string, string]> = [
      ['processes', `/processes/${processId}`, 'Kill process'],
      ['agents', '/agents', 'Isolate'],
      ['agents', `/agents/${agentId}`, 'Release'],
      ['identities', `/identities/${frank}`, 'Disable'],
      ['collection', '/collection', 'Save collection settings'],
    ];
    for (const [name, path, button] of visits) {
      await p.goto(`${stack.base}/ui/t/${T}${path}`);
      await ready(p, name);
      await p.waitForFunction(() => !document.body.innerText.includes('Loading'), undefined, { timeout: SLOW_MS });
      assert.is(await p.getByRole('button', { name: button, exact: true }).count(), 0, `${path} offers ${button}`);
    }
    await p.goto(`${stack.base}/ui/t/${T}/collection`);
    await ready(p, 'collection');
    await p.getByText('Your role may read these settings but not change them.').waitFor();
    await p.goto(`${stack.base}/ui/t/${T}/evidence/${evidenceId}`);
    await ready(p, 'evidence');
    await p.getByText('Your role may not download the bytes of evidence.').waitFor();
    assert.is(await p.locator('[data-download]').count(), 0);
  } finally {
    await other.close();
  }
});

test('every new page: 0 axe-core violations at 1280 and 390 px, no sideways scrolling at 390 px', async () => {
  const processId = (await api('GET', `/processes?agentId=${agentId}&name=stk-ui-sleeper`)).body.items[0];
  const evidenceId = (await api('GET', '/evidence')).body.items[0].id;
  const toor = (await api('GET', '/identities?account=toor')).body.items[0].id;
  const t = `/ui/t/${T}`;
  const found = await auditPages(page, stack.base, [
    ['processes', `${t}/processes?agentId=${agentId}`],
    ['processes', `${t}/processes/${processId.id}`],
    ['connections', `${t}/connections?agentId=${agentId}`],
    ['telemetry', `${t}/telemetry`],
    ['telemetry', `${t}/telemetry/${encodeURIComponent(processId.itemId)}`],
    ['agents', `${t}/agents`],
    ['agents', `${t}/agents/${agentId}`],
    ['evidence', `${t}/evidence/${evidenceId}`],
    ['identities', `${t}/identities`],
    ['identities', `${t}/identities?view=groups`],
    ['identities', `${t}/identities?view=changes`],
    ['identities', `${t}/identities/${toor}`],
    ['collection', `${t}/collection`],
  ]);
  assert.equal(found, [], found.join('\n'));
  assert.equal(violations, [], 'no script error or Content-Security-Policy violation on any page');
});

test.run();

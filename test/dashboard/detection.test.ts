import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import { IngressClient } from '../../src/agent/run/client.ts';
import { AgentClient } from '../../src/agent/client.ts';
import { verifyWebhook } from '../../src/notify/signing.ts';
import { telemetryRoot } from '../../src/telemetry/items.ts';
import { processItem } from '../edr/items.ts';
import { startHttpReceiver, type HttpReceiver } from '../notify/receivers.ts';
import { browserFixture, isolatedContext } from './browser.ts';
import { apiCall, stockadeFixture } from './stack.ts';
import { auditPages, confirmDialog, ready, screenshot, SLOW_MS, settled, signIn } from './ui.ts';

/**
 * Rules, channels and the detection of an alert in a real browser against a real Stockade (every
 * role: the detector evaluates the built-in pack and runs the notification outbox). Telemetry
 * comes from an enrolled agent through the mTLS ingress; messages go to a real HTTP receiver on
 * loopback, which checks each one's signature with the secret the page showed once.
 */
const test = suite('dashboard: rules, channels and detected alerts');

type Stack = Awaited<ReturnType<typeof stockadeFixture>>;
type Browser = Awaited<ReturnType<typeof browserFixture>>;
let stack: Stack;
let browser: Browser;
let page: Page;
let receiver: HttpReceiver;
let agent: AgentClient;
let telemetry: IngressClient;
/** What the receiver answers: 410 (a permanent refusal: the message becomes a dead letter) until told to accept. */
let accepting = false;
let secret = '';
const T = 'acme';
const HOST = 'acme-app-02';
const TMP_RULE = '26503e3d-5818-4939-a0c5-430a72231ccb';
const REVERSE_SHELL = 'cf3aa411-30a5-4205-ab98-511a3eca98d4';
const errors: string[] = [];

const api = (method: string, path: string, body?: unknown) => apiCall(stack.base, stack.adminKey, method, `/tenants/${T}${path}`, body);

test.before(async () => {
  try {
    receiver = await startHttpReceiver(() => (accepting ? { status: 200, body: 'ok' } : { status: 410, body: 'gone' }));
    stack = await stockadeFixture({ env: { STOCKADE_NOTIFY_ALLOW_LOOPBACK: '1' } });
    const created = await apiCall(stack.base, stack.adminKey, 'POST', '/tenants', { id: T, name: 'Acme Corp' });
    assert.is(created.status, 201);
    for (const p of ['edr', 'identity']) assert.is((await api('PUT', `/products/${p}`, { enabled: true })).status, 200);
    await settled(stack, T);
    agent = await AgentClient.enroll({
      url: stack.stk.ingressUrl!,
      caPem: await stack.caPem(),
      secret: created.body.enrollSecret,
      hostname: HOST,
      os: 'linux 6.1',
      agentVersion: '1.0.0',
    });
    telemetry = new IngressClient(agent.state);
    browser = await browserFixture();
    page = browser.context.pages()[0] ?? (await browser.newPage());
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) errors.push(m.text());
    });
    page.on('pageerror', (err) => errors.push(`uncaught: ${err.message}`));
    await signIn(stack, page, stack.adminKey);
  } catch (err) {
    console.error('detection dashboard suite could not start:', err);
    throw err;
  }
});

test.after(async () => {
  agent?.close();
  telemetry?.close();
  await browser?.close();
  await stack?.close();
  await receiver?.close();
});

test('rules: the built-in pack with levels and ATT&CK ids; turn one off, raise a level, exclude a value, refused settings shown with their reason, back as shipped', async () => {
  await page.goto(`${stack.base}/ui/t/${T}/rules`);
  await ready(page, 'rules');
  const rows = page.locator('[data-table="rules"] tbody tr[data-id]');
  assert.ok((await rows.count()) >= 18, `${await rows.count()} rules`);
  const tmp = page.locator(`tr[data-id="${TMP_RULE}"]`);
  assert.ok((await tmp.innerText()).includes('T1036'), await tmp.innerText());
  // Core rules cannot be turned off.
  assert.ok(await page.getByLabel('Agent Stopped or Silent on', { exact: true }).isDisabled());
  // Off, from the list: the API says so, the row says so.
  await page.getByLabel('Reverse Shell Command Line on', { exact: true }).uncheck();
  await page.locator(`tr[data-id="${REVERSE_SHELL}"] .badge`, { hasText: /^off$/ }).waitFor();
  assert.is((await api('GET', `/detection/rules/${REVERSE_SHELL}`)).body.enabled, false);
  // Filters are in the address.
  await page.getByLabel('State', { exact: true }).selectOption('off');
  await page.waitForURL(/state=off/);
  assert.is(await rows.count(), 1);
  await screenshot(page, 'rules');

  await page.goto(`${stack.base}/ui/t/${T}/rules/${TMP_RULE}`);
  await ready(page, 'rules');
  await page.getByLabel('Level for this customer', { exact: true }).selectOption('high');
  await page.getByLabel('Exclusions: one "Field = value" per line', { exact: true }).fill('Image = /tmp/build-*');
  await page.getByRole('button', { name: 'Save setting' }).click();
  await page.locator('h1 .badge', { hasText: 'high' }).waitFor({ timeout: SLOW_MS });
  const saved = (await api('GET', `/detection/rules/${TMP_RULE}`)).body.setting;
  assert.equal([saved.enabled, saved.level, saved.exclude, saved.changedBy], [true, 'high', { Image: ['/tmp/build-*'] }, 'operator:admin']);
  // A field the rule's log source does not have: refused whole, with the reason, nothing saved.
  await page.getByLabel('Exclusions: one "Field = value" per line', { exact: true }).fill('NoSuchField = x');
  await page.getByRole('button', { name: 'Save setting' }).click();
  await page.locator('.problems li').first().waitFor();
  assert.match(await page.locator('.problems').innerText(), /NoSuchField/);
  await page.getByText('STK_ERR_DETECT_CONFIG_INVALID').waitFor();
  assert.equal((await api('GET', `/detection/rules/${TMP_RULE}`)).body.setting.exclude, { Image: ['/tmp/build-*'] });
  // Back as shipped.
  await page.getByRole('button', { name: 'Back to the rule as shipped' }).click();
  await confirmDialog(page, 'Reset');
  await page.locator('h1 .badge', { hasText: 'medium' }).waitFor({ timeout: SLOW_MS });
  assert.is((await api('GET', `/detection/rules/${TMP_RULE}`)).body.setting, null);
});

const BAD_RULE = [
  'title: Broken on purpose',
  'id: 7f1d2c3b-0000-4000-8000-000000000001',
  'logsource:',
  '    product: linux',
  '    category: process_creation',
  'detection:',
  '    selection:',
  "        Image|sounds_like: '/nc'",
  '    condition: selection and other',
  'level: loud',
  '',
].join('\n');

test('custom rules: a bad rule shows every problem with its line, a click puts the cursor there; a good one is added, replaced by a new version, removed', async () => {
  await page.goto(`${stack.base}/ui/t/${T}/rules`);
  await ready(page, 'rules');
  await page.getByLabel('Name (a file name: letters, digits, . _ -)', { exact: true }).fill('broken.yml');
  await page.getByLabel('Rule (YAML, the Sigma subset of the detection guide)', { exact: true }).fill(BAD_RULE);
  await page.getByRole('button', { name: 'Add custom rule' }).click();
  await page.locator('.problems li').first().waitFor();
  const lines = await page.locator('.problems li').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-line'))));
  // The unknown modifier (line 8), the unknown name in the condition (line 9), the level (line 10).
  for (const line of [8, 9, 10]) assert.ok(lines.includes(line), `a problem on line ${line}: ${lines.join(', ')}`);
  const refused = await apiCall(stack.base, stack.adminKey, 'GET', `/tenants/${T}/detection/rules?custom=true`);
  assert.equal(refused.body.items, [], 'nothing was saved');
  await screenshot(page, 'rule-problems', 'section[aria-label="Add a custom rule"]');
  // A click on a problem selects its line in the editor.
  await page.locator('.problems li[data-line="8"] button').click();
  const selected = await page.locator('#new-rule-yaml').evaluate((el: HTMLTextAreaElement) => el.value.slice(el.selectionStart, el.selectionEnd));
  assert.ok(BAD_RULE.split('\n')[7]!.includes(selected.trim()) && selected.trim().length > 0, selected);

  await page.getByRole('button', { name: 'Start from an example' }).click();
  await page.getByRole('button', { name: 'Add custom rule' }).click();
  await page.waitForURL(/\/rules\/[0-9a-f-]{36}$/);
  await ready(page, 'rules');
  await page.getByRole('heading', { name: /Netcat listening on a port/ }).waitFor();
  const ruleId = page.url().split('/').pop()!;
  const v1 = (await api('GET', `/detection/rules/${ruleId}`)).body;
  assert.equal([v1.custom, v1.level, v1.attack], [true, 'high', ['T1095']]);
  await page.locator('[data-rule-source]', { hasText: 'CommandLine|contains' }).waitFor();
  // A new version: same id, a new title, a new version hash.
  const editor = page.getByLabel('Rule (YAML, the Sigma subset of the detection guide)', { exact: true });
  await editor.fill((await editor.inputValue()).replace('title: Netcat listening on a port', 'title: Netcat listener'));
  await page.getByRole('button', { name: 'Save a new version' }).click();
  await page.getByRole('heading', { name: /Netcat listener/ }).waitFor({ timeout: SLOW_MS });
  assert.is.not((await api('GET', `/detection/rules/${ruleId}`)).body.version, v1.version);
  await page.getByRole('button', { name: 'Remove this custom rule' }).click();
  await confirmDialog(page, 'Remove rule');
  await page.waitForURL(/\/rules$/);
  assert.is((await api('GET', `/detection/rules/${ruleId}`)).status, 404);
});

test('channels: a webhook to a real receiver, its secret shown once and never again; a refused message becomes a dead letter, live; retried, it arrives signed', async () => {
  await page.goto(`${stack.base}/ui/t/${T}/channels`);
  await ready(page, 'channels');
  await page.getByLabel('Name', { exact: true }).fill('SOC webhook');
  await page.getByLabel('Receiver URL (https://)', { exact: true }).fill(receiver.url);
  await page.getByLabel('Alerts from this severity up', { exact: true }).selectOption('high');
  await page.getByRole('button', { name: 'Add channel' }).click();
  await page.locator('[data-once]').waitFor({ timeout: SLOW_MS });
  secret = await page.locator('#once-secret').inputValue();
  assert.match(secret, /^stk_whsec_/);
  await page.locator('[data-table="channels"] tr', { hasText: 'SOC webhook' }).waitFor();
  assert.is(await page.getByLabel('Receiver URL (https://)', { exact: true }).inputValue(), '', 'what was typed does not stay on the page');
  await screenshot(page, 'channels');
  // Never again: not after a reload, not in the API, not on the channel's page.
  await page.reload();
  await ready(page, 'channels');
  assert.is(await page.locator('[data-once]').count(), 0);
  const listed = await api('GET', '/notifications/channels');
  assert.not.ok(JSON.stringify(listed.body).includes(secret));
  assert.not.ok(JSON.stringify(listed.body).includes(receiver.url), 'the URL is sealed too');
  const channelId = listed.body.items[0].id;
  await page.goto(`${stack.base}/ui/t/${T}/channels/${channelId}`);
  await ready(page, 'channels');
  assert.not.ok((await page.content()).includes(secret));
  assert.is(await page.getByLabel('Receiver URL (https://)', { exact: true }).inputValue(), '', 'a secret field is never filled in');

  // An alert: the receiver refuses it for good (410), so it is a dead letter, which the open page shows.
  await page.goto(`${stack.base}/ui/t/${T}/channels?view=dead-letters`);
  await ready(page, 'channels');
  await page.locator('body[data-live="on"]').waitFor();
  await agent.report([
    { kind: 'alert', at: new Date().toISOString(), data: { rule: 'edr.ps-download', severity: 'high', title: 'Suspicious download cradle' } },
  ]);
  const dead = page.locator('[data-table="notifications/deliveries"] tbody tr', { hasText: 'Suspicious download cradle' });
  await dead.waitFor({ timeout: SLOW_MS });
  assert.ok((await dead.innerText()).includes('the receiver refused it for good'), await dead.innerText());
  assert.is(receiver.requests.length, 1);
  await screenshot(page, 'dead-letters');
  // The receiver is fixed; Retry sends the message again, and the messages list shows it delivered.
  accepting = true;
  await dead.getByRole('button', { name: 'Retry' }).click();
  await dead.waitFor({ state: 'detached', timeout: SLOW_MS });
  await receiver.waitForRequests(2, SLOW_MS);
  const second = receiver.requests[1]!;
  assert.equal(verifyWebhook(second.headers, second.rawBody, secret, new Date()).ok, true, 'signed with the secret the page showed once');
  assert.is(JSON.parse(second.rawBody.toString('utf8')).alert.title, 'Suspicious download cradle');
  await page.goto(`${stack.base}/ui/t/${T}/channels?view=messages`);
  await ready(page, 'channels');
  await page
    .locator('[data-table="notifications/deliveries"] tbody tr', { hasText: 'Suspicious download cradle' })
    .locator('.badge', { hasText: 'delivered' })
    .waitFor();

  // A change needs the secrets again; left empty, the webhook gets a new secret, shown once.
  await page.goto(`${stack.base}/ui/t/${T}/channels/${channelId}`);
  await ready(page, 'channels');
  await page.getByLabel('Receiver URL (https://)', { exact: true }).fill(receiver.url);
  await page.getByLabel('Alerts from this severity up', { exact: true }).selectOption('critical');
  await page.getByRole('button', { name: 'Save channel' }).click();
  await page.locator('[data-once]').waitFor({ timeout: SLOW_MS });
  const fresh = await page.locator('#once-secret').inputValue();
  assert.is.not(fresh, secret);
  secret = fresh;
  assert.is((await api('GET', `/notifications/channels/${channelId}`)).body.routing.minSeverity, 'critical');
  await page.locator('main dl.kv', { hasText: 'critical' }).waitFor();
});

test('a detected alert: rule, version, ATT&CK ids, count and last seen, and the telemetry behind it, each item with its proof checked in the browser', async () => {
  // Two runs of one program from /tmp, sent by the agent as telemetry through the ingress: one alert, counted twice.
  const run = async (pid: number) => {
    const items = [
      processItem(pid, { exe: '/tmp/.cache/stk-dropper', name: 'stk-dropper', user: 'www-data', uid: 33, cmdline: `/tmp/.cache/stk-dropper -c ${pid}` }),
    ];
    const r = await telemetry.telemetry({ batchId: `b-${pid}`, merkleRoot: telemetryRoot(items), items: items as never });
    assert.is(r.status, 202, JSON.stringify(r.body));
  };
  await page.goto(`${stack.base}/ui/t/${T}/alerts`);
  await ready(page, 'alerts');
  await page.locator('body[data-live="on"]').waitFor();
  await run(4101);
  const row = page.locator('[data-table="alerts"] tbody tr', { hasText: 'Program Executed from a Temporary Folder' });
  await row.waitFor({ timeout: SLOW_MS });
  await row.getByRole('link', { name: 'Program Executed from a Temporary Folder' }).click();
  await ready(page, 'alerts');
  await page.locator('[data-field="count"]', { hasText: '1' }).waitFor();
  // The second run updates the open alert's page: its count and the telemetry behind it.
  await run(4102);
  await page.locator('[data-field="count"]', { hasText: '2' }).waitFor({ timeout: SLOW_MS });
  const alert = (await api('GET', `/alerts?agentId=${agent.agentId}&q=${TMP_RULE}`)).body.items[0];
  assert.is(alert.count, 2);
  const facts = await page.locator('main section[aria-label="Detection"]').innerText();
  for (const want of [TMP_RULE, alert.ruleVersion, 'T1036', 'process_creation']) assert.ok(facts.includes(want), `${want} in ${facts}`);
  const refs = page.locator('[data-table="alert-telemetry"] tbody tr');
  await page.locator('[data-table="alert-telemetry"]', { hasText: 'stk-dropper -c 4102' }).waitFor({ timeout: SLOW_MS });
  assert.is(await refs.count(), 2);
  await screenshot(page, 'alert-detection', 'section[aria-label="Detection"]');
  await refs.first().locator('[data-proof-link]').click();
  await ready(page, 'telemetry');
  await page.locator('[data-proof="verified"]').waitFor({ timeout: SLOW_MS });
  assert.ok((await page.locator('main').innerText()).includes('/tmp/.cache/stk-dropper'));
  // The list counts the occurrences too.
  await page.goto(`${stack.base}/ui/t/${T}/alerts`);
  await ready(page, 'alerts');
  await page
    .locator('[data-table="alerts"] tbody tr', { hasText: 'Program Executed from a Temporary Folder' })
    .locator('.badge.count', { hasText: '×2' })
    .waitFor();
});

test('an auditor reads rules and channels and is offered no change: no toggles, no editor, no channel form, no retry', async () => {
  const tok = await apiCall(stack.base, stack.adminKey, 'POST', `/tenants/${T}/tokens`, { role: 'auditor' });
  await settled(stack, T);
  const other = await isolatedContext();
  try {
    const p = other.page;
    await signIn(stack, p, tok.body.token);
    await p.goto(`${stack.base}/ui/t/${T}/rules`);
    await ready(p, 'rules');
    assert.is(await p.locator('[data-table="rules"] input[type="checkbox"]').count(), 0);
    assert.is(await p.getByRole('button', { name: 'Add custom rule' }).count(), 0);
    await p.goto(`${stack.base}/ui/t/${T}/rules/${TMP_RULE}`);
    await ready(p, 'rules');
    assert.is(await p.getByRole('button', { name: 'Save setting' }).count(), 0);
    await p.goto(`${stack.base}/ui/t/${T}/channels`);
    await ready(p, 'channels');
    await p.locator('[data-table="channels"] tr', { hasText: 'SOC webhook' }).waitFor();
    assert.is(await p.getByRole('button', { name: 'Add channel' }).count(), 0);
    await p.goto(`${stack.base}/ui/t/${T}/channels?view=messages`);
    await ready(p, 'channels');
    assert.is(await p.getByRole('button', { name: 'Retry' }).count(), 0);
  } finally {
    await other.close();
  }
});

test('every page: 0 axe-core violations at 1280 and 390 px, no sideways scrolling at 390 px', async () => {
  const alertId = (await api('GET', `/alerts?q=${TMP_RULE}`)).body.items[0].id;
  const channelId = (await api('GET', '/notifications/channels')).body.items[0].id;
  const t = `/ui/t/${T}`;
  const found = await auditPages(page, stack.base, [
    ['rules', `${t}/rules`],
    ['rules', `${t}/rules/${TMP_RULE}`],
    ['channels', `${t}/channels`],
    ['channels', `${t}/channels?view=messages`],
    ['channels', `${t}/channels?view=dead-letters`],
    ['channels', `${t}/channels/${channelId}`],
    ['alerts', `${t}/alerts/${alertId}`],
  ]);
  assert.equal(found, [], found.join('\n'));
  assert.equal(errors, [], 'no script error or Content-Security-Policy violation');
});

test.run();

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import type { AgentClient } from '../../src/agent/client.ts';
import { rejects } from '../helpers/assert.ts';
import { readToken } from '../helpers/events.ts';
import { browserFixture, isolatedContext } from './browser.ts';
import { axe, overflowX } from './ui.ts';
import { apiCall, enrollAgent, freshTenant, stockadeFixture } from './stack.ts';

/**
 * The dashboard in a real browser (Debian's chromium driven by playwright-core) against a real
 * Stockade: every role, the embedded nats-server, agents enrolled and reporting through the mTLS
 * ingress. The same run saves the manual's screenshots into docs/images/.
 */
const test = suite('dashboard: a real browser against a real Stockade');
const IMAGES = resolve(import.meta.dirname, '../../docs/images');

type Stack = Awaited<ReturnType<typeof stockadeFixture>>;
type Browser = Awaited<ReturnType<typeof browserFixture>>;
let stack: Stack;
let browser: Browser;
let page: Page;
const violations: string[] = [];

// Shared by the steps below, which run in order like an operator's session. The install is new
// for this suite, so these tenants are fresh; plain ids keep the manual's pictures readable.
const acme = { id: 'acme', name: 'Acme Corp', secret: '', agent: null as AgentClient | null, host: 'acme-web-01' };
const globex = { id: 'globex', name: 'Globex Inc', host: 'globex-db-07', alert: 'Globex: unexpected admin login' };
const ACME_ALERT = 'Suspicious PowerShell download cradle';

async function shot(name: string): Promise<void> {
  // Notices fade by themselves; a picture for the manual shows the page, not the last notice.
  await page.evaluate(() => document.getElementById('toasts')?.setAttribute('hidden', ''));
  await page.screenshot({ path: resolve(IMAGES, `dashboard-${name}.png`) });
  await page.evaluate(() => document.getElementById('toasts')?.removeAttribute('hidden'));
}

/** The main area once the page's data has been drawn. */
async function ready(p: Page, pageName: string): Promise<void> {
  await p.locator(`main[data-page="${pageName}"][data-ready]`).waitFor();
}

/** Confirms the open dialog with its button `name`, and waits until it has gone. */
async function confirmDialog(name: string): Promise<void> {
  const dialog = page.locator('dialog');
  await dialog.getByRole('button', { name, exact: true }).click();
  await dialog.waitFor({ state: 'detached' });
}

/** Waits until the read models have everything the log holds now (read-your-writes for the test's own reads). */
async function settled(tenant: string): Promise<void> {
  const position = await stack.stk.runtime.log.lastPosition();
  const waitFor = await readToken(stack.stk.runtime.streams, tenant, position);
  assert.is((await apiCall(stack.base, stack.adminKey, 'GET', `/tenants/${tenant}?waitFor=${waitFor}`)).status, 200);
}

async function signIn(p: Page, credential: string): Promise<void> {
  await p.goto(`${stack.base}/ui/login`);
  await p.getByLabel('Admin key or tenant token', { exact: true }).fill(credential);
  await p.getByRole('button', { name: 'Sign in with key' }).click();
  await p.waitForURL(/\/ui\/(customers|t\/)/);
}

test.before(async () => {
  await mkdir(IMAGES, { recursive: true });
  stack = await stockadeFixture().catch((err) => {
    console.error('dashboard suite could not start Stockade:', err);
    throw err;
  });
  try {
    browser = await browserFixture();
    page = browser.context.pages()[0] ?? (await browser.newPage());
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
    });
  } catch (err) {
    // uvu does not print a failing hook's error; say why every test of the suite failed.
    console.error('dashboard suite could not start:', err);
    await stack.close();
    throw err;
  }
});

test.after(async () => {
  await browser?.close();
  await stack?.close();
});

test('admin signs in: HttpOnly SameSite=Strict session cookie, strict CSP, lands on customers', async () => {
  const login = await page.goto(`${stack.base}/ui/login`);
  const csp = login!.headers()['content-security-policy']!;
  assert.ok(csp.includes("script-src 'self'") && csp.includes("style-src 'self'") && !csp.includes('unsafe-inline'), csp);
  await page.getByLabel('Admin key or tenant token', { exact: true }).fill('stk_tok_wrongwrongwro.wrongwrongwrongwrongwrongwrongwrongwrongwro');
  await page.getByRole('button', { name: 'Sign in with key' }).click();
  await page.getByText('That key or token is not valid.').waitFor();
  await signIn(page, stack.adminKey);
  await ready(page, 'customers');
  const cookie = (await browser.context.cookies()).find((c) => c.name === 'stk_session')!;
  assert.ok(cookie, 'session cookie');
  assert.is(cookie.httpOnly, true);
  assert.is(cookie.sameSite, 'Strict');
  assert.is(cookie.path, '/ui');
  assert.not.ok(cookie.value.includes(stack.adminKey));
  assert.ok(await page.locator('#switcher').isVisible(), 'an admin has the customer switcher');
});

test('create a customer: the secret is shown once, with a copy button and the enroll command', async () => {
  await page.getByLabel('Customer id', { exact: true }).fill(acme.id);
  await page.getByLabel('Name', { exact: true }).fill(acme.name);
  await page.getByRole('button', { name: 'Create customer' }).click();
  const once = page.locator('[data-once]');
  await once.waitFor();
  acme.secret = await once.locator('input.secret').first().inputValue();
  assert.match(acme.secret, /^stk_es_[A-Za-z0-9_-]{12}\.[A-Za-z0-9_-]{43}$/);
  const command = await once.locator('.command').inputValue();
  assert.ok(command.includes('stockade agent enroll') && command.includes(acme.secret) && command.includes(stack.stk.ingressUrl!), command);
  assert.ok(await once.getByRole('button', { name: 'Copy', exact: true }).isVisible());
  await page.locator(`tr[data-id="${acme.id}"]`).waitFor();
  await shot('customers');
  // Shown once: a reload shows the customer, never the secret again.
  await page.reload();
  await ready(page, 'customers');
  assert.is(await page.locator('[data-once]').count(), 0);
  assert.not.ok((await page.content()).includes(acme.secret));
  // The secret from the page enrolls a real agent through the mTLS ingress.
  acme.agent = await enrollAgent(stack, acme.secret, acme.host);
});

test('toggle products per customer: navigation follows them, and a product that is off has no page', async () => {
  for (const p of ['edr', 'patch', 'attack-surface']) {
    await page.locator(`#prod-${acme.id}-${p}`).check();
    await page.getByText(`${p} on for ${acme.id}`).waitFor();
  }
  await settled(acme.id);
  const t = await apiCall(stack.base, stack.adminKey, 'GET', `/tenants/${acme.id}`);
  assert.equal(t.body.products, ['attack-surface', 'edr', 'patch']);
  // identity stays off: its URL refuses on the server. Switching a product off asks first.
  await page.locator(`#prod-${acme.id}-edr`).uncheck();
  await confirmDialog('Switch edr off');
  await page.getByText(`edr off for ${acme.id}`).waitFor();
  await settled(acme.id);
  const off = await page.goto(`${stack.base}/ui/t/${acme.id}/evidence`);
  assert.is(off!.status(), 404);
  await page.goto(`${stack.base}/ui/customers`);
  await ready(page, 'customers');
  await page.locator(`#prod-${acme.id}-edr`).check();
  await page.getByText(`edr on for ${acme.id}`).waitFor();
  await settled(acme.id);
  const on = await page.goto(`${stack.base}/ui/t/${acme.id}/evidence`);
  assert.is(on!.status(), 200);
});

test('live: an alert reported by a real agent appears without a reload; acknowledge it', async () => {
  const agent = acme.agent!;
  await agent.report([{ kind: 'heartbeat', at: new Date().toISOString(), data: { inventory: { kernel: '6.1.0-18-amd64', packages: 812, ip: '10.0.4.21' } } }]);
  await page.goto(`${stack.base}/ui/t/${acme.id}/alerts`);
  await ready(page, 'alerts');
  await page.locator('body[data-live="on"]').waitFor();
  const url = page.url();
  await agent.report([
    { kind: 'alert', at: new Date().toISOString(), data: { rule: 'edr.ps-download', severity: 'high', title: ACME_ALERT } },
    { kind: 'alert', at: new Date().toISOString(), data: { rule: 'edr.lsass-access', severity: 'critical', title: 'Credential dumping: LSASS memory read' } },
    {
      kind: 'finding',
      at: new Date().toISOString(),
      data: { product: 'patch', title: 'OpenSSL 3.0.11 is missing security fixes', severity: 'high', subject: 'openssl 3.0.11' },
    },
    {
      kind: 'scan-run',
      at: new Date().toISOString(),
      data: { merkleRoot: 'a'.repeat(64), itemCount: 1204, startedAt: new Date(Date.now() - 42_000).toISOString() },
    },
    { kind: 'evidence', at: new Date().toISOString(), data: { name: 'powershell-history.txt', sha256: 'b'.repeat(64), sizeBytes: 18_432 } },
  ]);
  const row = page.locator('tr', { hasText: ACME_ALERT });
  await row.waitFor();
  assert.is(page.url(), url, 'no navigation happened');
  await page.getByText('Credential dumping: LSASS memory read').waitFor();
  await shot('alerts');

  await row.getByRole('button', { name: 'Acknowledge' }).click();
  await row.waitFor({ state: 'detached' });
  await page.getByLabel('Status', { exact: true }).selectOption('acknowledged');
  await page.locator('tr', { hasText: ACME_ALERT }).locator('.badge', { hasText: 'acknowledged' }).waitFor();
  const list = await apiCall(stack.base, stack.adminKey, 'GET', `/tenants/${acme.id}/alerts?status=acknowledged`);
  assert.equal(
    list.body.items.map((a: { title: string }) => a.title),
    [ACME_ALERT],
  );
});

test("the other pages of the customer, with the manual's pictures", async () => {
  // Incident from the open alert.
  await page.goto(`${stack.base}/ui/t/${acme.id}/alerts`);
  await ready(page, 'alerts');
  await page.getByLabel('Select alert Credential dumping: LSASS memory read', { exact: true }).check();
  await page.getByRole('button', { name: 'Open incident from selected' }).click();
  await page.getByLabel('Title', { exact: true }).fill('Credential theft on acme-web-01');
  await confirmDialog('Open incident');
  await page.waitForURL(/\/incidents\/[A-Za-z0-9_-]+$/);
  await ready(page, 'incidents');
  await page.getByLabel('Assignee', { exact: true }).fill('dana@msp.example');
  await page.getByLabel('Status', { exact: true }).selectOption('investigating');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('h1 .badge', { hasText: 'investigating' }).waitFor();
  await page.locator('[data-table="linked-alerts"] tr', { hasText: 'Credential dumping' }).waitFor();
  await shot('incident');

  await page.goto(`${stack.base}/ui/t/${acme.id}/overview`);
  await ready(page, 'overview');
  await page.locator('[data-stat="alerts"] .value', { hasText: '1' }).waitFor();
  await page.locator('figure.chart canvas').first().waitFor();
  await page.waitForFunction(() => !document.body.innerText.includes('Loading charts'));
  await shot('overview');

  await page.goto(`${stack.base}/ui/t/${acme.id}/findings`);
  await ready(page, 'findings');
  await page.getByRole('button', { name: 'Change state' }).click();
  await page.getByLabel('New state', { exact: true }).selectOption('accepted-risk');
  await page.getByLabel('Reason', { exact: true }).fill('isolated build host, replaced next sprint');
  await confirmDialog('Change state');
  await page.getByLabel('State', { exact: true }).selectOption('accepted-risk');
  await page.locator('tr', { hasText: 'isolated build host' }).waitFor();
  await shot('findings');

  await page.goto(`${stack.base}/ui/t/${acme.id}/agents`);
  await ready(page, 'agents');
  await page.getByRole('link', { name: acme.host }).click();
  await page.getByRole('heading', { name: acme.host }).waitFor();
  await page.getByLabel('Command', { exact: true }).selectOption('collect-inventory');
  await page.getByRole('button', { name: 'Dispatch' }).click();
  await page.locator('[data-table="commands"] tr', { hasText: 'collect-inventory' }).waitFor();
  const pulled = await acme.agent!.commands();
  await acme.agent!.result(pulled[0]!.id, 'succeeded', 'inventory sent: 812 packages');
  await page.getByText('inventory sent: 812 packages').waitFor();
  await shot('agent');

  await page.goto(`${stack.base}/ui/t/${acme.id}/evidence`);
  await ready(page, 'evidence');
  await page.getByRole('link', { name: 'powershell-history.txt' }).click();
  await page.getByRole('button', { name: 'Transfer custody' }).click();
  await page.getByLabel('To', { exact: true }).fill('forensics-locker-2');
  await page.getByLabel('Note', { exact: true }).fill('bagged for the incident');
  await confirmDialog('Transfer');
  await page.locator('[data-table="custody"] tr', { hasText: 'forensics-locker-2' }).waitFor();
  await shot('evidence');

  await page.goto(`${stack.base}/ui/t/${acme.id}/scans`);
  await ready(page, 'scans');
  await page.getByText('1,204').waitFor();
  await shot('scans');

  await page.goto(`${stack.base}/ui/t/${acme.id}/audit`);
  await ready(page, 'audit');
  await page.locator('tr', { hasText: 'alert.acknowledged' }).first().waitFor();
  await shot('audit');

  await page.goto(`${stack.base}/ui/t/${acme.id}/ledger`);
  await ready(page, 'ledger');
  await page.getByRole('button', { name: 'Verify now' }).click();
  await page.locator('[data-verify="ok"]').waitFor({ timeout: 30_000 });
  assert.is(await page.locator('progress').evaluate((p: HTMLProgressElement) => p.value === p.max), true);
  await shot('ledger');
});

test('rotate the secret, after a confirmation: the old one enrolls nothing, the enrolled agent keeps working', async () => {
  await page.goto(`${stack.base}/ui/customers`);
  await ready(page, 'customers');
  const row = page.locator(`tr[data-id="${acme.id}"]`);
  await row.getByRole('button', { name: 'Rotate secret' }).click();
  // Escape cancels: nothing rotated, nothing shown.
  await page.locator('dialog').waitFor();
  await page.keyboard.press('Escape');
  await page.locator('dialog').waitFor({ state: 'detached' });
  assert.is(await page.locator('[data-once]').count(), 0);
  await row.getByRole('button', { name: 'Rotate secret' }).click();
  await confirmDialog('Rotate');
  const fresh = await page.locator('[data-once] input.secret').first().inputValue();
  assert.match(fresh, /^stk_es_/);
  assert.is.not(fresh, acme.secret);
  await rejects(enrollAgent(stack, acme.secret, 'acme-late-01'), 'STK_ERR_ENROLL_SECRET_INVALID');
  await acme.agent!.report([{ kind: 'heartbeat', at: new Date().toISOString(), data: {} }]);
  acme.secret = fresh;
});

test('revoke an agent: it shows revoked, and the ingress refuses its next report', async () => {
  await page.goto(`${stack.base}/ui/t/${acme.id}/agents`);
  await ready(page, 'agents');
  // Agent changes are live too: an agent enrolling now shows up on the open page.
  await page.locator('body[data-live="on"]').waitFor();
  const second = await enrollAgent(stack, acme.secret, 'acme-db-02');
  await page.locator('tr', { hasText: 'acme-db-02' }).locator('.badge', { hasText: 'online' }).waitFor();
  second.close();
  const row = page.locator('tr', { hasText: acme.host });
  await row.getByRole('button', { name: 'Revoke' }).click();
  await confirmDialog('Revoke');
  await row.locator('.badge', { hasText: 'revoked' }).waitFor();
  await shot('agents');
  await rejects(acme.agent!.report([{ kind: 'heartbeat', at: new Date().toISOString(), data: {} }]), 'STK_ERR_AGENT_REVOKED');
});

test('every page: 0 axe-core violations (WCAG 2.2 A/AA) at 1280 px and at 390 px, no sideways scrolling at 390 px', async () => {
  await settled(acme.id);
  const first = async (path: string) => (await apiCall(stack.base, stack.adminKey, 'GET', `/tenants/${acme.id}/${path}`)).body.items[0].id as string;
  const [alertId, incidentId, evidenceId, commandId, agentId] = await Promise.all([
    first('alerts'),
    first('incidents'),
    first('evidence'),
    first('commands'),
    first('agents?sort=hostname'),
  ]);
  const pages: Array<[string, string]> = [
    ['customers', '/ui/customers'],
    ['customers', `/ui/customers/${acme.id}`],
    ['overview', `/ui/t/${acme.id}/overview`],
    ['agents', `/ui/t/${acme.id}/agents`],
    ['agents', `/ui/t/${acme.id}/agents/${agentId}`],
    ['alerts', `/ui/t/${acme.id}/alerts?status=`],
    ['alerts', `/ui/t/${acme.id}/alerts/${alertId}`],
    ['incidents', `/ui/t/${acme.id}/incidents`],
    ['incidents', `/ui/t/${acme.id}/incidents/${incidentId}`],
    ['findings', `/ui/t/${acme.id}/findings?state=`],
    ['scans', `/ui/t/${acme.id}/scans`],
    ['evidence', `/ui/t/${acme.id}/evidence`],
    ['evidence', `/ui/t/${acme.id}/evidence/${evidenceId}`],
    ['commands', `/ui/t/${acme.id}/commands`],
    ['commands', `/ui/t/${acme.id}/commands/${commandId}`],
    ['audit', `/ui/t/${acme.id}/audit`],
    ['ledger', `/ui/t/${acme.id}/ledger`],
  ];
  const found: string[] = [];
  try {
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: width === 390 ? 844 : 800 });
      for (const [name, path] of pages) {
        await page.goto(`${stack.base}${path}`);
        await ready(page, name);
        // Charts and the rest of a page draw after its data: wait until nothing is loading.
        await page.waitForFunction(() => !document.querySelector('main [aria-busy="true"]') && !document.body.innerText.includes('Loading charts'));
        for (const v of await axe(page)) found.push(`${width}px ${path}: ${v}`);
        if (width === 390) assert.ok((await overflowX(page)) <= 0, `${path} at 390 px: ${await overflowX(page)} px sideways`);
        if (width === 1280 && path === `/ui/t/${acme.id}/alerts/${alertId}`) await shot('alert');
        if (width === 1280 && path === `/ui/customers/${acme.id}`) await shot('customer');
        if (width === 1280 && path === `/ui/t/${acme.id}/commands`) await shot('commands');
        if (width === 390 && path === `/ui/t/${acme.id}/alerts?status=`) await shot('narrow');
      }
    }
  } finally {
    await page.setViewportSize({ width: 1280, height: 800 });
  }
  assert.equal(found, [], found.join('\n'));
});

test('switching customers: nothing of the first stays visible', async () => {
  const created = await apiCall(stack.base, stack.adminKey, 'POST', '/tenants', { id: globex.id, name: globex.name });
  assert.is(created.status, 201);
  await apiCall(stack.base, stack.adminKey, 'PUT', `/tenants/${globex.id}/products/edr`, { enabled: true });
  await settled(globex.id);
  const agent = await enrollAgent(stack, created.body.enrollSecret, globex.host);
  await agent.report([{ kind: 'alert', at: new Date().toISOString(), data: { rule: 'id.admin-login', severity: 'medium', title: globex.alert } }]);

  await page.goto(`${stack.base}/ui/t/${acme.id}/alerts`);
  await ready(page, 'alerts');
  await page.getByLabel('Status', { exact: true }).selectOption('');
  await page.getByText(ACME_ALERT).waitFor();
  await page.getByLabel('Customer', { exact: true }).selectOption(globex.id);
  await page.waitForURL(`${stack.base}/ui/t/${globex.id}/alerts`);
  await ready(page, 'alerts');
  await page.getByText(globex.alert).waitFor();
  const visible = `${await page.locator('nav').innerText()}\n${await page.locator('main').innerText()}\n${await page.locator('#tenant-name').innerText()}`;
  for (const acmeThing of [ACME_ALERT, 'Credential dumping', acme.host, acme.id, acme.name]) {
    assert.not.ok(visible.includes(acmeThing), `${acmeThing} still visible after switching`);
  }
  // Globex has neither patch nor attack-surface: no such pages in its navigation.
  assert.not.ok(visible.includes('Findings') || visible.includes('Scan runs'), visible);
  await page.goto(`${stack.base}/ui/t/${globex.id}/agents`);
  await ready(page, 'agents');
  assert.not.ok((await page.locator('main').innerText()).includes(acme.host));
  await page.getByRole('link', { name: globex.host }).waitFor();
  agent.close();
});

test('a tenant-token session: its tenant only, no switcher, other tenants unreachable by URL', async () => {
  const tok = await apiCall(stack.base, stack.adminKey, 'POST', `/tenants/${globex.id}/tokens`, { role: 'operator', label: 'globex soc' });
  assert.is(tok.status, 201);
  await settled(globex.id);
  const other = await isolatedContext();
  try {
    const p = other.page;
    // By keyboard alone: Tab reaches the key field (the e-mail field has focus first), Enter signs in.
    await p.goto(`${stack.base}/ui/login`);
    await p.locator('#email:focus').waitFor();
    for (let i = 0; i < 10 && !(await p.locator('#credential:focus').count()); i++) await p.keyboard.press('Tab');
    await p.locator('#credential:focus').waitFor();
    await p.keyboard.type(tok.body.token);
    await p.keyboard.press('Enter');
    await p.waitForURL(/\/ui\/t\//);
    assert.match(p.url(), new RegExp(`/ui/t/${globex.id}/overview$`));
    await ready(p, 'overview');
    assert.not.ok(await p.locator('#switcher').isVisible(), 'no switcher for a tenant token');
    assert.ok((await p.locator('nav').innerText()).includes('Alerts'));
    assert.not.ok((await p.locator('nav').innerText()).includes('Customers'));

    for (const path of [`/ui/t/${acme.id}/overview`, `/ui/t/${acme.id}/alerts`, `/ui/t/${acme.id}/agents`, `/ui/t/no-such-tenant/alerts`, '/ui/customers']) {
      const res = await p.goto(`${stack.base}${path}`);
      assert.is(res!.status(), 404, path);
      const text = await p.locator('body').innerText();
      for (const acmeThing of [ACME_ALERT, acme.host, acme.name]) assert.not.ok(text.includes(acmeThing), `${path} shows ${acmeThing}`);
    }
    // The same wall holds under the page: the API through the session, and the live stream.
    await p.goto(`${stack.base}/ui/t/${globex.id}/alerts`);
    await ready(p, 'alerts');
    const probes = await p.evaluate(async (a) => {
      const api = await fetch(`/ui/api/tenants/${a}/alerts`);
      const live = await fetch(`/ui/live/${a}`);
      const list = await fetch('/ui/api/tenants');
      return [api.status, live.status, list.status];
    }, acme.id);
    assert.equal(probes, [404, 404, 404]);
    // Its own customer is there, live.
    await p.getByText(globex.alert).waitFor();
    await p.locator('body[data-live="on"]').waitFor();

    // An auditor reads everything and is offered nothing that changes anything; the API refuses
    // a change even when the page is bypassed.
    const aud = await apiCall(stack.base, stack.adminKey, 'POST', `/tenants/${globex.id}/tokens`, { role: 'auditor' });
    await settled(globex.id);
    await p.getByRole('button', { name: 'Sign out' }).click();
    await p.waitForURL(/\/ui\/login$/);
    await signIn(p, aud.body.token);
    await p.goto(`${stack.base}/ui/t/${globex.id}/alerts`);
    await ready(p, 'alerts');
    await p.getByText(globex.alert).waitFor();
    assert.is(await p.getByRole('button', { name: 'Acknowledge' }).count(), 0);
    assert.is(await p.getByRole('button', { name: 'Open incident from selected' }).count(), 0);
    const write = await p.evaluate(async (t) => {
      const { csrf } = await (await fetch('/ui/session')).json();
      const r = await fetch(`/ui/api/tenants/${t}/incidents`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
        body: JSON.stringify({ title: 'x', severity: 'low' }),
      });
      return [r.status, (await r.json()).error.code];
    }, globex.id);
    assert.equal(write, [403, 'STK_ERR_FORBIDDEN']);
  } finally {
    await other.close();
  }
});

test('suspend a customer with a reason, then resume it', async () => {
  await page.goto(`${stack.base}/ui/customers`);
  await ready(page, 'customers');
  const row = page.locator(`tr[data-id="${globex.id}"]`);
  await row.getByRole('button', { name: 'Suspend' }).click();
  await page.getByLabel('Reason', { exact: true }).fill('contract paused');
  await confirmDialog('Suspend');
  await row.locator('.badge', { hasText: 'suspended' }).waitFor();
  assert.is((await apiCall(stack.base, stack.adminKey, 'GET', `/tenants/${globex.id}`)).body.suspended, true);
  await row.getByRole('button', { name: 'Resume' }).click();
  await row.locator('.badge', { hasText: 'active' }).waitFor();
  assert.is((await apiCall(stack.base, stack.adminKey, 'GET', `/tenants/${globex.id}`)).body.suspended, false);
});

test('CSRF: a state change without the session token, or from another origin, is refused and writes nothing', async () => {
  await page.goto(`${stack.base}/ui/customers`);
  await ready(page, 'customers');
  const sneaky = freshTenant('sneaky');
  const status = await page.evaluate(async (id) => {
    const r = await fetch('/ui/api/tenants', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id, name: 'x' }) });
    return [r.status, (await r.json()).error.code];
  }, sneaky);
  assert.equal(status, [403, 'STK_ERR_FORBIDDEN']);
  const cookie = (await browser.context.cookies()).find((c) => c.name === 'stk_session')!;
  const session = await (await fetch(`${stack.base}/ui/session`, { headers: { cookie: `stk_session=${cookie.value}` } })).json();
  const foreign = await fetch(`${stack.base}/ui/api/tenants`, {
    method: 'POST',
    headers: { cookie: `stk_session=${cookie.value}`, 'x-csrf-token': session.csrf, origin: 'http://evil.example', 'content-type': 'application/json' },
    body: JSON.stringify({ id: sneaky, name: 'x' }),
  });
  assert.is(foreign.status, 403);
  assert.is((await apiCall(stack.base, stack.adminKey, 'GET', `/tenants/${sneaky}`)).status, 404);
  assert.equal(violations, [], 'no Content-Security-Policy violation on any page');
});

test('sign-out ends the session on the server, not only in this browser', async () => {
  const cookie = (await browser.context.cookies()).find((c) => c.name === 'stk_session')!;
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(`${stack.base}/ui/login`);
  const replay = await fetch(`${stack.base}/ui/session`, { headers: { cookie: `stk_session=${cookie.value}` } });
  assert.is(replay.status, 401);
  // Sign-in, and back to the page asked for afterwards.
  const res = await page.goto(`${stack.base}/ui/t/${acme.id}/alerts`);
  assert.ok(res!.url().endsWith(`/ui/login?next=${encodeURIComponent(`/ui/t/${acme.id}/alerts`)}`), res!.url());
});

test.run();

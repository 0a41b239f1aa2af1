import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Page, Request } from 'playwright-core';
import type { AgentClient } from '../../src/agent/client.ts';
import { alertDecider } from '../../commands/alerts/decider.ts';
import { incidentDecider } from '../../commands/incidents/decider.ts';
import { execute } from '../../src/domain/execute.ts';
import { raiseAlert } from '../helpers/events.ts';
import { browserFixture } from './browser.ts';
import { apiCall, enrollAgent, stockadeFixture } from './stack.ts';
import { contrast, endSession, overflowX, ready, SLOW_MS, settled, showRows, signIn } from './ui.ts';

/**
 * What broke when the console was used for a day as an MSSP operator would (issue 18, "broken under
 * real use"): one case per problem, in a real browser against a real Stockade. Each case failed on
 * the dashboard before the move to components.
 */
const test = suite('dashboard: what breaks under real use');

type Stack = Awaited<ReturnType<typeof stockadeFixture>>;
type Browser = Awaited<ReturnType<typeof browserFixture>>;
let stack: Stack;
let browser: Browser;
let page: Page;

const north = { id: 'north', name: 'Northwind Traders', secret: '', agent: null as AgentClient | null, agentId: '', host: 'north-web-01' };
const south = { id: 'south', name: 'Southridge Video' };
const SEEDED = 220;

async function seedAlerts(n: number, title: (i: number) => string): Promise<void> {
  const log = stack.stk.runtime.log;
  const severities = ['low', 'medium', 'high', 'critical'] as const;
  for (let i = 0; i < n; i += 20) {
    await Promise.all(
      Array.from({ length: Math.min(20, n - i) }, (_, k) =>
        raiseAlert(log, north.id, north.agentId, { title: title(i + k), severity: severities[(i + k) % 4]! }),
      ),
    );
  }
  await settled(stack, north.id);
}

test.before(async () => {
  stack = await stockadeFixture();
  try {
    browser = await browserFixture();
    page = browser.context.pages()[0] ?? (await browser.newPage());
    for (const t of [north, south]) {
      const created = await apiCall(stack.base, stack.adminKey, 'POST', '/tenants', { id: t.id, name: t.name });
      assert.is(created.status, 201);
      if (t === north) north.secret = created.body.enrollSecret;
    }
    for (const p of ['edr', 'patch']) await apiCall(stack.base, stack.adminKey, 'PUT', `/tenants/${north.id}/products/${p}`, { enabled: true });
    await settled(stack, north.id);
    north.agent = await enrollAgent(stack, north.secret, north.host);
    north.agentId = north.agent.agentId;
    await seedAlerts(SEEDED, (i) => `Seeded alert ${String(i).padStart(3, '0')}`);
    await signIn(stack, page, stack.adminKey);
  } catch (err) {
    console.error('console suite could not start:', err);
    await browser?.close();
    await stack?.close();
    throw err;
  }
});

test.after(async () => {
  north.agent?.close();
  await browser?.close();
  await stack?.close();
});

test('1. six tabs of one browser all load and act: live updates share one stream', async () => {
  const tabs: Page[] = [page];
  try {
    await page.goto(`${stack.base}/ui/t/${north.id}/alerts`);
    await ready(page, 'alerts');
    for (let i = 1; i < 6; i++) {
      const tab = await browser.context.newPage();
      tabs.push(tab);
      await tab.goto(`${stack.base}/ui/t/${north.id}/alerts`, { timeout: SLOW_MS });
      await ready(tab, 'alerts');
    }
    for (const tab of tabs) await tab.locator('body[data-live="on"]').waitFor({ timeout: SLOW_MS });
    // Acting in the first tab still works with five more open.
    const row = page.locator('main tbody tr', { hasText: 'Seeded alert 219' });
    await row.getByRole('button', { name: 'Acknowledge' }).click();
    await page.locator('main tbody tr', { hasText: 'Seeded alert 219' }).waitFor({ state: 'detached', timeout: SLOW_MS });
    // … and the change reaches the last tab live.
    await tabs[5]!.locator('main tbody tr', { hasText: 'Seeded alert 219' }).waitFor({ state: 'detached', timeout: SLOW_MS });
  } finally {
    for (const tab of tabs.slice(1)) await tab.close();
  }
});

test('2. a live update merges: 200 rows stay, the ticked row stays ticked and visible; a filter change clears the selection', async () => {
  await page.goto(`${stack.base}/ui/t/${north.id}/alerts`);
  await ready(page, 'alerts');
  await showRows(page, 200);
  const ticked = page.locator('main tbody tr').nth(159);
  const title = (await ticked.locator('td').filter({ hasText: 'Seeded alert' }).innerText()).split('\n')[0]!.trim();
  await ticked.getByRole('checkbox').check();
  await ticked.scrollIntoViewIfNeeded();
  const scrollBefore = await page.evaluate(() => window.scrollY);
  await north.agent!.report([{ kind: 'alert', at: new Date().toISOString(), data: { rule: 'edr.live', severity: 'high', title: 'Arrived while reading' } }]);
  await page.locator('main tbody tr', { hasText: 'Arrived while reading' }).waitFor({ timeout: SLOW_MS });
  assert.ok((await page.locator('main tbody tr').count()) >= 200, 'the loaded rows stay');
  const still = page.locator('main tbody tr', { hasText: title });
  assert.ok(await still.getByRole('checkbox').isChecked(), 'the ticked row is still ticked');
  const scrollAfter = await page.evaluate(() => window.scrollY);
  assert.ok(Math.abs(scrollAfter - scrollBefore) < 120, `the page did not jump (${scrollBefore} → ${scrollAfter})`);
  await page.getByText('1 selected').waitFor();
  // A filter change: the selection is cleared, never kept hidden.
  await page.getByLabel('Severity', { exact: true }).selectOption('critical');
  await page.waitForFunction(() => !document.querySelector('main tbody tr td')?.textContent?.includes('low'));
  await page.getByText('1 selected').waitFor({ state: 'detached', timeout: SLOW_MS });
  const checked = await page.locator('main tbody input[type="checkbox"]:checked').count();
  assert.is(checked, 0);
});

test('3. a batch of 300 alerts gives one grouped notice, not 300', async () => {
  await page.goto(`${stack.base}/ui/t/${north.id}/overview`);
  await ready(page, 'overview');
  await page.locator('body[data-live="on"]').waitFor({ timeout: SLOW_MS });
  const at = new Date().toISOString();
  await north.agent!.report(
    Array.from({ length: 300 }, (_, i) => ({ kind: 'alert', at, data: { rule: 'edr.burst', severity: 'medium', title: `Burst ${i}` } })),
  );
  await page.locator('.toast', { hasText: '300 new alerts' }).waitFor({ timeout: SLOW_MS });
  assert.is(await page.locator('.toast').count(), 1);
  // The screen reader hears it once too.
  const spoken = await page.locator('[aria-live] >> text=/new alert/').count();
  assert.ok(spoken <= 1, `${spoken} announcements`);
});

test('4. the overview counts exactly what the API counts', async () => {
  await settled(stack, north.id);
  const api = (await apiCall(stack.base, stack.adminKey, 'GET', `/tenants/${north.id}/overview`)).body;
  assert.ok(api.alerts.open > 200, `seeded ${api.alerts.open}`);
  await page.goto(`${stack.base}/ui/t/${north.id}/overview`);
  await ready(page, 'overview');
  await page.locator('[data-stat="alerts"] .value', { hasText: api.alerts.open.toLocaleString('en-US') }).waitFor({ timeout: SLOW_MS });
  assert.not.ok((await page.locator('[data-stat="alerts"] .value').innerText()).includes('+'));
});

test('5. a long customer name or id does not push the header off screen', async () => {
  const id = `l${'o'.repeat(60)}ng`;
  const created = await apiCall(stack.base, stack.adminKey, 'POST', '/tenants', { id, name: 'Wide '.repeat(40).trim() });
  assert.is(created.status, 201);
  await settled(stack, id);
  await page.goto(`${stack.base}/ui/t/${id}/overview`);
  await ready(page, 'overview');
  assert.ok((await overflowX(page)) <= 0, `page is ${await overflowX(page)} px wider than the window`);
  assert.ok(await page.getByRole('button', { name: 'Sign out' }).isVisible());
  const box = await page.getByRole('button', { name: 'Sign out' }).boundingBox();
  assert.ok(box && box.x + box.width <= 1280, 'sign-out is on screen');
});

test('6a. every /ui address the dashboard does not have answers its not-found page, never raw JSON', async () => {
  for (const path of [
    `/ui/t/${'a'.repeat(80)}/overview`,
    `/ui/t/${north.id}/alerts/has.dot`,
    `/ui/t/${north.id}/alerts/${'x'.repeat(65)}`,
    `/ui/t/${north.id}/nope`,
  ]) {
    const res = await page.goto(`${stack.base}${path}`);
    assert.is(res!.status(), 404, path);
    assert.match(res!.headers()['content-type'] ?? '', /text\/html/, path);
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
  }
});

test('6b. the customer id field checks ids in the browser: a valid v-mode pattern, a 64-character id refused, not cut', async () => {
  await page.goto(`${stack.base}/ui/customers`);
  await ready(page, 'customers');
  const field = page.getByLabel('Customer id', { exact: true });
  const compiles = await field.evaluate((el: HTMLInputElement) => {
    try {
      new RegExp(`^(?:${el.pattern})$`, 'v');
      return true;
    } catch {
      return false;
    }
  });
  assert.ok(compiles, 'the pattern compiles with the v flag, as browsers compile it');
  const posts: string[] = [];
  const onRequest = (r: Request) => {
    if (r.method() === 'POST' && r.url().endsWith('/ui/api/tenants')) posts.push(r.url());
  };
  page.on('request', onRequest);
  try {
    await field.fill('a'.repeat(64));
    await page.getByLabel('Name', { exact: true }).fill('Too long');
    assert.is((await field.inputValue()).length, 64, 'not cut to 63');
    await page.getByRole('button', { name: 'Create customer' }).click();
    assert.is(await field.evaluate((el: HTMLInputElement) => el.validity.valid), false);
    await field.fill('UPPER');
    assert.is(await field.evaluate((el: HTMLInputElement) => el.validity.patternMismatch), true);
    assert.equal(posts, []);
  } finally {
    page.off('request', onRequest);
  }
});

test('7a. a slow filter change shows a busy list and never the old rows under the new filter', async () => {
  await page.goto(`${stack.base}/ui/t/${north.id}/alerts`);
  await ready(page, 'alerts');
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  await page.route(/\/ui\/api\/tenants\/north\/alerts\?.*severity=low/, async (route) => {
    await gate;
    // Unrouting may already have let it through.
    await route.continue().catch(() => {});
  });
  try {
    await page.getByLabel('Severity', { exact: true }).selectOption('low');
    await page.locator('[aria-busy="true"]').first().waitFor({ timeout: SLOW_MS });
    const shown = await page.locator('main tbody tr .badge', { hasText: /^(medium|high|critical)$/ }).count();
    assert.is(shown, 0, 'rows of the previous filter are not shown as results of the new one');
  } finally {
    release();
    await page.unroute(/\/ui\/api\/tenants\/north\/alerts\?.*severity=low/);
  }
  await page.locator('[aria-busy="true"]').first().waitFor({ state: 'detached', timeout: SLOW_MS });
  assert.ok((await page.locator('main tbody tr').count()) > 0);
});

test('7b. filters live in the address: reload, Back and deep links keep them', async () => {
  await page.goto(`${stack.base}/ui/t/${north.id}/alerts`);
  await ready(page, 'alerts');
  await page.getByLabel('Severity', { exact: true }).selectOption('high');
  await page.waitForURL(/severity=high/);
  await page.getByLabel('Status', { exact: true }).selectOption('acknowledged');
  await page.waitForURL(/status=acknowledged/);
  await page.reload();
  await ready(page, 'alerts');
  assert.is(await page.getByLabel('Severity', { exact: true }).inputValue(), 'high');
  assert.is(await page.getByLabel('Status', { exact: true }).inputValue(), 'acknowledged');
  await page.goBack();
  await page.waitForURL((u) => !u.search.includes('status=acknowledged'));
  await page.waitForFunction(() => (document.querySelector('select[name="status"]') as HTMLSelectElement | null)?.value !== 'acknowledged');
  assert.is(await page.getByLabel('Severity', { exact: true }).inputValue(), 'high');
  await page.goto(`${stack.base}/ui/t/${north.id}/alerts?status=resolved&severity=critical`);
  await ready(page, 'alerts');
  assert.is(await page.getByLabel('Status', { exact: true }).inputValue(), 'resolved');
  assert.is(await page.getByLabel('Severity', { exact: true }).inputValue(), 'critical');
});

test('7c. the menu follows a product switched off elsewhere', async () => {
  await page.goto(`${stack.base}/ui/t/${north.id}/overview`);
  await ready(page, 'overview');
  await page.locator('body[data-live="on"]').waitFor({ timeout: SLOW_MS });
  await page.locator('nav').getByRole('link', { name: 'Evidence' }).waitFor();
  await apiCall(stack.base, stack.adminKey, 'PUT', `/tenants/${north.id}/products/edr`, { enabled: false });
  await page.locator('nav').getByRole('link', { name: 'Evidence' }).waitFor({ state: 'detached', timeout: SLOW_MS });
  await apiCall(stack.base, stack.adminKey, 'PUT', `/tenants/${north.id}/products/edr`, { enabled: true });
  await page.locator('nav').getByRole('link', { name: 'Evidence' }).waitFor({ timeout: SLOW_MS });
});

test("7d. an incident's assignee can be cleared", async () => {
  const inc = await apiCall(stack.base, stack.adminKey, 'POST', `/tenants/${north.id}/incidents`, { title: 'Assignee goes away', severity: 'low' });
  assert.is(
    (await apiCall(stack.base, stack.adminKey, 'PATCH', `/tenants/${north.id}/incidents/${inc.body.id}`, { assignee: 'dana@msp.example' })).status,
    200,
  );
  await settled(stack, north.id);
  await page.goto(`${stack.base}/ui/t/${north.id}/incidents/${inc.body.id}`);
  await ready(page, 'incidents');
  const field = page.getByLabel('Assignee', { exact: true });
  assert.is(await field.inputValue(), 'dana@msp.example');
  await field.fill('');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('[data-field="assignee"]', { hasText: 'nobody' }).waitFor({ timeout: SLOW_MS });
  await settled(stack, north.id);
  const after = await apiCall(stack.base, stack.adminKey, 'GET', `/tenants/${north.id}/incidents/${inc.body.id}`);
  assert.is(after.body.assignee, null);
});

test('7e. a double click sends one request', async () => {
  await page.goto(`${stack.base}/ui/t/${north.id}/alerts`);
  await ready(page, 'alerts');
  const acks: string[] = [];
  const onRequest = (r: Request) => {
    if (r.method() === 'POST' && /\/ack$/.test(r.url())) acks.push(r.url());
  };
  page.on('request', onRequest);
  try {
    const row = page.locator('main tbody tr').first();
    const id = await row.getAttribute('data-id');
    await row.getByRole('button', { name: 'Acknowledge' }).dblclick();
    await page.locator(`main tbody tr[data-id="${id}"]`).waitFor({ state: 'detached', timeout: SLOW_MS });
    assert.is(acks.length, 1, acks.join(', '));
  } finally {
    page.off('request', onRequest);
  }
});

test("7f. a suspended customer's agent page offers no Dispatch", async () => {
  await apiCall(stack.base, stack.adminKey, 'POST', `/tenants/${north.id}/suspend`, { reason: 'contract paused' });
  try {
    await settled(stack, north.id);
    await page.goto(`${stack.base}/ui/t/${north.id}/agents/${north.agentId}`);
    await ready(page, 'agents');
    await page.getByRole('heading', { name: north.host }).waitFor();
    assert.is(await page.getByRole('button', { name: 'Dispatch' }).count(), 0);
    await page.locator('main').getByText('This customer is suspended', { exact: false }).waitFor();
  } finally {
    await apiCall(stack.base, stack.adminKey, 'POST', `/tenants/${north.id}/resume`);
    await settled(stack, north.id);
  }
});

test('7g. an ended session keeps the half-typed form, and signing in again returns to the page', async () => {
  await page.goto(`${stack.base}/ui/t/${north.id}/incidents`);
  await ready(page, 'incidents');
  await page.getByLabel('Title', { exact: true }).fill('Half-typed: lateral movement from north-web-01');
  await endSession(stack, browser.context);
  await page.getByRole('button', { name: 'Open incident' }).click();
  await page.waitForURL(/\/ui\/login/, { timeout: SLOW_MS });
  await page.getByLabel('Admin key or tenant token', { exact: true }).fill(stack.adminKey);
  await page.getByRole('button', { name: 'Sign in with key' }).click();
  await page.waitForURL(`${stack.base}/ui/t/${north.id}/incidents`, { timeout: SLOW_MS });
  await ready(page, 'incidents');
  assert.is(await page.getByLabel('Title', { exact: true }).inputValue(), 'Half-typed: lateral movement from north-web-01');
});

test('8. errors reach people as a sentence with the error code, and a retry where one makes sense', async () => {
  await page.goto(`${stack.base}/ui/t/${north.id}/alerts`);
  await ready(page, 'alerts');
  await page.route(/\/ack$/, (route) => route.abort('connectionrefused'));
  const row = page.locator('main tbody tr').first();
  const id = await row.getAttribute('data-id');
  try {
    await row.getByRole('button', { name: 'Acknowledge' }).click();
    const notice = page.locator('.toast.t-error').first();
    await notice.waitFor({ timeout: SLOW_MS });
    const text = await notice.innerText();
    assert.not.ok(/Failed to fetch|NetworkError|TypeError/.test(text), text);
    assert.match(text, /Stockade/);
    await page.unroute(/\/ack$/);
    await notice.getByRole('button', { name: 'Retry' }).click();
    await page.locator(`main tbody tr[data-id="${id}"]`).waitFor({ state: 'detached', timeout: SLOW_MS });
  } finally {
    await page.unroute(/\/ack$/);
  }
  // An API refusal: a sentence and its code.
  await page.goto(`${stack.base}/ui/customers`);
  await ready(page, 'customers');
  await page.getByLabel('Customer id', { exact: true }).fill(south.id);
  await page.getByLabel('Name', { exact: true }).fill('Again');
  await page.getByRole('button', { name: 'Create customer' }).click();
  const refused = page.locator('.toast.t-error', { hasText: 'STK_ERR_TENANT_EXISTS' });
  await refused.waitFor({ timeout: SLOW_MS });
  assert.match(await refused.innerText(), /already/);
});

test('9a. at 390 px wide every page reflows: no sideways scrolling, the menu still reachable', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    for (const name of ['overview', 'agents', 'alerts', 'incidents', 'findings', 'evidence', 'audit', 'ledger']) {
      await page.goto(`${stack.base}/ui/t/${north.id}/${name}`);
      await ready(page, name);
      assert.ok((await overflowX(page)) <= 0, `${name}: ${await overflowX(page)} px of sideways scrolling`);
    }
    await page.goto(`${stack.base}/ui/customers`);
    await ready(page, 'customers');
    assert.ok((await overflowX(page)) <= 0, `customers: ${await overflowX(page)} px of sideways scrolling`);
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.locator('nav').getByRole('link', { name: 'Customers', exact: true }).waitFor();
  } finally {
    await page.setViewportSize({ width: 1280, height: 800 });
  }
});

test('9b. input borders and the focus ring have 3:1 contrast against what is around them', async () => {
  await page.goto(`${stack.base}/ui/customers`);
  await ready(page, 'customers');
  const field = page.getByLabel('Customer id', { exact: true });
  const input = await field.evaluate((el) => {
    const s = getComputedStyle(el);
    const bg = getComputedStyle(el.closest('section, main, body')!).backgroundColor;
    return {
      border: s.borderTopColor,
      background: s.backgroundColor,
      around: bg === 'rgba(0, 0, 0, 0)' ? getComputedStyle(document.body).backgroundColor : bg,
    };
  });
  assert.ok(contrast(input.border, input.background) >= 3, `input border ${input.border} on ${input.background}`);
  await field.focus();
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Tab');
  const ring = await field.evaluate((el) => ({ color: getComputedStyle(el).outlineColor, width: getComputedStyle(el).outlineWidth }));
  assert.ok(Number.parseFloat(ring.width) >= 2, `focus ring ${ring.width}`);
  assert.ok(contrast(ring.color, input.around) >= 3, `focus ring ${ring.color} on ${input.around}`);
  const signOut = page.getByRole('button', { name: 'Sign out' });
  await signOut.focus();
  const top = await signOut.evaluate((el) => ({ color: getComputedStyle(el).outlineColor, bg: getComputedStyle(el.closest('header')!).backgroundColor }));
  assert.ok(contrast(top.color, top.bg) >= 3, `header focus ring ${top.color} on ${top.bg}`);
});

test('9c. following a menu link moves focus to the new page heading', async () => {
  await page.goto(`${stack.base}/ui/t/${north.id}/overview`);
  await ready(page, 'overview');
  await page.locator('nav').getByRole('link', { name: 'Alerts' }).click();
  await ready(page, 'alerts');
  await page.waitForFunction(() => document.activeElement?.tagName === 'H1', undefined, { timeout: SLOW_MS });
});

test('9d. arrow keys on the customer switcher do not switch customer on every key; Enter does', async () => {
  await page.goto(`${stack.base}/ui/t/${north.id}/overview`);
  await ready(page, 'overview');
  const before = page.url();
  await page.getByLabel('Customer', { exact: true }).focus();
  await page.keyboard.press('ArrowDown');
  const outcome = await Promise.race([
    page.waitForURL((u) => u.href !== before, { timeout: SLOW_MS }).then(() => 'switched'),
    page
      .getByText('Press Enter to switch')
      .waitFor({ timeout: SLOW_MS })
      .then(() => 'held'),
  ]);
  assert.is(outcome, 'held');
  assert.is(page.url(), before);
  await page.keyboard.press('Enter');
  await page.waitForURL((u) => u.href !== before, { timeout: SLOW_MS });
});

// What operators expect, beyond the fixes.

test('bulk: "select all matching the filter" acknowledges every matching alert in one call the server carries out', async () => {
  await settled(stack, north.id);
  const before = (await apiCall(stack.base, stack.adminKey, 'GET', `/tenants/${north.id}/alerts?status=open&severity=critical&limit=1`)).body.total as number;
  assert.ok(before > 50, `${before} open critical alerts`);
  const bulkCalls: string[] = [];
  const onRequest = (r: Request) => {
    if (r.method() === 'POST' && r.url().endsWith('/alerts/bulk')) bulkCalls.push(r.url());
  };
  page.on('request', onRequest);
  try {
    await page.goto(`${stack.base}/ui/t/${north.id}/alerts?severity=critical&limit=25`);
    await ready(page, 'alerts');
    await page.getByLabel('Select every alert on this page', { exact: true }).check();
    await page.getByRole('button', { name: `Select all ${before} matching the filter` }).click();
    await page.getByText(`${before} selected`).waitFor();
    await page.getByRole('button', { name: 'Acknowledge selected' }).click();
    await page.locator('.toast', { hasText: `${before} alerts acknowledged` }).waitFor({ timeout: SLOW_MS });
  } finally {
    page.off('request', onRequest);
  }
  assert.is(bulkCalls.length, 1, 'the filter goes to the server, not the ids a batch at a time');
  await settled(stack, north.id);
  const after = await apiCall(stack.base, stack.adminKey, 'GET', `/tenants/${north.id}/alerts?status=open&severity=critical&limit=1`);
  assert.is(after.body.total, 0);
});

test('an alert: its host by name, observed vs received, who acknowledged it, the other alerts of the host', async () => {
  const [one] = (await apiCall(stack.base, stack.adminKey, 'GET', `/tenants/${north.id}/alerts?status=acknowledged&limit=1`)).body.items;
  await page.goto(`${stack.base}/ui/t/${north.id}/alerts/${one.id}`);
  await ready(page, 'alerts');
  await page.getByRole('heading', { name: one.title }).waitFor();
  const facts = await page.locator('main').innerText();
  for (const want of ['Observed on the host', 'Received by Stockade', north.host, 'the admin key (break-glass)']) assert.ok(facts.includes(want), want);
  assert.is(await page.locator('main [data-principal="operator:admin"]').first().getAttribute('title'), 'operator:admin');
  await page.locator(`main section[aria-label="Alerts on ${north.host}"] tbody tr[data-id]`).first().waitFor({ timeout: SLOW_MS });
  await page.getByRole('link', { name: `Respond on ${north.host}` }).click();
  await ready(page, 'agents');
  await page.getByRole('heading', { name: north.host }).waitFor();
});

test('names, not ids: an incident and an alert show who acted by name, the e-mail and the raw principal on hover', async () => {
  const user = await apiCall(stack.base, stack.adminKey, 'POST', '/users', { name: 'Dana Whitfield', email: 'dana.whitfield@msp.example' });
  assert.is(user.status, 201, JSON.stringify(user.body));
  const principal = `operator:user:${user.body.id}`;
  const dana = { kind: 'operator' as const, id: `user:${user.body.id}` };
  const log = stack.stk.runtime.log;
  const { alertId } = await raiseAlert(log, north.id, north.agentId, { title: 'Named acknowledger' });
  await execute(log, { tenant: north.id, id: alertId }, alertDecider, { kind: 'acknowledge' }, { actor: dana });
  const inc = await apiCall(stack.base, stack.adminKey, 'POST', `/tenants/${north.id}/incidents`, {
    title: 'Who is who',
    severity: 'low',
    alertIds: [alertId],
  });
  assert.is(inc.status, 201, JSON.stringify(inc.body));
  await execute(log, { tenant: north.id, id: inc.body.id }, incidentDecider, { kind: 'comment', text: 'Dana was here' }, { actor: dana });
  await settled(stack, north.id);

  await page.goto(`${stack.base}/ui/t/${north.id}/incidents/${inc.body.id}`);
  await ready(page, 'incidents');
  const comment = page.locator('main ol.comments li').filter({ hasText: 'Dana was here' });
  await comment.waitFor({ timeout: SLOW_MS });
  const who = comment.locator('.who');
  assert.is(await who.innerText(), 'Dana Whitfield');
  assert.is(await who.getAttribute('title'), `dana.whitfield@msp.example · ${principal}`);
  const timeline = await page.locator('main ol.timeline').innerText();
  assert.ok(timeline.includes('Dana Whitfield: commented'), timeline);
  assert.ok(timeline.includes('the admin key (break-glass): opened'), timeline);
  assert.not.ok((await page.locator('main').innerText()).includes(principal), 'the raw principal is on hover only');

  await page.goto(`${stack.base}/ui/t/${north.id}/alerts/${alertId}`);
  await ready(page, 'alerts');
  await page.getByRole('heading', { name: 'Named acknowledger' }).waitFor({ timeout: SLOW_MS });
  const acked = page.locator(`main [data-principal="${principal}"]`);
  assert.is(await acked.innerText(), 'Dana Whitfield');
  assert.is(await acked.getAttribute('title'), `dana.whitfield@msp.example · ${principal}`);
});

test('the agent page: a form per command built from its arguments; a pending command can be cancelled', async () => {
  await page.goto(`${stack.base}/ui/t/${north.id}/agents/${north.agentId}`);
  await ready(page, 'agents');
  await page.getByLabel('Command', { exact: true }).selectOption('kill-process');
  const pid = page.getByLabel('Process id', { exact: true });
  await pid.waitFor();
  assert.is(await pid.getAttribute('type'), 'number');
  await page.getByRole('button', { name: 'Dispatch' }).click();
  assert.is(await pid.evaluate((el: HTMLInputElement) => el.validity.valueMissing), true, 'a required argument is asked for in the browser');
  await pid.fill('4242');
  await page.getByRole('button', { name: 'Dispatch' }).click();
  const row = page.locator('[data-table="commands"] tr', { hasText: 'kill-process' });
  await row.locator('.badge', { hasText: 'pending' }).waitFor({ timeout: SLOW_MS });
  assert.ok((await row.innerText()).includes('"pid":4242'));
  await row.getByRole('button', { name: 'Cancel' }).click();
  await page.locator('dialog').getByRole('button', { name: 'Cancel command' }).click();
  await row.locator('.badge', { hasText: 'cancelled' }).waitFor({ timeout: SLOW_MS });
  // The agent never gets it.
  assert.not.ok((await north.agent!.commands()).some((c) => c.action === 'kill-process'));
});

test("a customer's page: rename, tokens listed and revoked, the CA certificate, an enroll command without server paths", async () => {
  await page.goto(`${stack.base}/ui/customers/${north.id}`);
  await ready(page, 'customers');
  await page.getByLabel('Name', { exact: true }).fill('Northwind Traders Ltd');
  await page.getByRole('button', { name: 'Rename' }).click();
  await page.getByRole('heading', { name: 'Northwind Traders Ltd' }).waitFor({ timeout: SLOW_MS });
  await page.getByRole('button', { name: 'New token' }).click();
  await page.locator('dialog').getByLabel('Label', { exact: true }).fill('night shift');
  await page.locator('dialog').getByRole('button', { name: 'Create token' }).click();
  await page.locator('[data-once] input.secret').waitFor();
  const tokenRow = page.locator('[data-table="tokens"] tr', { hasText: 'night shift' });
  await tokenRow.waitFor({ timeout: SLOW_MS });
  await tokenRow.getByRole('button', { name: 'Revoke' }).click();
  await page.locator('dialog').getByRole('button', { name: 'Revoke token' }).click();
  await tokenRow.locator('.badge', { hasText: 'revoked' }).waitFor({ timeout: SLOW_MS });
  const ca = await page.evaluate(async () => {
    const href = document.querySelector('a[download="stockade-ca.crt"]')!.getAttribute('href')!;
    const r = await fetch(href);
    return [r.status, await r.text()] as const;
  });
  assert.is(ca[0], 200);
  assert.is(ca[1], await stack.caPem());
  await page.getByRole('button', { name: 'Rotate secret' }).click();
  await page.locator('dialog').getByRole('button', { name: 'Rotate' }).click();
  const command = await page.locator('[data-once] .command').inputValue();
  assert.ok(command.includes('--ca ./stockade-ca.crt') && !command.includes('/pki/'), command);
  // The ingress listens on loopback here: the page says agents elsewhere cannot reach it.
  await page.locator('[data-once]').getByText('--public-ingress-url', { exact: false }).waitFor();
  assert.is(await page.getByLabel('Open enrollment', { exact: false }).count(), 0, 'open enrollment is for default only');
  await page.goto(`${stack.base}/ui/customers/default`);
  await ready(page, 'customers');
  await page.getByLabel('Open enrollment', { exact: false }).waitFor();
});

test.run();

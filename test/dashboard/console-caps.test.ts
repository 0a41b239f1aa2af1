import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Page, Request } from 'playwright-core';
import type { AgentClient } from '../../src/agent/client.ts';
import type { PatchInventory } from '../../src/agent/patch/inventory.ts';
import { PRODUCTS } from '../../src/domain/products.ts';
import { recordInventory } from '../../src/patch/ingest.ts';
import { packagesStreamSpec } from '../../src/patch/packages.ts';
import { storeTelemetryBatch } from '../../src/telemetry/ingest.ts';
import { type TelemetryItem, telemetryRoot } from '../../src/telemetry/items.ts';
import { accountItem, connectionItem } from '../edr/items.ts';
import { enrollAgent as enrollDirect, raiseAlert } from '../helpers/events.ts';
import { browserFixture } from './browser.ts';
import { apiCall, enrollAgent, stockadeFixture } from './stack.ts';
import { ready, SLOW_MS, settled, signIn } from './ui.ts';

/**
 * What a reviewer found capped or missing in the console (issues 14 and 18), in a real browser
 * against a real Stockade: "select all matching" changes every matching alert through one call
 * the server carries out (no cap at 10,000 ids collected by the browser), "Add to incident" finds
 * any incident by a search the server runs (not the first 200), the connections and privileged
 * groups lists follow live changes, and the all-customers overview shows patch compliance.
 */
const test = suite('dashboard: bulk by filter, incident search, live lists, patch compliance');

type Stack = Awaited<ReturnType<typeof stockadeFixture>>;
let stack: Stack;
let browser: Awaited<ReturnType<typeof browserFixture>>;
let page: Page;
let agent: AgentClient | null = null;
const T = 'capsco';
const INCIDENTS = 60;

async function api(method: string, path: string, body?: unknown) {
  const r = await apiCall(stack.base, stack.adminKey, method, path, body);
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

test.before(async () => {
  stack = await stockadeFixture();
  try {
    browser = await browserFixture();
    page = browser.context.pages()[0] ?? (await browser.newPage());
    const created = await api('POST', '/tenants', { id: T, name: 'Caps & Co' });
    for (const p of ['edr', 'patch', 'identity']) await api('PUT', `/tenants/${T}/products/${p}`, { enabled: true });
    await settled(stack, T);
    agent = await enrollAgent(stack, created.enrollSecret, 'caps-web-01');
    const log = stack.stk.runtime.log;
    const severities = ['low', 'medium', 'high', 'critical'] as const;
    for (let i = 0; i < 280; i += 20) {
      await Promise.all(
        Array.from({ length: 20 }, (_, k) => raiseAlert(log, T, agent!.agentId, { title: `Caps alert ${i + k}`, severity: severities[(i + k) % 4]! })),
      );
    }
    // More incidents than the picker shows at once; the one to find is among the oldest.
    for (let i = 0; i < INCIDENTS; i++) {
      await api('POST', `/tenants/${T}/incidents`, {
        title: i === 3 ? 'Case 03 needle in the haystack' : `Case ${String(i).padStart(2, '0')}`,
        severity: 'low',
      });
    }
    await settled(stack, T);
    await signIn(stack, page, stack.adminKey);
  } catch (err) {
    console.error('console-caps suite could not start:', err);
    await browser?.close();
    await stack?.close();
    throw err;
  }
});

test.after(async () => {
  agent?.close();
  await browser?.close();
  await stack?.close();
});

test('"select all matching" resolves every matching alert with one call carrying the filter; the notice says how many', async () => {
  const critical = (await api('GET', `/tenants/${T}/alerts?status=open&severity=critical&limit=1`)).total as number;
  const high = (await api('GET', `/tenants/${T}/alerts?status=open&severity=high&limit=1`)).total as number;
  assert.ok(critical > 25, `${critical} critical alerts: more than a page`);
  const bodies: unknown[] = [];
  const onRequest = (r: Request) => {
    if (r.method() === 'POST' && r.url().endsWith('/alerts/bulk')) bodies.push(r.postDataJSON());
  };
  page.on('request', onRequest);
  try {
    await page.goto(`${stack.base}/ui/t/${T}/alerts?severity=critical&limit=25`);
    await ready(page, 'alerts');
    await page.getByLabel('Select every alert on this page', { exact: true }).check();
    await page.getByRole('button', { name: `Select all ${critical} matching the filter` }).click();
    await page.getByText(`${critical} selected`).waitFor();
    await page.getByRole('button', { name: 'Resolve selected' }).click();
    const dialog = page.locator('dialog');
    await dialog.getByRole('heading', { name: `Resolve all ${critical} alert(s)` }).waitFor();
    await dialog.getByLabel('Resolution', { exact: true }).fill('false positive storm');
    await dialog.getByRole('button', { name: 'Resolve', exact: true }).click();
    await page.locator('.toast', { hasText: `${critical} alerts resolved` }).waitFor({ timeout: SLOW_MS });
  } finally {
    page.off('request', onRequest);
  }
  assert.equal(
    bodies,
    [{ action: 'resolve', filter: { status: 'open', severity: 'critical' }, reason: 'false positive storm' }],
    'one call, the filter, no ids',
  );
  await settled(stack, T);
  assert.is((await api('GET', `/tenants/${T}/alerts?status=open&severity=critical&limit=1`)).total, 0);
  assert.is((await api('GET', `/tenants/${T}/alerts?status=open&severity=high&limit=1`)).total, high, 'nothing outside the filter changed');
  // The list shows the result without a reload, and the selection is gone.
  await page.getByText('No alerts match.').waitFor({ timeout: SLOW_MS });
  assert.is(await page.locator('[data-selection]').count(), 0);
});

test('"Add to incident" searches every incident on the server: an old one past the first page is found and gets the alerts', async () => {
  await page.goto(`${stack.base}/ui/t/${T}/alerts?severity=high&limit=25`);
  await ready(page, 'alerts');
  const row = page.locator('main tbody tr[data-id]').first();
  const alertId = (await row.getAttribute('data-id'))!;
  await row.getByRole('checkbox').check();
  await page.getByRole('button', { name: 'Add to incident' }).click();
  const dialog = page.locator('dialog');
  // Not every incident fits the list: the field says so and asks for a search.
  await dialog.getByText(`50 shown of ${INCIDENTS} matching; type to narrow the search.`).waitFor({ timeout: SLOW_MS });
  assert.is(await dialog.getByRole('option', { name: /needle/ }).count(), 0, 'the old incident is not among the newest 50');
  await dialog.getByLabel('Search incidents', { exact: true }).fill('needle');
  await dialog.getByRole('option', { name: /Case 03 needle in the haystack/ }).waitFor({ timeout: SLOW_MS });
  await dialog.getByText('1 matching.').waitFor();
  await dialog.getByLabel('Incident', { exact: true }).selectOption({ label: 'Case 03 needle in the haystack (low, open)' });
  await dialog.getByRole('button', { name: 'Add to incident', exact: true }).click();
  await page.locator('.toast', { hasText: '1 alert added to the incident' }).waitFor({ timeout: SLOW_MS });
  await settled(stack, T);
  const found = (await api('GET', `/tenants/${T}/incidents?q=needle`)).items[0];
  const incident = await api('GET', `/tenants/${T}/incidents/${found.id}`);
  assert.equal(incident.alertIds, [alertId]);
});

test('"Open incident from selected" with every matching alert: the server links them all', async () => {
  const medium = (await api('GET', `/tenants/${T}/alerts?status=open&severity=medium&limit=1`)).total as number;
  await page.goto(`${stack.base}/ui/t/${T}/alerts?severity=medium&limit=25`);
  await ready(page, 'alerts');
  await page.getByLabel('Select every alert on this page', { exact: true }).check();
  await page.getByRole('button', { name: `Select all ${medium} matching the filter` }).click();
  await page.getByRole('button', { name: 'Open incident from selected' }).click();
  const dialog = page.locator('dialog');
  await dialog.getByRole('heading', { name: `Open an incident from all ${medium} matching alerts` }).waitFor();
  await dialog.getByLabel('Title', { exact: true }).fill('Medium sweep');
  await dialog.getByRole('button', { name: 'Open incident', exact: true }).click();
  await page.locator('.toast', { hasText: `Incident opened with ${medium} alerts` }).waitFor({ timeout: SLOW_MS });
  await ready(page, 'incidents');
  const id = new URL(page.url()).pathname.split('/').at(-1)!;
  await settled(stack, T);
  assert.is((await api('GET', `/tenants/${T}/incidents/${id}`)).alertIds.length, medium);
});

test('connections and privileged groups follow live changes, like every other list', async () => {
  const log = stack.stk.runtime.log;
  const store = async (batchId: string, items: TelemetryItem[]) => {
    await storeTelemetryBatch(log, { tenant: T, agentId: agent!.agentId, products: PRODUCTS }, { batchId, merkleRoot: telemetryRoot(items), items });
  };
  await page.goto(`${stack.base}/ui/t/${T}/connections`);
  await ready(page, 'connections');
  await page.locator('body[data-live="on"]').waitFor({ timeout: SLOW_MS });
  await page.getByText('No connection', { exact: false }).first().waitFor({ timeout: SLOW_MS });
  await store('caps-live-1', [connectionItem(4711, { remoteAddress: '198.51.100.77' })]);
  await page.locator('[data-table="connections"] tbody tr', { hasText: '198.51.100.77:4711' }).waitFor({ timeout: SLOW_MS });

  await page.goto(`${stack.base}/ui/t/${T}/identities?view=groups`);
  await ready(page, 'identities');
  await page.locator('body[data-live="on"]').waitFor({ timeout: SLOW_MS });
  await store('caps-live-2', [accountItem('mallory', { change: 'group-member-added', group: 'sudo', privileged: true, details: { gid: 27 } })]);
  await page.locator('[data-table="identity-groups"] tbody tr', { hasText: 'mallory' }).waitFor({ timeout: SLOW_MS });
});

test('the all-customers overview shows patch compliance: compliant hosts of hosts, and the hosts needing a reboot', async () => {
  const log = stack.stk.runtime.log;
  await log.streams.ensureStream(packagesStreamSpec());
  const inv = (reboot: boolean): PatchInventory =>
    ({
      kind: 'patch-inventory',
      takenAt: new Date().toISOString(),
      os: null,
      packages: [],
      upgrades: [],
      newInstalls: [],
      removals: [],
      reboot: { required: reboot, packages: reboot ? ['linux-image-amd64'] : [] },
      listsRefreshed: true,
      warnings: [],
    }) as PatchInventory;
  const other = (await enrollDirect(log, T, 'caps-db-01')).agentId;
  await recordInventory(log, { tenant: T, agentId: agent!.agentId }, inv(false), { now: new Date() });
  await recordInventory(log, { tenant: T, agentId: other }, inv(true), { now: new Date() });
  await settled(stack, T);
  await page.goto(`${stack.base}/ui/overview`);
  await ready(page, 'overview');
  const cell = page.locator(`[data-table="msp-overview"] tr[data-id="${T}"] td[data-cell="patches"]`);
  await cell.getByText('1/2 compliant (50%)').waitFor({ timeout: SLOW_MS });
  assert.ok((await cell.innerText()).includes('1 needs a reboot'), await cell.innerText());
});

test.run();

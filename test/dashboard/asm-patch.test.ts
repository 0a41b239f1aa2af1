import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import { type Seeded, seedDemo } from '../../src/demo/mod.ts';
import { browserFixture } from './browser.ts';
import { apiCall, freshTenant, stockadeFixture } from './stack.ts';
import { auditPages, confirmDialog, ready, screenshot, SLOW_MS, settled, signIn } from './ui.ts';

/**
 * The Assets, scan-run and Patches pages in a real browser over the demo book: `seedDemo` tells the
 * flagship customer's story through the API and the mTLS ingress only — two scans of its declared
 * block from an agent inside it (telnet switched off and a debug server opened between them), patch
 * inventories of every host, a real install-patches job and a dry run. A customer without the
 * products is offered none of the pages and their addresses answer 404.
 */
const test = suite('dashboard: attack surface and patch management pages');

type Stack = Awaited<ReturnType<typeof stockadeFixture>>;
type Browser = Awaited<ReturnType<typeof browserFixture>>;
let stack: Stack;
let browser: Browser;
let page: Page;
let seeded: Seeded | null = null;
let T = '';
const plain = freshTenant('plain');
const errors: string[] = [];

const api = async (method: string, path: string, body?: unknown): Promise<any> => {
  const r = await apiCall(stack.base, stack.adminKey, method, `/tenants/${T}${path}`, body);
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
};

test.before(async () => {
  try {
    stack = await stockadeFixture();
    seeded = await seedDemo({
      target: { api: stack.base, adminKey: stack.adminKey, ingressUrl: stack.stk.ingressUrl!, caPem: await stack.caPem() },
      customers: 1,
      timeoutMs: 180_000,
    });
    T = seeded.summary.flagship;
    assert.ok(seeded.summary.customers[0]!.products.includes('patch') && seeded.summary.customers[0]!.products.includes('attack-surface'));
    assert.is((await apiCall(stack.base, stack.adminKey, 'POST', '/tenants', { id: plain, name: 'Plain Customer' })).status, 201);
    assert.is((await apiCall(stack.base, stack.adminKey, 'PUT', `/tenants/${plain}/products/edr`, { enabled: true })).status, 200);
    await settled(stack, T);
    await settled(stack, plain);
    browser = await browserFixture();
    page = browser.context.pages()[0] ?? (await browser.newPage());
    page.on('pageerror', (err) => errors.push(`uncaught: ${err.message}`));
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) errors.push(m.text());
    });
    await signIn(stack, page, stack.adminKey);
  } catch (err) {
    console.error('attack surface and patch dashboard suite could not start:', err);
    throw err;
  }
});

test.after(async () => {
  seeded?.close();
  await browser?.close();
  await stack?.close();
});

/** The newest completed scan run and the one before it, as the API lists them. */
async function runs(): Promise<{ latest: string; previous: string }> {
  const list = (await api('GET', '/scans?status=completed&limit=10')).items as Array<{ id: string; previousRunId?: string | null }>;
  const latest = list.find((r) => r.previousRunId);
  assert.ok(latest, 'a second run over the same targets');
  return { latest: latest.id, previous: latest.previousRunId! };
}

/** The endpoint the second scan found newly open (the debug server), as the API's diff names it. */
async function openedEndpoint(): Promise<{ address: string; port: number }> {
  const { latest } = await runs();
  const opened = (await api('GET', `/scans/${latest}/diff`)).diff.opened as string[];
  assert.is(opened.length, 1, opened.join());
  const [address, port] = opened[0]!.split(':') as [string, string];
  return { address, port: Number(port) };
}

test('Assets by host: each scanned address with its open ports, a port links to the endpoints behind it', async () => {
  const hosts = (await api('GET', '/assets/hosts?limit=200')).items as Array<{ address: string; openPorts: number[] }>;
  const debug = await openedEndpoint();
  const web = hosts.find((h) => h.address === debug.address)!;
  assert.ok(web?.openPorts.includes(debug.port), 'the debug server the second scan found');
  await page.goto(`${stack.base}/ui/t/${T}/assets`);
  await ready(page, 'assets');
  const row = page.locator('[data-table="assets/hosts"] tbody tr', { hasText: web.address });
  await row.waitFor({ timeout: SLOW_MS });
  for (const port of web.openPorts) await row.getByRole('link', { name: String(port), exact: true }).waitFor();
  assert.is(await page.locator('[data-table="assets/hosts"] tbody tr').count(), hosts.length);
  await screenshot(page, 'assets');

  await row.getByRole('link', { name: String(debug.port), exact: true }).click();
  await page.waitForURL(/view=ports/);
  await ready(page, 'assets');
  const endpoint = page.locator('[data-table="assets/ports"] tbody tr');
  await page.waitForFunction(() => document.querySelectorAll('[data-table="assets/ports"] tbody tr[data-id]').length === 1, undefined, { timeout: SLOW_MS });
  assert.match(await endpoint.innerText(), /Werkzeug\/2\.2\.2/);
  assert.is(await page.locator('nav.tabs a[aria-current="page"]').innerText(), 'By port');
});

test("Assets by port and state, by certificate expiry with each status, and the agents' listeners", async () => {
  const all = (await api('GET', '/assets/ports?limit=200')).items as Array<{ state: string }>;
  await page.goto(`${stack.base}/ui/t/${T}/assets?view=ports&state=`);
  await ready(page, 'assets');
  await page.waitForFunction((n) => document.querySelectorAll('[data-table="assets/ports"] tbody tr[data-id]').length === n, all.length, { timeout: SLOW_MS });
  const closed = all.filter((e) => e.state === 'closed').length;
  assert.ok(closed > 0, 'telnet, closed by the second scan, stays listed with its state');
  await page.getByLabel('State', { exact: true }).selectOption('closed');
  await page.waitForFunction((n) => document.querySelectorAll('[data-table="assets/ports"] tbody tr[data-id]').length === n, closed, { timeout: SLOW_MS });

  const certs = (await api('GET', '/assets/certificates?served=yes&limit=200')).items as Array<{ subject: string; status: string; notAfter: string }>;
  assert.ok(certs.length > 0);
  await page.getByRole('link', { name: 'By certificate expiry' }).click();
  await page.waitForURL(/view=certificates/);
  await ready(page, 'assets');
  const rows = page.locator('[data-table="assets/certificates"] tbody tr[data-id]');
  await page.waitForFunction((n) => document.querySelectorAll('[data-table="assets/certificates"] tbody tr[data-id]').length === n, certs.length, {
    timeout: SLOW_MS,
  });
  // Soonest expiry first, each with its status against the customer's threshold.
  for (const [i, c] of certs.entries()) {
    const text = await rows.nth(i).innerText();
    assert.ok(text.includes(c.subject) && text.includes(c.status), `${i}: ${text}`);
  }
  await screenshot(page, 'assets-certificates');

  await page.getByRole('link', { name: 'Listening services of agent hosts' }).click();
  await ready(page, 'assets');
  const services = (await api('GET', '/assets/services')).items as Array<{ hostname: string }>;
  assert.ok(services.length > 0);
  await page.locator('[data-table="assets/services"] tbody tr', { hasText: services[0]!.hostname }).waitFor({ timeout: SLOW_MS });
});

test('a scan run: the diff against the previous run (telnet closed, the debug server opened), items paged, an item proven in the browser', async () => {
  const { latest, previous } = await runs();
  await page.goto(`${stack.base}/ui/t/${T}/scans`);
  await ready(page, 'scans');
  await page.locator(`a[title="scan run ${latest}"]`).click();
  await page.waitForURL(new RegExp(`/scans/${latest}$`));
  await ready(page, 'scans');
  const diff = page.locator('[data-diff="compared"]');
  await diff.waitFor({ timeout: SLOW_MS });
  const opened = await page.locator('[data-ports="opened"] li').allInnerTexts();
  const closed = await page.locator('[data-ports="closed"] li').allInnerTexts();
  assert.ok(opened.length === 1 && opened[0]!.endsWith(':8080'), opened.join());
  assert.ok(closed.length === 1 && closed[0]!.endsWith(':23'), closed.join());
  assert.ok(
    await diff
      .getByRole('link', { name: /the run of/ })
      .getAttribute('href')
      .then((h) => h?.endsWith(`/scans/${previous}`)),
  );
  await diff.getByText('No endpoint open in both runs changed its certificate.').waitFor();

  // 14 addresses × 13 ports: four pages of 50, in the run's defined order.
  const items = page.locator('[data-table^="scans/"] tbody tr[data-id]');
  await page.waitForFunction(() => document.querySelectorAll('[data-table^="scans/"] tbody tr[data-id]').length === 50, undefined, { timeout: SLOW_MS });
  assert.is(await items.first().getAttribute('data-id'), '0');
  await page.getByRole('button', { name: 'Next page' }).click();
  await page.getByText('Page 2').waitFor();
  await page.waitForFunction(() => document.querySelector('[data-table^="scans/"] tbody tr[data-id]')?.getAttribute('data-id') === '50', undefined, {
    timeout: SLOW_MS,
  });

  await page.getByLabel('State', { exact: true }).selectOption('open');
  await page.waitForURL(/state=open/);
  const debug = await openedEndpoint();
  const port8080 = page.locator('[data-table^="scans/"] tbody tr', { hasText: `${debug.address}:${debug.port}` });
  await port8080.waitFor({ timeout: SLOW_MS });
  const index = await port8080.getAttribute('data-id');
  await port8080.getByRole('button', { name: `Proof of item ${index}` }).click();
  await page.waitForURL(new RegExp(`proof=${index}`));
  await page.locator('[data-proof="verified"]').waitFor({ timeout: SLOW_MS });
  const download = page.getByRole('link', { name: 'Download the proof (JSON)' });
  assert.match((await download.getAttribute('href')) ?? '', new RegExp(`/scans/${latest}/items/${index}/proof$`));
  // The filter stayed: the proof was asked beside the list, not instead of it.
  assert.ok((await page.locator('[data-table^="scans/"] tbody tr[data-id]').count()) > 0);
  await screenshot(page, 'scan-run');

  // The first run is the baseline.
  await page.goto(`${stack.base}/ui/t/${T}/scans/${previous}`);
  await ready(page, 'scans');
  await page.locator('[data-diff="baseline"]').waitFor();
});

test('Patches: hosts by compliance as the API counts them, packages by hosts affected, the jobs and a job result per package', async () => {
  const summary = await api('GET', '/patches');
  const hosts = (await api('GET', '/patches/hosts?limit=200')).items as Array<{ agentId: string; hostname: string; now: { compliant: boolean } }>;
  assert.ok(hosts.length >= 3 && summary.hosts === hosts.length);
  await page.goto(`${stack.base}/ui/t/${T}/patches`);
  await ready(page, 'patches');
  assert.is(await page.locator('[data-stat="compliant"] .value').innerText(), `${summary.compliant} / ${summary.hosts}`);
  assert.is(await page.locator('[data-stat="reboot"] .value').innerText(), String(summary.needingReboot));
  const rows = page.locator('[data-table="patches/hosts"] tbody tr[data-id]');
  await page.waitForFunction((n) => document.querySelectorAll('[data-table="patches/hosts"] tbody tr[data-id]').length === n, hosts.length, {
    timeout: SLOW_MS,
  });
  // Worst first, as the API orders them.
  for (const [i, h] of hosts.entries()) {
    const text = await rows.nth(i).innerText();
    assert.ok(text.includes(h.hostname) && text.includes(h.now.compliant ? 'compliant' : 'non-compliant'), `${i}: ${text}`);
  }
  await screenshot(page, 'patches');
  await page.locator('[data-stat="reboot"]').click();
  await page.waitForURL(/rebootRequired=yes/);
  await ready(page, 'patches');
  await page.waitForFunction((n) => document.querySelectorAll('[data-table="patches/hosts"] tbody tr[data-id]').length === n, summary.needingReboot, {
    timeout: SLOW_MS,
  });

  const packages = (await api('GET', '/patches/packages?security=yes')).items as Array<{ package: string; hostCount: number }>;
  await page.getByRole('link', { name: 'Packages by hosts affected' }).click();
  await ready(page, 'patches');
  await page.getByLabel('Security update', { exact: true }).selectOption('yes');
  const top = page.locator('[data-table="patches/packages"] tbody tr[data-id]').first();
  await top.getByText(packages[0]!.package, { exact: true }).waitFor({ timeout: SLOW_MS });
  assert.match(await top.innerText(), new RegExp(`\\b${packages[0]!.hostCount}\\b`));

  const jobs = (await api('GET', '/patches/jobs')).items as Array<{ id: string; dryRun: boolean }>;
  assert.is(jobs.length, 2, 'the demo installs on one host and simulates on another');
  const real = jobs.find((j) => !j.dryRun)!;
  const result = await api('GET', `/patches/jobs/${real.id}`);
  await page.getByRole('link', { name: 'Patch jobs' }).click();
  await ready(page, 'patches');
  await page.locator('[data-table="patches/jobs"] tbody tr', { hasText: 'dry run' }).waitFor({ timeout: SLOW_MS });
  await page.locator(`[data-table="patches/jobs"] a[href$="/patch-jobs/${real.id}"]`).click();
  await page.waitForURL(new RegExp(`/patch-jobs/${real.id}$`));
  await ready(page, 'patch-jobs');
  for (const r of result.results as Array<{ package: string; from: string; to: string; outcome: string; exitCode: number }>) {
    const row = page.locator(`[data-table="job-results"] tr[data-package="${r.package}"]`);
    const text = await row.innerText();
    assert.ok(text.includes(r.from) && text.includes(r.to) && text.includes(r.outcome) && text.includes(String(r.exitCode)), text);
    assert.is(r.outcome, 'upgraded');
  }
  await screenshot(page, 'patch-job');
  // The job's command links back to the result.
  await page.getByRole('link', { name: 'the install-patches command' }).click();
  await ready(page, 'commands');
  await page.getByRole('link', { name: 'the result per package' }).waitFor();
});

test("a host's patch view: install-patches sent as a dry run appears among its commands; under four eyes it becomes a request", async () => {
  const hosts = (await api('GET', '/patches/hosts?compliant=no&limit=200')).items as Array<{ agentId: string; hostname: string; missingSecurityCount: number }>;
  const h = hosts.find((x) => x.missingSecurityCount > 0)!;
  assert.ok(h, 'a host missing security updates');
  const view = await api('GET', `/patches/hosts/${h.agentId}`);
  await page.goto(`${stack.base}/ui/t/${T}/patches`);
  await ready(page, 'patches');
  await page.getByRole('link', { name: h.hostname, exact: true }).click();
  await page.waitForURL(new RegExp(`/patches/${h.agentId}$`));
  await ready(page, 'patches');
  for (const m of view.missingSecurity as Array<{ package: string; to: string }>) {
    assert.match(await page.locator('[data-table="missing-security"]').innerText(), new RegExp(`${m.package}\\s+\\S+\\s+${m.to.replace(/[.+]/g, '\\$&')}`));
  }

  await page.getByRole('button', { name: 'Install security updates…' }).click();
  assert.ok(await page.locator('dialog').getByLabel('Dry run: simulate with apt, change nothing').isChecked(), 'a dry run unless unticked');
  await confirmDialog(page, 'Send');
  await page.locator('.toast', { hasText: `install-patches on ${h.hostname}: sent to the agent.` }).waitFor({ timeout: SLOW_MS });
  const sent = page.locator('[data-table="commands"] tbody tr', { hasText: 'install-patches' }).filter({ hasText: '"dryRun":true' });
  await sent.filter({ hasText: '"mode":"security"' }).first().waitFor({ timeout: SLOW_MS });
  const commands = (await api('GET', `/commands?agentId=${h.agentId}&status=pending`)).items as Array<{
    id: string;
    action: string;
    args: Record<string, unknown>;
  }>;
  const dispatched = commands.find((c) => c.action === 'install-patches' && c.args.mode === 'security' && c.args.dryRun === true);
  assert.ok(dispatched, JSON.stringify(commands));
  await screenshot(page, 'patch-host');
  const row = `[data-table="commands"] tr[data-id="${dispatched.id}"]`;
  await page.locator(row).waitFor({ timeout: SLOW_MS });
  await screenshot(page, 'patch-dispatched', row);

  // Four eyes on install-patches: the same form now asks a second person.
  await api('PUT', '/policy', { fourEyes: ['install-patches'] });
  await settled(stack, T);
  const pkg = (view.missingSecurity as Array<{ package: string }>)[0]!.package;
  await page.getByRole('button', { name: 'Install packages…' }).click();
  const dialog = page.locator('dialog');
  await dialog.getByLabel('Packages', { exact: true }).fill(pkg);
  await dialog.getByLabel('Dry run: simulate with apt, change nothing').uncheck();
  await confirmDialog(page, 'Send');
  await page.locator('.toast', { hasText: `install-patches on ${h.hostname} sent for approval` }).waitFor({ timeout: SLOW_MS });
  await settled(stack, T);
  const approvals = (await api('GET', '/approvals?status=pending')).items as Array<{ action: { action?: string; args?: Record<string, unknown> } }>;
  assert.ok(
    approvals.some(
      (a) => a.action.action === 'install-patches' && (a.action.args?.packages as string[] | undefined)?.[0] === pkg && a.action.args?.dryRun === false,
    ),
    JSON.stringify(approvals),
  );
  await api('PUT', '/policy', { fourEyes: [] });
});

test('the product gate: a customer without attack surface or patch has none of the pages, and their addresses answer 404', async () => {
  await page.goto(`${stack.base}/ui/t/${T}/overview`);
  await ready(page, 'overview');
  const menu = await page.locator('nav#nav').innerText();
  for (const name of ['Assets', 'Scan runs', 'Patches']) assert.ok(menu.includes(name), `${name} in the flagship's menu`);

  await page.goto(`${stack.base}/ui/t/${plain}/overview`);
  await ready(page, 'overview');
  const plainMenu = await page.locator('nav#nav').innerText();
  for (const name of ['Assets', 'Scan runs', 'Patches', 'Patch jobs']) assert.not.ok(plainMenu.includes(name), `${name} offered without its product`);
  for (const path of ['assets', 'assets?view=certificates', 'scans', 'scans/abc', 'patches', 'patches/abc', 'patch-jobs/abc']) {
    const res = await page.goto(`${stack.base}/ui/t/${plain}/${path}`);
    assert.is(res!.status(), 404, path);
  }
  // The API refuses the same reads for the same reason.
  const refused = await apiCall(stack.base, stack.adminKey, 'GET', `/tenants/${plain}/patches/hosts`);
  assert.is(refused.status, 403);
  assert.is(refused.body.error.code, 'STK_ERR_PRODUCT_DISABLED');
});

test('every new page: 0 axe-core violations at 1280 and 390 px, no sideways scrolling at 390 px', async () => {
  const { latest } = await runs();
  const host = ((await api('GET', '/patches/hosts')).items as Array<{ agentId: string }>)[0]!.agentId;
  const job = ((await api('GET', '/patches/jobs')).items as Array<{ id: string }>)[0]!.id;
  const found = await auditPages(page, stack.base, [
    ['assets', `/ui/t/${T}/assets`],
    ['assets', `/ui/t/${T}/assets?view=ports`],
    ['assets', `/ui/t/${T}/assets?view=certificates`],
    ['assets', `/ui/t/${T}/assets?view=services`],
    ['scans', `/ui/t/${T}/scans`],
    ['scans', `/ui/t/${T}/scans/${latest}?proof=0`],
    ['patches', `/ui/t/${T}/patches`],
    ['patches', `/ui/t/${T}/patches?view=packages`],
    ['patches', `/ui/t/${T}/patches?view=jobs`],
    ['patches', `/ui/t/${T}/patches/${host}`],
    ['patch-jobs', `/ui/t/${T}/patch-jobs/${job}`],
  ]);
  assert.equal(found, [], found.join('\n'));
  assert.equal(errors, [], errors.join('\n'));
});

test.run();

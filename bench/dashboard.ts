import type { Page } from 'playwright-core';
import { loadAssets } from '../src/dashboard/assets.ts';
import { bundleUi } from '../src/dashboard/bundle.ts';
import { enrollAgent as enrollDirect, raiseAlert, readToken } from '../test/helpers/events.ts';
import { browserFixture } from '../test/dashboard/browser.ts';
import { apiCall, freshTenant, stockadeFixture } from '../test/dashboard/stack.ts';
import { measure, percentile, report } from './util.ts';

/** Alerts of the tenant the console figures are drawn from. */
const ALERTS = 10_000;
const COLD_LOADS = 7;
const FILTER_CHANGES = 7;

const ITEMS = 500;
const REQUESTS = 1500;
const IN_FLIGHT = 8;
const LIVE_SAMPLES = 200;

/**
 * The dashboard's costs: what a first load transfers, what the session proxy costs against calling
 * the API directly (same list route, same run), and how long a change takes to reach an open page.
 */
export async function benchDashboard(): Promise<void> {
  const t0 = performance.now();
  const compiled = await bundleUi();
  const buildMs = performance.now() - t0;
  const assets = new Map([...(await loadAssets()), ...compiled]);
  const weigh = (names: string[]) => names.reduce((n, k) => n + (assets.get(k)?.body.length ?? 0), 0) / 1024;
  const charts = [...assets.keys()].filter((k) => k.startsWith('chunks/') && k.endsWith('.js'));
  console.log('dashboard');
  report('components compiled at start (esbuild, in memory)', buildMs, 'ms');
  report('first load: shell, main.js, app.css (minified, uncompressed)', weigh(['index.html', 'main.js', 'app.css']), 'KiB');
  report('charts chunk (Chart.js), loaded by the overview only', weigh(charts), 'KiB');
  await benchConsole();

  const f = await stockadeFixture();
  try {
    const tenant = freshTenant('bench');
    await apiCall(f.base, f.adminKey, 'POST', '/tenants', { id: tenant, name: 'Bench' });
    let last = '';
    for (let i = 0; i < ITEMS; i++) {
      last = (await apiCall(f.base, f.adminKey, 'POST', `/tenants/${tenant}/incidents`, { title: `incident ${i}`, severity: 'low' })).body.consistencyToken;
    }
    await apiCall(f.base, f.adminKey, 'GET', `/tenants/${tenant}/incidents?waitFor=${last}`);
    const signIn = await fetch(`${f.base}/ui/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ credential: f.adminKey }),
    });
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;

    const path = `/tenants/${tenant}/incidents?limit=50`;
    const direct = () => fetch(`${f.base}/api/v1${path}`, { headers: { authorization: `Bearer ${f.adminKey}` } }).then((r) => r.arrayBuffer());
    const proxied = () => fetch(`${f.base}/ui/api${path}`, { headers: { cookie } }).then((r) => r.arrayBuffer());
    await measure(200, IN_FLIGHT, direct);
    await measure(200, IN_FLIGHT, proxied);
    const directRate = await measure(REQUESTS, IN_FLIGHT, direct);
    const proxiedRate = await measure(REQUESTS, IN_FLIGHT, proxied);
    report(`list of 50 through the session proxy, ${IN_FLIGHT} in flight`, proxiedRate, 'req/s', { label: 'Bearer to /api/v1', value: directRate, goal: 0.7 });

    // Live: from the command's answer to the event on an open page's stream.
    const res = await fetch(`${f.base}/ui/live/${tenant}`, { headers: { cookie } });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    const waitFor = async (id: string): Promise<void> => {
      while (!buf.includes(id)) {
        const { value, done } = await reader.read();
        if (done) throw new Error('live stream ended');
        buf += value;
      }
      buf = '';
    };
    await waitFor('event: ready');
    const latencies: number[] = [];
    for (let i = 0; i < LIVE_SAMPLES; i++) {
      const t0 = performance.now();
      const r = await fetch(`${f.base}/api/v1/tenants/${tenant}/incidents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${f.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title: `live ${i}`, severity: 'low' }),
      });
      const { id } = (await r.json()) as { id: string };
      await waitFor(id);
      latencies.push(performance.now() - t0);
    }
    report('live: command sent → change on the open page, p50', percentile(latencies, 50), 'ms');
    report('live: command sent → change on the open page, p99', percentile(latencies, 99), 'ms');
    reader.releaseLock();
  } finally {
    await f.close();
  }
}

/**
 * Time from the start of a navigation to the page's data drawn, in ms, as the page itself measured it
 * (its `stk-page-ready` user-timing mark, relative to the navigation start): no polling in the figure.
 */
async function coldLoad(page: Page, url: string, name: string): Promise<number> {
  await page.goto(url);
  await page.locator(`main[data-page="${name}"][data-ready]`).waitFor({ timeout: 60_000 });
  // The overview's data includes its charts: the last one drawn ends it.
  if (name === 'overview') await page.waitForFunction(() => performance.getEntriesByName('stk-chart-drawn').length >= 4, undefined, { timeout: 60_000 });
  return page.evaluate(() =>
    Math.max(...[...performance.getEntriesByName('stk-page-ready'), ...performance.getEntriesByName('stk-chart-drawn')].map((e) => e.startTime)),
  );
}

/**
 * The console with 10,000 alerts: p50 of cold loads of the overview and of the alerts list (a
 * navigation, everything drawn), and of a filter change on the list — each beside the time of the
 * API calls that page makes, measured the same way, so the page's own cost is the difference.
 */
async function benchConsole(): Promise<void> {
  const f = await stockadeFixture();
  const browser = await browserFixture();
  try {
    const tenant = freshTenant('console');
    await apiCall(f.base, f.adminKey, 'POST', '/tenants', { id: tenant, name: 'Console bench' });
    await apiCall(f.base, f.adminKey, 'PUT', `/tenants/${tenant}/products/edr`, { enabled: true });
    const log = f.stk.runtime.log;
    const agents = await Promise.all(Array.from({ length: 20 }, (_, i) => enrollDirect(log, tenant, `host-${String(i).padStart(2, '0')}.bench`)));
    const sev = ['low', 'medium', 'high', 'critical'] as const;
    let last = 0;
    for (let i = 0; i < ALERTS; i += 100) {
      const batch = await Promise.all(
        Array.from({ length: 100 }, (_, k) =>
          raiseAlert(log, tenant, agents[(i + k) % agents.length]!.agentId, { severity: sev[(i + k) % 4]!, title: `bench alert ${i + k}` }),
        ),
      );
      for (const r of batch) last = Math.max(last, r.position);
    }
    const waitFor = await readToken(f.stk.runtime.streams, tenant, last);
    await apiCall(f.base, f.adminKey, 'GET', `/tenants/${tenant}/alerts?limit=1&waitFor=${waitFor}&waitMs=10000`);
    const page = browser.context.pages()[0] ?? (await browser.newPage());
    await page.goto(`${f.base}/ui/login`);
    await page.getByLabel('Admin key or tenant token', { exact: true }).fill(f.adminKey);
    await page.getByRole('button', { name: 'Sign in with key' }).click();
    await page.waitForURL(/\/ui\/customers/);

    const api = (path: string) =>
      fetch(`${f.base}/api/v1/tenants/${tenant}${path}`, { headers: { authorization: `Bearer ${f.adminKey}` } }).then((r) => r.arrayBuffer());
    const timed = async (fn: () => Promise<unknown>) => {
      const t0 = performance.now();
      await fn();
      return performance.now() - t0;
    };
    const overviewApi = () => Promise.all([api('/overview'), api('/alerts?status=open&limit=5'), api('/stats?days=7'), api('/ledger')]);
    const listApi = () => api('/alerts?status=open&limit=50');
    const filterApi = () => api('/alerts?status=open&severity=high&limit=50');

    const sample = async (n: number, fn: () => Promise<number>) => {
      await fn();
      const xs: number[] = [];
      for (let i = 0; i < n; i++) xs.push(await fn());
      return percentile(xs, 50);
    };
    const ov = await sample(COLD_LOADS, () => coldLoad(page, `${f.base}/ui/t/${tenant}/overview`, 'overview'));
    const ovApi = await sample(COLD_LOADS, () => timed(overviewApi));
    report(`overview, ${ALERTS.toLocaleString('en-US')} alerts: navigation to data drawn, p50`, ov, 'ms', { label: 'its API calls', value: ovApi });
    const li = await sample(COLD_LOADS, () => coldLoad(page, `${f.base}/ui/t/${tenant}/alerts`, 'alerts'));
    const liApi = await sample(COLD_LOADS, () => timed(listApi));
    report(`alerts list (50 of ${ALERTS.toLocaleString('en-US')}): cold load, p50`, li, 'ms', { label: 'its API call', value: liApi });
    // From the change event to the render that drew the new rows, both measured in the page.
    const inPage = async (act: () => Promise<void>) => {
      await page.evaluate(() => {
        const w = window as unknown as { benchT0?: number };
        delete w.benchT0;
        performance.clearMarks('stk-list-drawn');
        document.addEventListener('change', () => (w.benchT0 = performance.now()), { capture: true, once: true });
      });
      await act();
      await page.waitForFunction(
        () => performance.getEntriesByName('stk-list-drawn').length > 0 && document.querySelector('[data-list] section[aria-busy="false"] tbody tr[data-id]'),
      );
      return page.evaluate(() => performance.getEntriesByName('stk-list-drawn').at(-1)!.startTime - (window as unknown as { benchT0: number }).benchT0);
    };
    const change = async () => {
      await page.getByLabel('Severity', { exact: true }).selectOption('');
      await page.locator('[data-list] section[aria-busy="false"]').waitFor();
      return inPage(() =>
        page
          .getByLabel('Severity', { exact: true })
          .selectOption('high')
          .then(() => {}),
      );
    };
    const fc = await sample(FILTER_CHANGES, change);
    const fcApi = await sample(FILTER_CHANGES, () => timed(filterApi));
    report('alerts list: filter change to rows drawn, p50', fc, 'ms', { label: 'its API call', value: fcApi });
    const big = await sample(3, async () => {
      await page.getByLabel('Rows per page', { exact: true }).selectOption('50');
      await page.locator('[data-list] section[aria-busy="false"]').waitFor();
      return inPage(() =>
        page
          .getByLabel('Rows per page', { exact: true })
          .selectOption('200')
          .then(() => {}),
      );
    });
    const bigApi = await sample(3, () => timed(() => api('/alerts?status=open&severity=high&limit=200')));
    report('alerts list: 200 rows a page, drawn, p50', big, 'ms', { label: 'its API call', value: bigApi });
  } finally {
    await browser.close();
    await f.close();
  }
}

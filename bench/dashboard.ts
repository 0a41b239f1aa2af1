import { loadAssets } from '../src/dashboard/assets.ts';
import { apiCall, freshTenant, stockadeFixture } from '../test/dashboard/stack.ts';
import { measure, percentile, report } from './util.ts';

const ITEMS = 500;
const REQUESTS = 1500;
const IN_FLIGHT = 8;
const LIVE_SAMPLES = 200;

/**
 * The dashboard's costs: what a first load transfers, what the session proxy costs against calling
 * the API directly (same list route, same run), and how long a change takes to reach an open page.
 */
export async function benchDashboard(): Promise<void> {
  const assets = await loadAssets();
  const bytes = [...assets.values()].reduce((n, a) => n + a.body.length, 0);
  console.log('dashboard');
  report('page weight: shell, scripts and styles, uncompressed', bytes / 1024, 'KiB');

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

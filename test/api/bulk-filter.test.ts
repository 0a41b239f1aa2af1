import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { apiFixture, type ApiFixture } from '../helpers/api.ts';
import { enrollAgent, freshTenant, raiseAlert, readToken, reportFinding } from '../helpers/events.ts';

/**
 * Bulk changes by filter (issue 18 review): "select all matching" used to collect at most 10,000
 * ids in the browser and send them 100 at a time. Now the console sends the list's filter and the
 * server selects and changes every matching item of the path's tenant, a batch at a time through
 * the one write path, and answers how many it changed. Another tenant's items are never selected,
 * whatever the filter names.
 */
const test = suite('operator API: bulk changes by filter');
let f: ApiFixture;
const A = freshTenant('bulka');
const B = freshTenant('bulkb');
let webA = '';
let dbA = '';
let webB = '';
const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
const PER_AGENT = 130;

async function waitAll(tenant: string, position: number): Promise<void> {
  const waitFor = await readToken(f.stk.runtime.log.streams, tenant, position);
  assert.is((await f.call('GET', `/api/v1/tenants/${tenant}/alerts?limit=1&waitFor=${waitFor}`)).status, 200);
}

async function total(tenant: string, query: string): Promise<number> {
  const r = await f.call('GET', `/api/v1/tenants/${tenant}/alerts?limit=1&${query}`);
  assert.is(r.status, 200, JSON.stringify(r.body));
  return r.body.total;
}

test.before(async () => {
  f = await apiFixture();
  await f.tenant(A, ['edr', 'patch']);
  await f.tenant(B, ['edr']);
  const log = f.stk.runtime.log;
  ({ agentId: webA } = await enrollAgent(log, A, 'web-01.a.example'));
  ({ agentId: dbA } = await enrollAgent(log, A, 'db-01.a.example'));
  ({ agentId: webB } = await enrollAgent(log, B, 'web-01.b.example'));
  let last = 0;
  let lastB = 0;
  for (let i = 0; i < PER_AGENT; i += 10) {
    const rs = await Promise.all(
      Array.from({ length: 10 }, (_, k) => [
        raiseAlert(log, A, webA, { severity: SEVERITIES[(i + k) % 4]!, title: `web alert ${i + k}` }),
        raiseAlert(log, A, dbA, { severity: SEVERITIES[(i + k) % 4]!, title: `db alert ${i + k}` }),
      ]).flat(),
    );
    last = Math.max(last, ...rs.map((r) => r.position));
  }
  for (let i = 0; i < 40; i++) lastB = (await raiseAlert(log, B, webB, { severity: SEVERITIES[i % 4]!, title: `b alert ${i}` })).position;
  for (let i = 0; i < 12; i++) last = (await reportFinding(log, A, webA)).position;
  await waitAll(A, last);
  await waitAll(B, lastB);
});

test.after(async () => {
  await f?.cleanup();
});

test('acknowledge every alert a filter selects, past one batch: the answer counts them, the list agrees', async () => {
  const critical = await total(A, 'status=open&severity=critical');
  assert.ok(critical > 60, `${critical} critical alerts`);
  const r = await f.call('POST', `/api/v1/tenants/${A}/alerts/bulk`, { body: { action: 'acknowledge', filter: { status: 'open', severity: 'critical' } } });
  assert.is(r.status, 200, JSON.stringify(r.body));
  assert.equal([r.body.matched, r.body.changed, r.body.unchanged, r.body.refused], [critical, critical, 0, 0]);
  const after = await f.call('GET', `/api/v1/tenants/${A}/alerts?limit=1&severity=critical&status=acknowledged&waitFor=${r.body.consistencyToken}`);
  assert.is(after.body.total, critical);
  assert.is(await total(A, 'status=open&severity=critical'), 0);
  assert.is(await total(A, 'status=open&severity=high'), await total(A, 'severity=high'), 'other severities untouched');
  assert.is(await total(B, 'status=open'), 40, "the other tenant's alerts untouched");
});

test('free text and a host: resolve only what the list would show; a second pass changes nothing', async () => {
  const dbHigh = await total(A, `status=open&severity=high&q=db-01`);
  assert.ok(dbHigh > 0);
  const r = await f.call('POST', `/api/v1/tenants/${A}/alerts/bulk`, {
    body: { action: 'resolve', reason: 'patched', filter: { status: 'open', severity: 'high', q: 'db-01' } },
  });
  assert.is(r.status, 200, JSON.stringify(r.body));
  assert.equal([r.body.matched, r.body.changed], [dbHigh, dbHigh]);
  const list = await f.call('GET', `/api/v1/tenants/${A}/alerts?limit=200&status=resolved&waitFor=${r.body.consistencyToken}`);
  assert.ok(list.body.items.every((a: { agentId: string }) => a.agentId === dbA));
  assert.ok((await total(A, `status=open&severity=high&agentId=${webA}`)) > 0, "web-01's high alerts are still open");
  const again = await f.call('POST', `/api/v1/tenants/${A}/alerts/bulk`, {
    body: { action: 'resolve', reason: 'x', filter: { severity: 'high', agentId: dbA } },
  });
  assert.equal([again.body.matched, again.body.changed, again.body.unchanged + again.body.refused], [dbHigh, 0, dbHigh]);
});

test("isolation: another tenant's agent in the filter selects nothing; no filter at all selects this tenant's alerts only", async () => {
  const bOpen = await total(B, 'status=open');
  const foreign = await f.call('POST', `/api/v1/tenants/${A}/alerts/bulk`, { body: { action: 'acknowledge', filter: { agentId: webB } } });
  assert.is(foreign.status, 200, JSON.stringify(foreign.body));
  assert.equal([foreign.body.matched, foreign.body.changed], [0, 0]);
  const all = await f.call('POST', `/api/v1/tenants/${A}/alerts/bulk`, { body: { action: 'acknowledge', filter: {} } });
  assert.is(all.status, 200);
  assert.is(all.body.matched, PER_AGENT * 2);
  await f.call('GET', `/api/v1/tenants/${A}/alerts?limit=1&waitFor=${all.body.consistencyToken}`);
  assert.is(await total(A, 'status=open'), 0);
  assert.is(await total(B, 'status=open'), bOpen, "none of the other tenant's alerts changed");
  // A token of B cannot run a change by filter on A: A does not exist for it.
  const bToken = await f.token(B, 'operator');
  const resolved = await total(A, 'status=resolved');
  const probe = await f.call('POST', `/api/v1/tenants/${A}/alerts/bulk`, { token: bToken, body: { action: 'resolve', reason: 'x', filter: {} } });
  assert.is(probe.status, 404);
  assert.is(probe.body.error.code, 'STK_ERR_NOT_FOUND');
  assert.is(await total(A, 'status=resolved'), resolved, 'the probe changed nothing');
});

test('bad bodies: ids and a filter together, neither, a filter field the list does not have', async () => {
  const both = await f.call('POST', `/api/v1/tenants/${A}/alerts/bulk`, { body: { action: 'acknowledge', alertIds: ['x1'], filter: {} } });
  assert.is(both.body.error.code, 'STK_ERR_VALIDATION');
  const neither = await f.call('POST', `/api/v1/tenants/${A}/alerts/bulk`, { body: { action: 'acknowledge' } });
  assert.is(neither.body.error.code, 'STK_ERR_VALIDATION');
  const unknown = await f.call('POST', `/api/v1/tenants/${A}/alerts/bulk`, { body: { action: 'acknowledge', filter: { title: 'x' } } });
  assert.is(unknown.body.error.code, 'STK_ERR_VALIDATION');
  const badTime = await f.call('POST', `/api/v1/tenants/${A}/alerts/bulk`, { body: { action: 'acknowledge', filter: { from: 'yesterday' } } });
  assert.is(badTime.body.error.code, 'STK_ERR_VALIDATION');
});

test("link every alert of a filter to an incident; the other tenant's alerts never join", async () => {
  const open = await f.call('POST', `/api/v1/tenants/${A}/incidents`, { body: { title: 'db-01 compromise', severity: 'high' } });
  assert.is(open.status, 201);
  const r = await f.call('POST', `/api/v1/tenants/${A}/incidents/${open.body.id}/alerts`, { body: { filter: { agentId: dbA } } });
  assert.is(r.status, 200, JSON.stringify(r.body));
  assert.is(r.body.matched, PER_AGENT);
  assert.is(r.body.alertIds.length, PER_AGENT, 'more than one event of 100');
  assert.is(await total(A, `incidentId=${open.body.id}&waitFor=${r.body.consistencyToken}`), PER_AGENT);
  const foreign = await f.call('POST', `/api/v1/tenants/${A}/incidents/${open.body.id}/alerts`, { body: { filter: { agentId: webB } } });
  assert.equal([foreign.body.matched, foreign.body.alertIds.length], [0, PER_AGENT]);
});

test('findings: triage every finding a filter selects', async () => {
  const r = await f.call('POST', `/api/v1/tenants/${A}/findings/bulk`, { body: { state: 'accepted-risk', reason: 'lab host', filter: { agentId: webA } } });
  assert.is(r.status, 200, JSON.stringify(r.body));
  assert.equal([r.body.matched, r.body.changed], [12, 12]);
  const list = await f.call('GET', `/api/v1/tenants/${A}/findings?limit=1&state=accepted-risk&waitFor=${r.body.consistencyToken}`);
  assert.is(list.body.total, 12);
});

test.run();

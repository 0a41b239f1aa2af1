/**
 * `GET /agent/v1/config` and the operator routes that set it: the collectors of the products that
 * are on and nothing of the others, the tenant's settings over the defaults and an agent's over
 * the tenant's, bounds on every setting, and no secret in any of it.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { IngressClient } from '../../src/agent/run/client.ts';
import { loadAgentState } from '../../src/agent/client.ts';
import { DEFAULT_SETTINGS } from '../../src/domain/agent-config.ts';
import { type EdrStack, edrStack } from './fixture.ts';

const test = suite('agent configuration');
let s: EdrStack;
let a: IngressClient;
let b: IngressClient;

const DIRECTORY = {
  intervalMs: 60_000,
  url: 'ldaps://dc1.corp.example',
  caPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
  bindDn: 'CN=svc,CN=Users,DC=corp,DC=example',
  actionBaseDn: 'OU=Managed,DC=corp,DC=example',
};

test.before(async () => {
  s = await edrStack({ host: '127.0.0.1', products: ['edr'] });
  a = new IngressClient(await loadAgentState((await s.enrollAgent('cfg-a')).dir));
  b = new IngressClient(await loadAgentState((await s.enrollAgent('cfg-b')).dir));
});
test.after(async () => {
  a?.close();
  b?.close();
  await s?.close();
});

test('the defaults, with the collectors of the products that are on only', async () => {
  const r = await a.config();
  assert.is(r.status, 200);
  const c = r.body;
  assert.equal(c.products, ['edr']);
  assert.equal(Object.keys(c.collectors).sort(), ['connections', 'processes']);
  assert.equal(c.collectors.processes, DEFAULT_SETTINGS.processes);
  assert.equal([c.configIntervalMs, c.heartbeatIntervalMs, c.commandPollMs], [60_000, 30_000, 5_000]);
  assert.equal(c.limits, { maxBatchItems: 500, maxBatchBytes: 4 * 1024 * 1024, evidenceMaxBytes: 1024 * 1024 });
  assert.ok(Math.abs(Date.parse(c.serverTime) - Date.now()) < 60_000);
});

test("the tenant's settings over the defaults, an agent's own over the tenant's; identity on brings its collectors", async () => {
  assert.is(
    (await s.admin('PUT', '/agent-config', { processes: { intervalMs: 2000 }, configIntervalMs: 5000, localAccounts: { intervalMs: 9000 } })).status,
    200,
  );
  const own = await s.admin('PUT', `/agents/${b.agentId}/config`, { directory: DIRECTORY, processes: { maxCmdlineBytes: 1024 } });
  assert.is(own.status, 200, JSON.stringify(own.body));
  let ca = (await a.config()).body;
  let cb = (await b.config()).body;
  assert.equal([ca.configIntervalMs, ca.collectors.processes!.intervalMs, ca.collectors.processes!.maxCmdlineBytes], [5000, 2000, 4096]);
  assert.equal([cb.collectors.processes!.intervalMs, cb.collectors.processes!.maxCmdlineBytes], [2000, 1024]);
  // Identity is off: neither local accounts nor the directory are handed out, not even to b.
  assert.not.ok('localAccounts' in cb.collectors || 'directory' in cb.collectors);
  assert.is((await s.f.call('PUT', `/api/v1/tenants/${s.tenant}/products/identity`, { body: { enabled: true } })).status, 200);
  ca = (await a.config()).body;
  cb = (await b.config()).body;
  assert.equal(ca.collectors.localAccounts, { intervalMs: 9000 });
  assert.is(ca.collectors.directory, undefined, 'the directory is only for the agent that has its settings');
  assert.equal(cb.collectors.directory, DIRECTORY);
  const view = await s.api('GET', `/agents/${b.agentId}/config`);
  assert.equal(view.body.effective.processes, { intervalMs: 2000, maxCmdlineBytes: 1024, maxHashBytes: DEFAULT_SETTINGS.processes.maxHashBytes });
  assert.equal(view.body.collectors, ['processes', 'connections', 'localAccounts', 'directory']);
  // EDR off: its collectors are gone from the very next answer.
  assert.is((await s.f.call('PUT', `/api/v1/tenants/${s.tenant}/products/edr`, { body: { enabled: false } })).status, 200);
  assert.equal(Object.keys((await a.config()).body.collectors), ['localAccounts']);
  assert.is((await s.f.call('PUT', `/api/v1/tenants/${s.tenant}/products/edr`, { body: { enabled: true } })).status, 200);
});

test('settings out of bounds, unknown fields and a password are refused; nothing is written', async () => {
  const before = await s.f.stk.runtime.log.lastPosition();
  for (const body of [
    { configIntervalMs: 5 },
    { processes: { intervalMs: 1000, extra: true } },
    { directory: { ...DIRECTORY, bindPassword: 'secret' } },
    { directory: { ...DIRECTORY, url: 'http://dc1' } },
    { maxBatchItems: 0 },
  ]) {
    const r = await s.admin('PUT', '/agent-config', body);
    assert.is(r.status, 400, JSON.stringify(body));
    assert.is(r.body.error.code, 'STK_ERR_VALIDATION');
  }
  assert.is(await s.f.stk.runtime.log.lastPosition(), before);
  // Collection settings need `agents.configure`: neither an auditor nor an operator token has it.
  const tokens = { auditor: await s.f.token(s.tenant, 'auditor'), operator: await s.f.token(s.tenant, 'operator') };
  const minted = await s.f.stk.runtime.log.lastPosition();
  for (const role of ['auditor', 'operator'] as const) {
    const token = tokens[role];
    const r = await s.f.call('PUT', `/api/v1/tenants/${s.tenant}/agent-config`, { token, body: {} });
    assert.is(r.status, 403, role);
    assert.is(r.body.error.code, 'STK_ERR_FORBIDDEN');
  }
  assert.is(await s.f.stk.runtime.log.lastPosition(), minted);
});

test.run();

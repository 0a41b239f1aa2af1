import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AgentClient } from '../../src/agent/client.ts';
import { startIngress, type Ingress } from '../../src/ingress/role.ts';
import { createLogger } from '../../src/logger.ts';
import { apiFixture, type ApiFixture } from '../helpers/api.ts';
import { tempDir } from '../helpers/nats.ts';
import { freshTenant } from '../helpers/events.ts';

/**
 * End to end: the operator API and the real mTLS ingress on one event log. Two customers, one
 * agent each, enrolled with the secrets the API handed out; neither operator can see or touch
 * anything of the other, and neither can command the other's agent.
 */
const test = suite('isolation end to end: two tenants, one agent each');

interface Side {
  tenant: string;
  op: string;
  agent: AgentClient;
  alertId: string;
  findingId: string;
  incidentId: string;
}

let f: ApiFixture;
let ingress: Ingress;
let pki: { path: string; cleanup(): Promise<void> };
let A: Side;
let B: Side;

const now = () => new Date().toISOString();

async function side(label: string): Promise<Side> {
  const tenant = freshTenant(label);
  const { enrollSecret } = await f.tenant(tenant, ['edr', 'patch']);
  const op = await f.token(tenant, 'operator');
  const agent = await AgentClient.enroll({
    url: ingress.url,
    caPem: ingress.ca.certificatePem,
    secret: enrollSecret,
    hostname: `${label}-laptop`,
    os: 'linux',
    agentVersion: '1.0.0',
  });
  const rep = await agent.report([
    { kind: 'heartbeat', at: now(), data: { inventory: { kernel: '6.1' } } },
    { kind: 'alert', at: now(), data: { rule: 'edr.child', severity: 'high', title: `${label}: powershell spawned by winword` } },
    { kind: 'finding', at: now(), data: { product: 'patch', title: `${label}: openssl outdated`, severity: 'medium', subject: 'openssl' } },
  ]);
  assert.is(rep.status, 202, JSON.stringify(rep.body));
  const alerts = await f.call('GET', `/api/v1/tenants/${tenant}/alerts?waitFor=${rep.body.consistencyToken}`, { token: op });
  const findings = await f.call('GET', `/api/v1/tenants/${tenant}/findings`, { token: op });
  assert.is(alerts.body.items.length, 1, JSON.stringify(alerts.body));
  assert.is(findings.body.items.length, 1);
  const inc = await f.call('POST', `/api/v1/tenants/${tenant}/incidents`, {
    token: op,
    body: { title: `${label} incident`, severity: 'high', alertIds: [alerts.body.items[0].id] },
  });
  assert.is(inc.status, 201);
  return { tenant, op, agent, alertId: alerts.body.items[0].id, findingId: findings.body.items[0].id, incidentId: inc.body.id };
}

test.before(async () => {
  f = await apiFixture();
  pki = await tempDir('stk-pki-');
  ingress = await startIngress({
    log: f.stk.runtime.log,
    logger: createLogger({ level: 'silent' }),
    pkiDir: join(pki.path, 'pki'),
    host: '127.0.0.1',
    port: 0,
  });
  A = await side('a');
  B = await side('b');
});
test.after(async () => {
  await ingress?.close();
  await f?.cleanup();
  await pki?.cleanup();
});

test('each operator sees its own agent, alert, finding and incident, and nothing of the other', async () => {
  for (const [me, other] of [
    [A, B],
    [B, A],
  ] as const) {
    const agents = await f.call('GET', `/api/v1/tenants/${me.tenant}/agents`, { token: me.op });
    assert.equal(
      agents.body.items.map((x: any) => x.id),
      [me.agent.agentId],
    );
    assert.is(agents.body.items[0].connectivity, 'online');
    assert.equal(agents.body.items[0].inventory, { kernel: '6.1' });
    const ov = await f.call('GET', `/api/v1/tenants/${me.tenant}/overview`, { token: me.op });
    assert.equal(ov.body.agents, { online: 1, offline: 0, revoked: 0 });
    assert.is(ov.body.alerts.acknowledged + ov.body.alerts.open + ov.body.alerts.resolved, 1);
    assert.is(ov.body.findings.open, 1);
    assert.is(ov.body.incidents.open, 1);
    const all = JSON.stringify(
      await Promise.all(
        ['agents', 'alerts', 'incidents', 'findings', 'commands', 'audit'].map((a) =>
          f.call('GET', `/api/v1/tenants/${me.tenant}/${a}?limit=200`, { token: me.op }),
        ),
      ),
    );
    for (const id of [other.agent.agentId, other.alertId, other.findingId, other.incidentId, other.tenant])
      assert.not.ok(all.includes(id), `${me.tenant} sees ${id}`);
  }
});

test("neither operator can read or act on the other's alerts, incidents, findings or agent", async () => {
  const before = await f.stk.runtime.log.lastPosition();
  const attempts: Array<[string, string, unknown?]> = [
    ['GET', `/api/v1/tenants/${A.tenant}/alerts/${B.alertId}`],
    ['POST', `/api/v1/tenants/${A.tenant}/alerts/${B.alertId}/ack`],
    ['POST', `/api/v1/tenants/${A.tenant}/alerts/${B.alertId}/resolve`, { reason: 'x' }],
    ['PATCH', `/api/v1/tenants/${A.tenant}/incidents/${B.incidentId}`, { status: 'contained' }],
    ['POST', `/api/v1/tenants/${A.tenant}/incidents/${B.incidentId}/close`, { reason: 'x' }],
    ['POST', `/api/v1/tenants/${A.tenant}/incidents`, { title: 'steal', severity: 'low', alertIds: [B.alertId] }],
    ['POST', `/api/v1/tenants/${A.tenant}/incidents/${A.incidentId}/alerts`, { alertIds: [B.alertId] }],
    ['PATCH', `/api/v1/tenants/${A.tenant}/findings/${B.findingId}`, { state: 'accepted-risk', reason: 'x' }],
    ['POST', `/api/v1/tenants/${A.tenant}/agents/${B.agent.agentId}/commands`, { action: 'isolate-host' }],
    ['POST', `/api/v1/tenants/${A.tenant}/agents/${B.agent.agentId}/revoke`, { reason: 'x' }],
    ['POST', `/api/v1/tenants/${B.tenant}/agents/${B.agent.agentId}/commands`, { action: 'isolate-host' }],
    ['GET', `/api/v1/tenants/${B.tenant}/alerts`],
  ];
  for (const [method, path, body] of attempts) {
    const r = await f.call(method, path, { token: A.op, ...(body ? { body } : {}) });
    assert.is(r.status, 404, `${method} ${path}: ${JSON.stringify(r.body)}`);
    assert.is(r.body.error.code, 'STK_ERR_NOT_FOUND');
  }
  assert.is(await f.stk.runtime.log.lastPosition(), before, 'no event was written');
  assert.equal(await B.agent.commands(), [], "B's agent received nothing");
});

test('a command dispatched by an operator reaches only its own agent, and the result comes back', async () => {
  const d = await f.call('POST', `/api/v1/tenants/${A.tenant}/agents/${A.agent.agentId}/commands`, {
    token: A.op,
    body: { action: 'isolate-host', args: { reason: 'ransomware' } },
  });
  assert.is(d.status, 201, JSON.stringify(d.body));
  let pulled: Array<{ id: string }> = [];
  // The outbox is fed from the log; the agent polls as the reference agent does.
  for (let i = 0; i < 100 && pulled.length === 0; i++) pulled = await A.agent.commands();
  assert.equal(
    pulled.map((c) => c.id),
    [d.body.id],
  );
  assert.equal(await B.agent.commands(), []);
  const res = await A.agent.result(d.body.id, 'succeeded', 'host isolated');
  assert.ok(res.status < 300, JSON.stringify(res.body));
  const cmd = await f.call('GET', `/api/v1/tenants/${A.tenant}/commands/${d.body.id}?waitFor=${res.body.consistencyToken}`, { token: A.op });
  assert.is(cmd.body.status, 'completed');
  assert.is(cmd.body.outcome, 'succeeded');
  assert.is((await f.call('GET', `/api/v1/tenants/${B.tenant}/commands/${d.body.id}`, { token: B.op })).status, 404);
});

test.run();

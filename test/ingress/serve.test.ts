import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentClient } from '../../src/agent/client.ts';
import { freePort } from '../../src/nats/server.ts';
import { natsFixture, tempDir } from '../helpers/nats.ts';
import { runCli } from '../helpers/proc.ts';
import { rejects } from '../helpers/assert.ts';

const test = suite('ingress as its own process (stockade serve --role ingress)');

async function api(url: string, key: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

test('operator API in one process, ingress (no LevelDB) in another: enroll, report, command, revoke', async () => {
  const nats = await natsFixture();
  const apiDir = await tempDir();
  const ingressDir = await tempDir();
  const env = { NATS_URL: nats.url };
  const apiProc = runCli(['serve', '--role', 'api,projector', '--data', apiDir.path, '--http', `127.0.0.1:${await freePort()}`], env);
  const ingressProc = runCli(['serve', '--role', 'ingress', '--data', ingressDir.path, '--ingress', `127.0.0.1:${await freePort()}`], env);
  let agent: AgentClient | undefined;
  try {
    const apiUrl: string = JSON.parse(await apiProc.waitFor(/stockade is running/)).api;
    const ingressUrl: string = JSON.parse(await ingressProc.waitFor(/stockade is running/)).ingress;
    assert.match(ingressUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
    // The CA key is private to the ingress's data folder.
    assert.is((await stat(join(ingressDir.path, 'pki', 'ca.key'))).mode & 0o777, 0o600);
    const caPem = await readFile(join(ingressDir.path, 'pki', 'ca.crt'), 'utf8');
    const key = (await readFile(join(apiDir.path, 'admin.key'), 'utf8')).trim();

    const tenant = `acme-${Date.now().toString(36)}`;
    const created = await api(apiUrl, key, 'POST', '/api/v1/tenants', { id: tenant, name: 'Acme' });
    assert.is(created.status, 201, JSON.stringify(created.body));
    assert.is((await api(apiUrl, key, 'PUT', `/api/v1/tenants/${tenant}/products/edr`, { enabled: true })).status, 200);

    agent = await AgentClient.enroll({ url: ingressUrl, caPem, secret: created.body.enrollSecret, hostname: 'web-01', os: 'linux', agentVersion: '1.0.0' });
    const rep = await agent.report([
      { kind: 'heartbeat', at: new Date().toISOString(), data: { inventory: { kernel: '6.1' } } },
      { kind: 'alert', at: new Date().toISOString(), data: { rule: 'edr.child', severity: 'high', title: 'powershell spawned by winword' } },
    ]);
    const alerts = await api(apiUrl, key, 'GET', `/api/v1/tenants/${tenant}/alerts?waitFor=${rep.body.consistencyToken}`);
    assert.is(alerts.body.items.length, 1, JSON.stringify(alerts.body));
    assert.is(alerts.body.items[0].agentId, agent.agentId);
    const seen = await api(apiUrl, key, 'GET', `/api/v1/tenants/${tenant}/agents/${agent.agentId}`);
    assert.is(seen.status, 200);
    assert.is(seen.body.hostname, 'web-01');

    const cmd = await api(apiUrl, key, 'POST', `/api/v1/tenants/${tenant}/agents/${agent.agentId}/commands`, { action: 'ping', args: {} });
    assert.is(cmd.status, 201, JSON.stringify(cmd.body));
    assert.equal(
      (await agent.commands()).map((c) => c.id),
      [cmd.body.id],
    );
    const res = await agent.result(cmd.body.id, 'succeeded', 'pong');
    const done = await api(apiUrl, key, 'GET', `/api/v1/tenants/${tenant}/commands/${cmd.body.id}?waitFor=${res.body.consistencyToken}`);
    assert.is(done.body.status, 'completed', JSON.stringify(done.body));

    assert.is((await api(apiUrl, key, 'POST', `/api/v1/tenants/${tenant}/agents/${agent.agentId}/revoke`, { reason: 'lost' })).status, 200);
    await rejects(agent.report([{ kind: 'heartbeat', at: new Date().toISOString(), data: {} }]), 'STK_ERR_AGENT_REVOKED');
    const listed = await api(apiUrl, key, 'GET', `/api/v1/tenants/${tenant}/agents`);
    assert.is(listed.body.items[0].status, 'revoked', 'a revoked agent stays visible');
  } finally {
    agent?.close();
    await ingressProc.kill();
    await apiProc.kill();
    await nats.stop();
    await apiDir.cleanup();
    await ingressDir.cleanup();
  }
});

test.run();

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Agent, request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { certificateFacts } from '../../src/pki/agent-key.ts';
import { createTenant, enroll, heartbeat, ingressFixture, revokeAgent } from './fixture.ts';

/** One request on a fresh connection of `agent`; whether the TLS session was resumed, and the answer. */
function once(agent: Agent, url: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any; resumed: boolean }> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, url),
      {
        method,
        agent,
        headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length, connection: 'close' } : { connection: 'close' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null'),
            resumed: (res.socket as TLSSocket).isSessionReused(),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const test = suite('ingress connections: resumed TLS sessions, limits');

test('an agent that reconnects resumes its TLS session and is still itself; a revoked or expired one is refused on a resumed session', async () => {
  let nowMs = Date.now();
  const f = await ingressFixture({ now: () => new Date(nowMs) });
  try {
    const { tenant, secret } = await createTenant(f.log, ['edr']);
    const client = await enroll(f, secret);
    const agent = new Agent({ ca: f.caPem, cert: client.state.certPem, key: client.state.keyPem, keepAlive: false });
    try {
      const first = await once(agent, f.url, 'POST', '/agent/v1/report', { agentId: client.agentId, events: [heartbeat()] });
      assert.equal([first.status, first.resumed], [202, false]);
      const again = await once(agent, f.url, 'POST', '/agent/v1/report', { agentId: client.agentId, events: [heartbeat()] });
      assert.equal([again.status, again.resumed], [202, true], 'the second connection resumed the session');
      const heartbeats = (await f.log.readAggregate({ tenant, aggregateType: 'agent', aggregateId: client.agentId })).events.filter(
        (e) => e.type === 'agent.heartbeat',
      );
      assert.is(heartbeats.length, 2);
      assert.ok(heartbeats.every((e) => e.actor.id === client.agentId));

      nowMs = certificateFacts(client.state.certPem).notAfter.getTime() + 1000;
      const expired = await once(agent, f.url, 'GET', '/agent/v1/commands');
      assert.is(expired.resumed, true);
      assert.equal([expired.status, expired.body.error.code, expired.body.error.data?.reason], [401, 'STK_ERR_AGENT_CERT_INVALID', 'CERT_HAS_EXPIRED']);
      nowMs = Date.now();

      await revokeAgent(f.log, tenant, client.agentId);
      const revoked = await once(agent, f.url, 'GET', '/agent/v1/commands');
      assert.is(revoked.resumed, true);
      assert.equal([revoked.status, revoked.body.error.code], [403, 'STK_ERR_AGENT_REVOKED']);
    } finally {
      agent.destroy();
      client.close();
    }
  } finally {
    await f.close();
  }
});

test('past its connection limit the ingress refuses new connections; the open ones keep working', async () => {
  const f = await ingressFixture({ maxConnections: 2 });
  const agents: Agent[] = [];
  try {
    const { secret } = await createTenant(f.log);
    const client = await enroll(f, secret);
    const open = async (): Promise<{ agent: Agent; ok: boolean }> => {
      const agent = new Agent({ ca: f.caPem, cert: client.state.certPem, key: client.state.keyPem, keepAlive: true, maxSockets: 1 });
      agents.push(agent);
      const ok = await new Promise<boolean>((resolve) => {
        const req = request(new URL('/agent/v1/commands', f.url), { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode === 200));
        });
        req.on('error', () => resolve(false));
        req.end();
      });
      return { agent, ok };
    };
    // The enrollment's connection was closed by the client; wait until the server counts it gone.
    client.close();
    const deadline = Date.now() + 10_000;
    while ((await new Promise<number>((r) => f.ingress.app.server.getConnections((_e, n) => r(n)))) > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const a = await open();
    const b = await open();
    assert.equal([a.ok, b.ok], [true, true]);
    const c = await open();
    assert.is(c.ok, false, 'a third connection is refused');
    const again = await new Promise<number>((resolve, reject) => {
      const req = request(new URL('/agent/v1/commands', f.url), { agent: a.agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    assert.is(again, 200, 'an open connection keeps working');
  } finally {
    for (const a of agents) a.destroy();
    await f.close();
  }
});

test.run();

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from 'node:https';
import { call } from '../../src/agent/client.ts';
import { createTenant, dispatch, enroll, ingressFixture, revokeAgent, setProduct, suspendTenant, tlsClient, type IngressFixture } from './fixture.ts';

/**
 * `GET /agent/v1/commands?wait=N`: the poll is held until a command for the agent arrives, the
 * agent or its tenant changes, N seconds pass (at most 30), or the agent goes away.
 */
const test = suite<{ f: IngressFixture }>('commands by long-poll');

test.before(async (ctx) => {
  ctx.f = await ingressFixture();
});
test.after(async (ctx) => {
  await ctx.f?.close();
});

/** Resolves once `n` long-polls are held by the ingress. */
async function held(f: IngressFixture, n: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (f.ingress.views.waiters.size !== n) {
    if (Date.now() > deadline) throw new Error(`expected ${n} held polls, have ${f.ingress.views.waiters.size}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function agentOf(f: IngressFixture, products: Parameters<typeof createTenant>[1] = ['edr']) {
  const { tenant, secret } = await createTenant(f.log, products);
  const agent = await enroll(f, secret);
  const tls = tlsClient(f.caPem, agent.state.certPem, agent.state.keyPem);
  return {
    tenant,
    agent,
    tls,
    close: () => {
      tls.destroy();
      agent.close();
    },
  };
}

test('a held poll answers with the command dispatched while it waits, and records its delivery', async ({ f }) => {
  const a = await agentOf(f);
  try {
    const poll = call(a.tls, f.url, 'GET', '/agent/v1/commands?wait=30');
    await held(f, 1);
    const id = await dispatch(f.log, a.tenant, a.agent.agentId, 'ping');
    const r = await poll;
    assert.is(r.status, 200);
    assert.equal(
      r.body.commands.map((c: { id: string }) => c.id),
      [id],
    );
    await held(f, 0);
    const events = (await f.log.readAggregate({ tenant: a.tenant, aggregateType: 'command', aggregateId: id })).events.map((e) => e.type);
    assert.equal(events, ['command.dispatched', 'command.delivered']);
  } finally {
    a.close();
  }
});

test('a command already waiting is answered at once; with nothing to do, the poll ends empty when its time is up', async ({ f }) => {
  const a = await agentOf(f);
  try {
    const id = await dispatch(f.log, a.tenant, a.agent.agentId, 'ping');
    const now = await call(a.tls, f.url, 'GET', '/agent/v1/commands?wait=30');
    assert.equal(
      now.body.commands.map((c: { id: string }) => c.id),
      [id],
    );
    await call(a.tls, f.url, 'POST', `/agent/v1/commands/${id}/result`, { agentId: a.agent.agentId, outcome: 'succeeded', output: '' });
    const empty = await call(a.tls, f.url, 'GET', '/agent/v1/commands?wait=1');
    assert.is(empty.status, 200);
    assert.equal(empty.body.commands, []);
    // Another agent's command does not end this agent's wait.
    const b = await agentOf(f);
    try {
      const poll = call(a.tls, f.url, 'GET', '/agent/v1/commands?wait=2');
      await held(f, 1);
      await dispatch(f.log, b.tenant, b.agent.agentId, 'ping');
      assert.equal((await poll).body.commands, []);
    } finally {
      b.close();
    }
  } finally {
    a.close();
  }
});

test('a held poll is refused as soon as its agent is revoked or its tenant suspended', async ({ f }) => {
  const a = await agentOf(f);
  const b = await agentOf(f);
  try {
    const pa = call(a.tls, f.url, 'GET', '/agent/v1/commands?wait=30');
    const pb = call(b.tls, f.url, 'GET', '/agent/v1/commands?wait=30');
    await held(f, 2);
    await revokeAgent(f.log, a.tenant, a.agent.agentId);
    const ra = await pa;
    assert.is(ra.status, 403);
    assert.is(ra.body.error.code, 'STK_ERR_AGENT_REVOKED');
    await suspendTenant(f.log, b.tenant);
    const rb = await pb;
    assert.is(rb.status, 403);
    assert.is(rb.body.error.code, 'STK_ERR_TENANT_SUSPENDED');
    await held(f, 0);
  } finally {
    a.close();
    b.close();
  }
});

test('a command held back while its product is off is answered when the product comes back on', async ({ f }) => {
  const a = await agentOf(f, ['edr']);
  try {
    await setProduct(f.log, a.tenant, 'edr', false);
    const id = await dispatch(f.log, a.tenant, a.agent.agentId, 'isolate-host', { reason: 'test' });
    const poll = call(a.tls, f.url, 'GET', '/agent/v1/commands?wait=30');
    await held(f, 1);
    await setProduct(f.log, a.tenant, 'edr', true);
    assert.equal(
      (await poll).body.commands.map((c: { id: string }) => c.id),
      [id],
    );
  } finally {
    a.close();
  }
});

test('an agent that goes away frees its wait; a bad wait is refused', async ({ f }) => {
  const a = await agentOf(f);
  try {
    const req = request(new URL('/agent/v1/commands?wait=30', f.url), { method: 'GET', agent: a.tls });
    req.on('error', () => {});
    req.end();
    await held(f, 1);
    req.destroy();
    await held(f, 0);
    const bad = await call(a.tls, f.url, 'GET', '/agent/v1/commands?wait=soon');
    assert.is(bad.status, 400);
    assert.is(bad.body.error.code, 'STK_ERR_VALIDATION');
  } finally {
    a.close();
  }
});

test.run();

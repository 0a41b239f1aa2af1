import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { call } from '../../src/agent/client.ts';
import { execute } from '../../src/domain/execute.ts';
import { Freshness } from '../../src/ingress/freshness.ts';
import { withDeadline } from '../helpers/deadline.ts';
import type { Streams } from '../../src/log/mod.ts';
import { mintSecret } from '../../src/tenancy/secrets.ts';
import { tenantDecider } from '../../commands/tenants/decider.ts';
import { agentDecider } from '../../commands/agents/decider.ts';
import { createAgentKeyAndCsr } from '../../src/pki/agent-key.ts';
import { alert, createTenant, enroll, heartbeat, ingressFixture, tlsClient, type IngressFixture, otherProcess } from './fixture.ts';

/**
 * The ingress answers from views it keeps current from the one read of the log it already has:
 * no read of its own per request, one shared check of how far the log goes — and still, a change
 * stored by another process before a request arrives holds for that request.
 */
const test = suite<{ f: IngressFixture; other: Awaited<ReturnType<typeof otherProcess>> }>('ingress freshness without a round trip per request');
const ADMIN = { kind: 'operator' as const, id: 'admin' };

test.before(async (ctx) => {
  ctx.f = await ingressFixture();
  ctx.other = await otherProcess(ctx.f);
});
test.after(async (ctx) => {
  await ctx.other?.close();
  await ctx.f?.close();
});

/** What the ingress asked of JetStream while `f` ran (it shares the fixture's door). */
async function calls(streams: Streams, f: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = streams.calls.snapshot();
  await f();
  const after = streams.calls.snapshot();
  return Object.fromEntries(
    Object.entries(after).flatMap(([k, v]) => (v !== before[k as keyof typeof before] ? [[k, v - before[k as keyof typeof before]]] : [])),
  );
}

test('shared checks: callers during a check wait for the next one; a burst costs one check per interval', async () => {
  const answers: Array<(n: number) => void> = [];
  let sent = 0;
  const f = new Freshness(
    () =>
      new Promise<number>((resolve) => {
        sent++;
        answers.push(resolve);
      }),
    0,
  );
  const first = f.latest();
  const during = Array.from({ length: 20 }, () => f.latest());
  assert.is(sent, 1, 'twenty callers during a check add no check yet');
  answers.shift()!(10);
  assert.is(await first, 10);
  // The twenty arrived after the first check was sent: they get the next one, all of them.
  await new Promise((r) => setImmediate(r));
  assert.is(sent, 2);
  answers.shift()!(12);
  assert.equal(await Promise.all(during), Array(20).fill(12));
  assert.is(f.sent, 2);
});

test('a check lost with its connection holds newcomers back only `stuckMs`, then the next one is sent', async () => {
  const answers: Array<(n: number) => void> = [];
  let onSent: () => void = () => {};
  const f = new Freshness(
    () =>
      new Promise<number>((resolve) => {
        answers.push(resolve);
        onSent();
      }),
    0,
    50,
  );
  void f.latest(); // lost: never answered
  const secondSent = new Promise<void>((r) => {
    onSent = r;
  });
  const caller = f.latest();
  await withDeadline(secondSent, 'the next check, sent while the lost one is still out');
  assert.is(f.sent, 2, 'sent without waiting for the lost one');
  answers[1]!(7);
  assert.is(await caller, 7);
});

test('a report of an agent the ingress holds is one publish and at most one shared check; a poll reads nothing else', async ({ f }) => {
  const { secret } = await createTenant(f.log, ['edr']);
  const agent = await enroll(f, secret);
  try {
    assert.is((await agent.report([heartbeat()])).status, 202);
    const report = await calls(f.log.streams, async () => {
      const r = await agent.report([heartbeat(), alert('a'), alert('b'), alert('c')]);
      assert.is(r.status, 202);
    });
    assert.is(report.publish, 1, JSON.stringify(report));
    assert.ok((report.stream_info ?? 0) <= 1, JSON.stringify(report));
    assert.is(report.msg_get, undefined, `no read of the agent: ${JSON.stringify(report)}`);
    const poll = await calls(f.log.streams, () => agent.commands());
    assert.is(poll.publish, undefined);
    assert.is(poll.msg_get, undefined, JSON.stringify(poll));
    assert.ok((poll.stream_info ?? 0) <= 1, JSON.stringify(poll));
  } finally {
    agent.close();
  }
});

test('a revocation by another process holds on the very next request of an agent the ingress holds in memory', async ({ f, other }) => {
  const { tenant, secret } = await createTenant(f.log, ['edr']);
  const agent = await enroll(f, secret);
  const tls = tlsClient(f.caPem, agent.state.certPem, agent.state.keyPem);
  try {
    assert.is((await agent.report([heartbeat()])).status, 202);
    assert.ok(f.ingress.views.agents.size > 0);
    await execute(other.log, { tenant, id: agent.agentId }, agentDecider, { kind: 'revoke', reason: 'stolen laptop' }, { actor: ADMIN });
    const refused = await calls(f.log.streams, async () => {
      const r = await call(tls, f.url, 'GET', '/agent/v1/commands');
      assert.is(r.status, 403);
      assert.is(r.body.error.code, 'STK_ERR_AGENT_REVOKED');
    });
    assert.is(refused.msg_get, undefined, `learnt from the feed, not read: ${JSON.stringify(refused)}`);
    const r = await call(tls, f.url, 'POST', '/agent/v1/report', { agentId: agent.agentId, events: [heartbeat()] });
    assert.is(r.body.error.code, 'STK_ERR_AGENT_REVOKED');
  } finally {
    tls.destroy();
    agent.close();
  }
});

test('a suspension, a product switched off and a rotated secret by another process hold on the very next request', async ({ f, other }) => {
  const { tenant, secret } = await createTenant(f.log, ['edr']);
  const agent = await enroll(f, secret);
  const tls = tlsClient(f.caPem, agent.state.certPem, agent.state.keyPem);
  try {
    assert.is((await agent.report([alert('before')])).status, 202);
    await execute(other.log, { tenant, id: tenant }, tenantDecider, { kind: 'set-product', product: 'edr', enabled: false }, { actor: ADMIN });
    const off = await call(tls, f.url, 'POST', '/agent/v1/report', { agentId: agent.agentId, events: [alert('after')] });
    assert.is(off.body.error?.code, 'STK_ERR_PRODUCT_DISABLED');
    const s = mintSecret('enroll');
    await execute(other.log, { tenant, id: tenant }, tenantDecider, { kind: 'rotate-secret', secret: { lookup: s.lookup, hash: s.hash } }, { actor: ADMIN });
    const { csrPem } = await createAgentKeyAndCsr();
    const enrollWith = (x: string) =>
      call(tlsClient(f.caPem), f.url, 'POST', '/agent/v1/enroll', { secret: x, csr: csrPem, hostname: 'h', os: 'linux', agentVersion: '1' });
    assert.is((await enrollWith(secret)).body.error?.code, 'STK_ERR_ENROLL_SECRET_INVALID');
    assert.is((await enrollWith(s.secret)).status, 201);
    await execute(other.log, { tenant, id: tenant }, tenantDecider, { kind: 'suspend', reason: 'unpaid' }, { actor: ADMIN });
    const suspended = await call(tls, f.url, 'POST', '/agent/v1/report', { agentId: agent.agentId, events: [heartbeat()] });
    assert.is(suspended.body.error?.code, 'STK_ERR_TENANT_SUSPENDED');
  } finally {
    tls.destroy();
    agent.close();
  }
});

test.run();

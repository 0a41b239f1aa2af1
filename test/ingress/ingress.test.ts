import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { certificateFacts } from '../../src/pki/agent-key.ts';
import { call } from '../../src/agent/client.ts';
import { commitsOf } from '../../src/log/mod.ts';
import { AgentEvents } from '../../commands/agents/events.ts';
import { CommandEvents } from '../../commands/agent-commands/events.ts';
import { AlertEvents } from '../../commands/alerts/events.ts';
import { alert, createTenant, dispatch, enroll, heartbeat, ingressFixture, revokeAgent, tlsClient, type IngressFixture } from './fixture.ts';
import { rejects } from '../helpers/assert.ts';

const test = suite<{ f: IngressFixture }>('ingress');

test.before(async (ctx) => {
  ctx.f = await ingressFixture();
});
test.after(async (ctx) => {
  await ctx.f?.close();
});

test('enroll, report, pull a command, post its result: every event lands in the enrolled tenant as the agent', async ({ f }) => {
  const { tenant, secret } = await createTenant(f.log, ['edr']);
  const agent = await enroll(f, secret);
  try {
    assert.is(certificateFacts(agent.state.certPem).commonName, agent.agentId);
    assert.is(agent.state.caPem.trim(), f.caPem.trim());

    const r = await agent.report([heartbeat({ cpus: 2 }), alert('mimikatz')]);
    assert.is(r.status, 202);
    assert.is(r.body.accepted, 2);
    const records = await f.log.readTenant(tenant);
    const types = records.flatMap((x) => x.events.map((e) => e.type));
    assert.ok(types.includes(AgentEvents.enrolled) && types.includes(AgentEvents.heartbeat) && types.includes(AlertEvents.raised), types.join());
    for (const rec of records.flatMap(commitsOf).filter((x) => x.aggregate.type !== 'tenant')) {
      for (const e of rec.events) assert.equal(e.actor, { kind: 'agent', id: agent.agentId });
    }
    const raised = records.flatMap((x) => x.events).find((e) => e.type === AlertEvents.raised)!;
    assert.is((raised.data as { agentId: string }).agentId, agent.agentId);

    const commandId = await dispatch(f.log, tenant, agent.agentId, 'ping');
    const pulled = await agent.commands();
    assert.equal(
      pulled.map((c) => [c.id, c.action]),
      [[commandId, 'ping']],
    );
    // Still listed until answered (a crash between pull and run loses nothing), delivered once.
    assert.equal(
      (await agent.commands()).map((c) => c.id),
      [commandId],
    );
    const res = await agent.result(commandId, 'succeeded', 'pong');
    assert.is(res.body.status, 'completed');
    // The same result again is a no-op; a different one is refused.
    const before = await f.log.lastPosition();
    assert.is((await agent.result(commandId, 'succeeded', 'pong')).status, 200);
    assert.is(await f.log.lastPosition(), before);
    await rejects(agent.result(commandId, 'failed', 'boom'), 'STK_ERR_AGENT_COMMAND_COMPLETED');
    assert.equal(await agent.commands(), []);
    const cmd = await f.log.readAggregate({ tenant, aggregateType: 'command', aggregateId: commandId });
    assert.equal(
      cmd.events.map((e) => e.type),
      [CommandEvents.dispatched, CommandEvents.delivered, CommandEvents.completed],
    );
  } finally {
    agent.close();
  }
});

test('a batch sent twice (a retry after a timeout) writes its events once', async ({ f }) => {
  const { tenant, secret } = await createTenant(f.log, ['edr']);
  const agent = await enroll(f, secret);
  try {
    const batch = [heartbeat(), alert('a'), alert('b')];
    const before = await f.log.lastPosition();
    await agent.report(batch, 'batch-1');
    const after = await f.log.lastPosition();
    assert.is(after, before + 1, 'the batch is one commit');
    const again = await agent.report(batch, 'batch-1');
    assert.is(again.status, 202);
    assert.is(await f.log.lastPosition(), after, 'the retry wrote nothing');
    const alerts = (await f.log.readTenant(tenant)).flatMap(commitsOf).filter((r) => r.aggregate.type === 'alert');
    assert.is(alerts.length, 2);
  } finally {
    agent.close();
  }
});

test('renewal over mTLS: a new certificate for a new key, same agent id; a revoked agent cannot renew', async ({ f }) => {
  const { tenant, secret } = await createTenant(f.log);
  const agent = await enroll(f, secret);
  try {
    const old = certificateFacts(agent.state.certPem);
    await agent.renew();
    const fresh = certificateFacts(agent.state.certPem);
    assert.is(fresh.commonName, agent.agentId);
    assert.is.not(fresh.serial, old.serial);
    assert.is((await agent.report([heartbeat()])).status, 202, 'the renewed certificate works');
    const events = (await f.log.readAggregate({ tenant, aggregateType: 'agent', aggregateId: agent.agentId })).events.map((e) => e.type);
    assert.ok(events.includes(AgentEvents.certificateRenewed));

    await revokeAgent(f.log, tenant, agent.agentId);
    await rejects(agent.renew(), 'STK_ERR_AGENT_REVOKED');
    await rejects(agent.report([heartbeat()]), 'STK_ERR_AGENT_REVOKED');
  } finally {
    agent.close();
  }
});

test('enrolling again makes a new agent; the revoked one stays revoked', async ({ f }) => {
  const { tenant, secret } = await createTenant(f.log);
  const first = await enroll(f, secret);
  await revokeAgent(f.log, tenant, first.agentId);
  const second = await enroll(f, secret);
  try {
    assert.is.not(second.agentId, first.agentId);
    assert.is((await second.report([heartbeat()])).status, 202);
    await rejects(first.report([heartbeat()]), 'STK_ERR_AGENT_REVOKED');
    const revoked = await f.log.readAggregate({ tenant, aggregateType: 'agent', aggregateId: first.agentId });
    assert.is(revoked.events.at(-1)!.type, AgentEvents.revoked);
  } finally {
    first.close();
    second.close();
  }
});

test('the server speaks TLS with a certificate of the install CA for its address', async ({ f }) => {
  const r = await call(tlsClient(f.caPem), f.url, 'GET', '/healthz');
  assert.is(r.status, 200);
});

test.run();

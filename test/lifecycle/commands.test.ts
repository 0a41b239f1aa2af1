import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CommandEvents } from '../../commands/agent-commands/events.ts';
import { commandExpired } from '../../src/agent/machine.ts';
import { AgentClient } from '../../src/agent/client.ts';
import { IngressFeed } from '../../src/ingress/feed.ts';
import { AgentCommandOutbox } from '../../src/ingress/outbox.ts';
import { expireCommands } from '../../src/lifecycle/commands.ts';
import { createLogger } from '../../src/logger.ts';
import { enrollAgent, freshTenant, readToken } from '../helpers/events.ts';
import { lifecycleFixture, ingressOn, type LifecycleFixture } from './fixture.ts';

/**
 * Agent commands expire and can be cancelled: through the operator API and the real mTLS ingress
 * (with its clock moved forward), the reference agent's client, and the lifecycle role's sweep.
 */
const test = suite('lifecycle: agent commands expire and can be cancelled');
let f: LifecycleFixture;
let ing: Awaited<ReturnType<typeof ingressOn>>;
let skewMs = 0;
const clock = () => new Date(Date.now() + skewMs);
test.before(async () => {
  f = await lifecycleFixture();
  ing = await ingressOn(f, clock);
});
test.after(async () => {
  await ing?.close();
  await f?.cleanup();
});

test('expired and cancelled commands never reach the agent; a result after the expiry is recorded as late; the sweep marks the rest expired', async () => {
  const tenant = freshTenant('cmd');
  const { enrollSecret } = await f.tenant(tenant, ['edr']);
  const agent = await AgentClient.enroll({
    url: ing.ingress.url,
    caPem: ing.ingress.ca.certificatePem,
    secret: enrollSecret,
    hostname: 'h',
    os: 'linux',
    agentVersion: '1',
  });
  try {
    const path = `/api/v1/tenants/${tenant}/agents/${agent.agentId}/commands`;
    const short = await f.call('POST', path, { body: { action: 'ping', expiresInSeconds: 60 } });
    const long = await f.call('POST', path, { body: { action: 'collect-inventory', expiresInSeconds: 3600 } });
    const withdrawn = await f.call('POST', path, { body: { action: 'ping' } });
    for (const r of [short, long, withdrawn]) assert.is(r.status, 201, JSON.stringify(r.body));
    assert.ok(Date.parse(short.body.expiresAt) - Date.now() <= 60_000);
    assert.ok(Date.parse(withdrawn.body.expiresAt) - Date.now() > 250_000, "ping's default (5 min) applies");
    const cancel = await f.call('POST', `/api/v1/tenants/${tenant}/commands/${withdrawn.body.id}/cancel`, { body: { reason: 'wrong host' } });
    assert.is(cancel.status, 200, JSON.stringify(cancel.body));
    assert.is(cancel.body.status, 'cancelled');

    // Two minutes later on the ingress's clock: the 60 s command is past its expiry.
    skewMs = 120_000;
    const pulled = await agent.commands();
    assert.equal(
      pulled.map((c) => c.id),
      [long.body.id],
    );
    assert.is(pulled[0]!.expiresAt, long.body.expiresAt, 'the agent is told the expiry');
    const late = await f.call('POST', `/api/v1/tenants/${tenant}/commands/${long.body.id}/cancel`, { body: {} });
    assert.is(late.status, 409);
    assert.is(late.body.error.code, 'STK_ERR_INVALID_TRANSITION');

    // The result comes two hours later: recorded, and marked late.
    skewMs = 7_200_000;
    const res = await agent.result(long.body.id, 'succeeded', '{}');
    assert.is(res.status, 200);
    assert.is(res.body.late, true);
    const doc = await f.call('GET', `/api/v1/tenants/${tenant}/commands/${long.body.id}?waitFor=${res.body.consistencyToken}`);
    assert.is(doc.body.status, 'completed');
    assert.is(doc.body.late, true);

    // A result for a cancelled command is refused; nothing was ever handed out for it.
    const onCancelled = await agent.result(withdrawn.body.id, 'succeeded', 'x').catch((err: { code?: string }) => err);
    assert.is((onCancelled as { code?: string }).code, 'STK_ERR_INVALID_TRANSITION');

    // The lifecycle role's sweep records the expiry of what nobody answered.
    const feed = new IngressFeed(f.stk.runtime.log, createLogger({ level: 'silent' }));
    const outbox = new AgentCommandOutbox(feed, f.stk.runtime.log);
    await feed.start();
    try {
      assert.is(await expireCommands({ log: f.stk.runtime.log, outbox, now: clock() }), 1);
      assert.is(await expireCommands({ log: f.stk.runtime.log, outbox, now: clock() }), 0, 'once');
    } finally {
      await feed.close();
    }
    const commit = await f.stk.runtime.log.lastCommit({ tenant, aggregateType: 'command', aggregateId: short.body.id });
    assert.is(commit?.events.at(-1)?.type, CommandEvents.expired);
    const list = await f.call(
      'GET',
      `/api/v1/tenants/${tenant}/commands?status=expired&waitFor=${await readToken(f.stk.runtime.streams, tenant, commit!.position)}`,
    );
    assert.equal(
      list.body.items.map((c: { id: string }) => c.id),
      [short.body.id],
    );
    assert.is((await agent.commands()).length, 0, 'nothing left to hand out');
  } finally {
    skewMs = 0;
    agent.close();
  }
});

test('an expiry longer than the action allows is refused with its code; nothing is dispatched', async () => {
  const tenant = freshTenant('ttl');
  await f.tenant(tenant, ['edr']);
  const { agentId, position } = await enrollAgent(f.stk.runtime.log, tenant);
  // The operator sees the agent first (the API knows it once its read model holds the enrollment).
  const seen = await f.call('GET', `/api/v1/tenants/${tenant}/agents/${agentId}?waitFor=${await readToken(f.stk.runtime.streams, tenant, position)}`);
  assert.is(seen.status, 200, JSON.stringify(seen.body));
  const before = await f.stk.runtime.log.lastPosition();
  const r = await f.call('POST', `/api/v1/tenants/${tenant}/agents/${agentId}/commands`, {
    body: { action: 'kill-process', args: { pid: 4242 }, expiresInSeconds: 7200 },
  });
  assert.is(r.status, 400, JSON.stringify(r.body));
  assert.is(r.body.error.code, 'STK_ERR_AGENT_COMMAND_TTL', JSON.stringify(r.body));
  assert.is(r.body.error.data.limit, 1800);
  assert.is(await f.stk.runtime.log.lastPosition(), before);
});

test('the reference agent does not run a command whose expiry has passed on its own clock', () => {
  const now = new Date('2026-03-01T12:00:00.000Z');
  assert.ok(commandExpired({ expiresAt: '2026-03-01T11:59:59.999Z' }, now));
  assert.ok(commandExpired({ expiresAt: '2026-03-01T12:00:00.000Z' }, now));
  assert.not.ok(commandExpired({ expiresAt: '2026-03-01T12:00:00.001Z' }, now));
  assert.not.ok(commandExpired({}, now), 'commands from before expiries run as they did');
});

test.run();

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats } from '../../src/nats/connect.ts';
import { commitsOf, EventLog, eventSubject, EVENTS_STREAM } from '../../src/log/mod.ts';
import { birthPlace, bornId } from '../../src/log/births.ts';
import { newId } from '../../src/ids.ts';
import { natsFixture } from '../helpers/nats.ts';
import { rejects } from '../helpers/assert.ts';

type Ctx = { nats: Awaited<ReturnType<typeof natsFixture>>; nc: NatsConnection; log: EventLog };
const test = suite<Ctx>('aggregates born in another aggregate’s commit');

test.before(async (ctx) => {
  ctx.nats = await natsFixture();
  ctx.nc = await connectNats({ servers: ctx.nats.url });
  ctx.log = await EventLog.connect(ctx.nc);
});
test.after(async (ctx) => {
  await ctx.nc?.close();
  await ctx.nats?.stop();
});

const tenant = () =>
  't-' +
  newId()
    .slice(0, 8)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, 'x');

/** An agent with one commit, then a report commit with two alerts born in it. */
async function reported(log: EventLog, t = tenant()) {
  const agent = { tenant: t, aggregateType: 'agent', aggregateId: newId() };
  await log.appendOrThrow(agent, [{ type: 'agent.enrolled', data: {} }], { expectedVersion: 'no_stream' });
  const before = await log.lastPosition();
  const r = await log.appendOrThrow(agent, [{ id: newId(), type: 'agent.heartbeat', data: { n: 1 } }], {
    expectedVersion: 1,
    births: [
      { aggregateType: 'alert', seed: 'a', events: [{ type: 'alert.raised', data: { title: 'a' } }] },
      { aggregateType: 'alert', seed: 'b', events: [{ type: 'alert.raised', data: { title: 'b' } }] },
    ],
  });
  return { agent, r, before };
}

test('one message carries the agent’s events and the births; each aggregate reads back only its own', async ({ log }) => {
  const { agent, r, before } = await reported(log);
  assert.is(r.position, before + 1, 'one message');
  assert.is(r.version, 2);
  assert.is(r.born.length, 2);
  const [a, b] = r.born;
  assert.ok(a && b && a.aggregateId !== b.aggregateId);
  assert.equal(birthPlace(a.aggregateId)?.parentId, agent.aggregateId);
  const own = await log.readAggregate(agent);
  assert.equal(
    own.events.map((e) => e.type),
    ['agent.enrolled', 'agent.heartbeat'],
  );
  const alert = await log.readAggregate({ tenant: agent.tenant, aggregateType: 'alert', aggregateId: a.aggregateId });
  assert.is(alert.version, 1);
  assert.equal(
    alert.events.map((e) => [e.type, e.version, e.aggregate.id, (e.data as { title: string }).title]),
    [['alert.raised', 1, a.aggregateId, 'a']],
  );
  const last = await log.lastCommit({ tenant: agent.tenant, aggregateType: 'alert', aggregateId: b.aggregateId });
  assert.is(last?.position, r.position);
  assert.equal(last?.aggregate, { type: 'alert', id: b.aggregateId });
  assert.equal(
    last?.events.map((e) => (e.data as { title: string }).title),
    ['b'],
  );
  const [record] = await log.readTenant(agent.tenant, before);
  assert.ok(record);
  assert.equal(
    commitsOf(record).map((p) => [p.aggregate.type, p.version, p.subject]),
    [
      ['agent', 2, eventSubject(agent)],
      ['alert', 1, eventSubject({ tenant: agent.tenant, aggregateType: 'alert', aggregateId: a.aggregateId })],
      ['alert', 1, eventSubject({ tenant: agent.tenant, aggregateType: 'alert', aggregateId: b.aggregateId })],
    ],
  );
});

test('later changes go to the born aggregate’s own subject, with the versions after its birth; racing first writers: one wins', async ({ log, nc }) => {
  const { agent, r } = await reported(log);
  const alert = { tenant: agent.tenant, aggregateType: 'alert', aggregateId: r.born[0]!.aggregateId };
  // Two processes that never saw the birth (empty caches) both act on the alert at version 1.
  const one = await EventLog.connect(nc, { skipEnsureStream: true });
  const two = await EventLog.connect(nc, { skipEnsureStream: true });
  try {
    const [x, y] = await Promise.all([
      one.append(alert, [{ type: 'alert.acked', data: { by: 'one' } }], { expectedVersion: 1 }),
      two.append(alert, [{ type: 'alert.acked', data: { by: 'two' } }], { expectedVersion: 1 }),
    ]);
    assert.equal([x.ok, y.ok].sort(), [false, true]);
    const lost = x.ok ? y : x;
    assert.is(!lost.ok && lost.error.code, 'STK_ERR_LOG_VERSION_CONFLICT');
    const won = x.ok ? x.value : y.ok ? y.value : null;
    assert.is(won?.version, 2);
    const last = await log.streams.last(EVENTS_STREAM, eventSubject(alert));
    assert.is(last?.seq, won?.position, 'the change is on the alert’s own subject');
    const read = await log.readAggregate(alert);
    assert.equal(
      read.events.map((e) => [e.type, e.version]),
      [
        ['alert.raised', 1],
        ['alert.acked', 2],
      ],
    );
    assert.equal((await log.readAggregate(alert, 2)).events.length, 1);
    // The agent is untouched by its alert's change.
    assert.is((await log.readAggregate(agent)).version, 2);
  } finally {
    one.close();
    two.close();
  }
});

test('a born aggregate is never created a second time under its id', async ({ log }) => {
  const { agent, r } = await reported(log);
  const alert = { tenant: agent.tenant, aggregateType: 'alert', aggregateId: r.born[1]!.aggregateId };
  const again = await log.append(alert, [{ type: 'alert.raised', data: {} }], { expectedVersion: 'no_stream' });
  assert.is(!again.ok && again.error.code, 'STK_ERR_LOG_VERSION_CONFLICT');
  assert.is(!again.ok && again.error.data.actual, 1);
});

test('a retried commit (same first event id) answers with the original births and writes nothing', async ({ log }) => {
  const t = tenant();
  const agent = { tenant: t, aggregateType: 'agent', aggregateId: newId() };
  await log.appendOrThrow(agent, [{ type: 'agent.enrolled', data: {} }], { expectedVersion: 'no_stream' });
  const id = newId();
  const commit = () =>
    log.appendOrThrow(agent, [{ id, type: 'agent.heartbeat', data: {} }], {
      expectedVersion: 'any',
      births: [{ aggregateType: 'finding', seed: 's', events: [{ id: `${id}-f`, type: 'finding.reported', data: {} }] }],
    });
  const first = await commit();
  const end = await log.lastPosition();
  const retry = await commit();
  assert.is(retry.duplicate, true);
  assert.is(retry.position, first.position);
  assert.is(await log.lastPosition(), end);
  assert.equal(
    retry.born.map((b) => b.aggregateId),
    first.born.map((b) => b.aggregateId),
  );
  assert.equal(
    retry.events.map((e) => e.type),
    ['agent.heartbeat'],
  );
});

test('a birth is found when the writer’s clock was an hour ahead (its hint is after the commit) and never when it was not born', async ({ nc }) => {
  const ahead = await EventLog.connect(nc, { skipEnsureStream: true, now: () => new Date(Date.now() + 3_600_000) });
  try {
    const { agent, r } = await reported(ahead);
    const reader = await EventLog.connect(nc, { skipEnsureStream: true });
    try {
      const alert = { tenant: agent.tenant, aggregateType: 'alert', aggregateId: r.born[0]!.aggregateId };
      assert.ok(birthPlace(alert.aggregateId)!.notBeforeMs > Date.now(), 'the hint is in the future');
      assert.is((await reader.readAggregate(alert)).version, 1);
      // An id of the born form that no commit holds: nothing, from a reader that scans the whole parent.
      const never = bornId({ aggregateType: 'agent', aggregateId: agent.aggregateId }, Date.now(), 'never');
      assert.equal(await reader.readAggregate({ tenant: agent.tenant, aggregateType: 'alert', aggregateId: never }), { events: [], version: 0, position: 0 });
      assert.is(await reader.lastCommit({ tenant: agent.tenant, aggregateType: 'alert', aggregateId: never }), null);
    } finally {
      reader.close();
    }
  } finally {
    ahead.close();
  }
});

test('a birth must have events and a parent whose id leaves room for born ids', async ({ log }) => {
  const t = tenant();
  const agent = { tenant: t, aggregateType: 'agent', aggregateId: 'x'.repeat(60) };
  await rejects(
    log.append(agent, [{ type: 'agent.enrolled', data: {} }], {
      expectedVersion: 'no_stream',
      births: [{ aggregateType: 'alert', seed: 's', events: [{ type: 'alert.raised', data: {} }] }],
    }),
    'STK_ERR_VALIDATION',
  );
  await rejects(
    log.append({ ...agent, aggregateId: newId() }, [{ type: 'agent.enrolled', data: {} }], {
      expectedVersion: 'no_stream',
      births: [{ aggregateType: 'alert', seed: 's', events: [] }],
    }),
    'STK_ERR_VALIDATION',
  );
  assert.is((await log.readTenant(t)).length, 0, 'nothing written');
});

test.run();

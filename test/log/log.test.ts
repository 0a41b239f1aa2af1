import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { connectNats } from '../../src/nats/connect.ts';
import { EventLog, Upcasters, tenantFilter, EVENTS_STREAM } from '../../src/log/mod.ts';
import { newId } from '../../src/ids.ts';
import { natsFixture } from '../helpers/nats.ts';
import { rejects } from '../helpers/assert.ts';

type Ctx = { nats: Awaited<ReturnType<typeof natsFixture>>; nc: NatsConnection; log: EventLog };
const test = suite<Ctx>('event log');

test.before(async (ctx) => {
  ctx.nats = await natsFixture();
  ctx.nc = await connectNats({ servers: ctx.nats.url });
  ctx.log = await EventLog.connect(ctx.nc);
});
test.after(async (ctx) => {
  await ctx.nc?.close();
  await ctx.nats?.stop();
});

const agg = (
  tenant = 't-' +
    newId()
      .slice(0, 8)
      .toLowerCase()
      .replace(/[^a-z0-9]/g, 'x'),
) => ({ tenant, aggregateType: 'alert', aggregateId: newId() });

test('append and read back with dense versions and the envelope', async ({ log }) => {
  const s = agg();
  const r1 = await log.appendOrThrow(s, [{ type: 'alert.raised', data: { n: 1 } }], { expectedVersion: 'no_stream', actor: { kind: 'operator', id: 'op1' } });
  assert.is(r1.version, 1);
  const r2 = await log.appendOrThrow(s, [{ type: 'alert.acked', data: { n: 2 } }], { expectedVersion: 1 });
  assert.is(r2.version, 2);
  assert.ok(r2.position > r1.position);
  const { events, version } = await log.readAggregate(s);
  assert.is(version, 2);
  assert.equal(
    events.map((e) => [e.type, e.version]),
    [
      ['alert.raised', 1],
      ['alert.acked', 2],
    ],
  );
  const e = events[0]!;
  assert.is(e.tenant, s.tenant);
  assert.equal(e.aggregate, { type: 'alert', id: s.aggregateId });
  assert.equal(e.actor, { kind: 'operator', id: 'op1' });
  assert.is(e.schema, 1);
  assert.ok(!Number.isNaN(Date.parse(e.at)));
  assert.is((await log.readAggregate(s, 2)).events.length, 1);
});

test('two writers racing on one aggregate: exactly one wins, the other gets a typed conflict', async ({ log, nc }) => {
  const s = agg();
  await log.appendOrThrow(s, [{ type: 'x.created', data: {} }], { expectedVersion: 'no_stream' });
  // A second log instance has its own version cache, like a second process.
  const other = await EventLog.connect(nc);
  await other.readAggregate(s);
  const results = await Promise.all(
    Array.from({ length: 8 }, (_, i) => (i % 2 ? other : log).append(s, [{ type: 'x.changed', data: { i } }], { expectedVersion: 1 })),
  );
  const wins = results.filter((r) => r.ok);
  const losses = results.filter((r) => !r.ok);
  assert.is(wins.length, 1);
  assert.is(losses.length, 7);
  for (const l of losses) {
    if (l.ok) continue;
    assert.is(l.error.code, 'STK_ERR_LOG_VERSION_CONFLICT');
    assert.is(l.error.data.expected, 1);
    assert.is(l.error.data.actual, 2);
  }
  assert.is((await log.readAggregate(s)).version, 2);
});

test('a stale cached version does not hide a real conflict, nor invent one', async ({ log, nc }) => {
  const s = agg();
  const other = await EventLog.connect(nc);
  await log.appendOrThrow(s, [{ type: 'x.created', data: {} }], { expectedVersion: 'no_stream' });
  await other.appendOrThrow(s, [{ type: 'x.changed', data: {} }], { expectedVersion: 1 });
  // `log` still believes version 1: a writer that read version 2 elsewhere must succeed …
  const ok = await log.append(s, [{ type: 'x.changed', data: {} }], { expectedVersion: 2 });
  assert.ok(ok.ok);
  // … and one that expects the stale version must lose.
  const stale = await other.append(s, [{ type: 'x.changed', data: {} }], { expectedVersion: 2 });
  assert.is(stale.ok, false);
  assert.is(!stale.ok && stale.error.data.actual, 3);
  const r = await log.append(s, [{ type: 'x.changed', data: {} }], { expectedVersion: 'no_stream' });
  assert.is(!r.ok && r.error.code, 'STK_ERR_LOG_VERSION_CONFLICT');
});

test('idempotent retry: re-appending the same event ids writes nothing and returns the original', async ({ log }) => {
  const s = agg();
  const ids = [newId(), newId()];
  const events = ids.map((id, i) => ({ id, type: 'x.happened', data: { i } }));
  const first = await log.appendOrThrow(s, events, { expectedVersion: 'no_stream' });
  const before = await log.lastPosition();
  const again = await log.appendOrThrow(s, events, { expectedVersion: 'no_stream' });
  assert.is(again.duplicate, true);
  assert.is(again.position, first.position);
  assert.is(again.version, first.version);
  assert.equal(
    again.events.map((e) => e.id),
    ids,
  );
  assert.is(await log.lastPosition(), before);
  assert.is((await log.readAggregate(s)).events.length, 2);
});

test('an event id reused on another aggregate is refused, not reported as written', async ({ log }) => {
  const id = newId();
  await log.appendOrThrow(agg(), [{ id, type: 'x.a', data: {} }], { expectedVersion: 'no_stream' });
  await rejects(log.appendOrThrow(agg(), [{ id, type: 'x.a', data: {} }], { expectedVersion: 'no_stream' }), 'STK_ERR_VALIDATION');
});

test('a multi-event append is atomic: one record, all events or none', async ({ log }) => {
  const s = agg();
  const r = await log.appendOrThrow(
    s,
    [1, 2, 3].map((n) => ({ type: 'x.step', data: { n } })),
    { expectedVersion: 'no_stream' },
  );
  assert.is(r.version, 3);
  const records = await log.readTenant(s.tenant);
  assert.is(records.length, 1);
  assert.equal(
    records[0]!.events.map((e) => e.version),
    [1, 2, 3],
  );
  // A failing multi-event append leaves nothing behind.
  const failed = await log.append(
    s,
    [
      { type: 'x.step', data: {} },
      { type: 'x.step', data: {} },
    ],
    { expectedVersion: 1 },
  );
  assert.is(failed.ok, false);
  assert.is((await log.readTenant(s.tenant)).length, 1);
});

test('invalid ids are refused with STK_ERR_INVALID_ID before reaching a subject', async ({ log }) => {
  const bad = ['a.b', 'a*', '>', 'a b', 'é', '', 'x'.repeat(65), 'a\nb'];
  const before = await log.lastPosition();
  for (const id of bad) {
    await rejects(
      log.append({ tenant: 'acme', aggregateType: 'alert', aggregateId: id }, [{ type: 't', data: {} }], { expectedVersion: 'any' }),
      'STK_ERR_INVALID_ID',
    );
    await rejects(
      log.append({ tenant: id || '.', aggregateType: 'alert', aggregateId: 'ok' }, [{ type: 't', data: {} }], { expectedVersion: 'any' }),
      'STK_ERR_INVALID_ID',
    );
    await rejects(
      log.append({ tenant: 'acme', aggregateType: 'alert', aggregateId: 'ok' }, [{ id: id || '*', type: 't', data: {} }], { expectedVersion: 'any' }),
      'STK_ERR_INVALID_ID',
    );
  }
  await rejects(
    log.append({ tenant: 'Acme', aggregateType: 'alert', aggregateId: 'ok' }, [{ type: 't', data: {} }], { expectedVersion: 'any' }),
    'STK_ERR_INVALID_ID',
  );
  await rejects(log.readTenant('a.>'), 'STK_ERR_INVALID_ID');
  assert.is(await log.lastPosition(), before);
});

test('readTenant sees only that tenant, in order, from a position', async ({ log }) => {
  const a = agg(),
    b = { ...agg(), aggregateId: newId() };
  const p1 = (await log.appendOrThrow(a, [{ type: 'x', data: 1 }], { expectedVersion: 'any' })).position;
  await log.appendOrThrow(b, [{ type: 'x', data: 2 }], { expectedVersion: 'any' });
  const p3 = (await log.appendOrThrow(a, [{ type: 'x', data: 3 }], { expectedVersion: 'any' })).position;
  const all = await log.readTenant(a.tenant);
  assert.equal(
    all.map((r) => r.position),
    [p1, p3],
  );
  assert.equal(
    (await log.readTenant(a.tenant, p1)).map((r) => r.position),
    [p3],
  );
  assert.equal(await log.readTenant(a.tenant, p3), []);
});

test('subscription resumes from a position with no gap and no duplicate', async ({ log }) => {
  const tenant = agg().tenant;
  const s = { tenant, aggregateType: 'feed', aggregateId: newId() };
  for (let i = 0; i < 10; i++) await log.appendOrThrow(s, [{ type: 'n', data: { i } }], { expectedVersion: i });
  const seen: number[] = [];
  const sub = log.subscribe({ filter: tenantFilter(tenant) });
  for await (const r of sub) {
    seen.push((r.events[0]!.data as { i: number }).i);
    if (seen.length === 4) break;
  }
  const resumeAt = sub.position;
  for (let i = 10; i < 15; i++) await log.appendOrThrow(s, [{ type: 'n', data: { i } }], { expectedVersion: i });
  const again = log.subscribe({ filter: tenantFilter(tenant), after: resumeAt });
  for await (const r of again) {
    seen.push((r.events[0]!.data as { i: number }).i);
    if (seen.length === 15) break;
  }
  assert.equal(
    seen,
    Array.from({ length: 15 }, (_, i) => i),
  );
});

test('a durable consumer survives a new connection and redelivers what was not acked', async ({ log, nats }) => {
  const tenant = agg().tenant;
  const s = { tenant, aggregateType: 'feed', aggregateId: newId() };
  for (let i = 0; i < 4; i++) await log.appendOrThrow(s, [{ type: 'n', data: { i } }], { expectedVersion: i });
  const name = `dur_${newId()}`;
  await log.streams.ensureConsumer(EVENTS_STREAM, { name, filter: tenantFilter(tenant), ackPolicy: 'explicit', ackWaitMs: 1000, maxAckPending: 100 });
  const d1 = await log.work(name);
  const got1: number[] = [];
  for await (const m of d1) {
    const i = (m.record.events[0]!.data as { i: number }).i;
    got1.push(i);
    if (i < 2) m.delivery.ack();
    if (got1.length === 3) break;
  }
  await d1.close();
  // A different connection (a restarted process) continues after the last acked record.
  const nc2 = await connectNats({ servers: nats.url });
  try {
    const log2 = await EventLog.connect(nc2);
    const d2 = await log2.work(name);
    const got2: number[] = [];
    for await (const m of d2) {
      got2.push((m.record.events[0]!.data as { i: number }).i);
      m.delivery.ack();
      if (got2.includes(3)) break;
    }
    await d2.close();
    assert.equal(got1, [0, 1, 2]);
    assert.equal(got2, [2, 3]);
  } finally {
    await nc2.close();
  }
});

test('an in-order read ends when a delivery it never saw comes back late; a plain read takes it', async ({ log, nc }) => {
  const tenant = agg().tenant;
  const s = { tenant, aggregateType: 'feed', aggregateId: newId() };
  for (let i = 0; i < 3; i++) await log.appendOrThrow(s, [{ type: 'n', data: { i } }], { expectedVersion: i });
  const lost = async (name: string): Promise<void> => {
    await log.streams.resetConsumer(EVENTS_STREAM, { name, filter: tenantFilter(tenant), ackPolicy: 'explicit', ackWaitMs: 1000, maxAckPending: 100 }, 0);
    // Another reader takes the first delivery and never acks it: to the reader below it went
    // missing (as a delivery in flight when a consumer's leader dies), and it comes back after
    // the ack wait, behind newer ones.
    const taken = await (await jetstream(nc).consumers.get(EVENTS_STREAM, name)).next({ expires: 5000 });
    assert.is(taken?.seq !== undefined, true);
  };
  const seen = async (name: string, inOrder: boolean): Promise<number[]> => {
    const feed = await log.work(name, { inOrder });
    const got: number[] = [];
    try {
      for await (const m of feed) {
        got.push((m.record.events[0]!.data as { i: number }).i);
        m.delivery.ack();
        if (got.length === 3) break;
      }
    } finally {
      await feed.close();
    }
    return got;
  };
  const plain = `plain_${newId()}`;
  await lost(plain);
  assert.equal(await seen(plain, false), [1, 2, 0], 'out of order, unnoticed');
  const ordered = `ordered_${newId()}`;
  await lost(ordered);
  const err = await rejects(seen(ordered, true), 'STK_ERR_LOG_UNAVAILABLE');
  assert.is(err.data.seq, (await log.readTenant(tenant))[0]!.position);
});

test('upcasting lifts old payloads on read; unknown newer schemas are refused', async ({ nc }) => {
  const up = new Upcasters([{ type: 'host.seen', from: 1, up: (d: { name: string }) => ({ hostname: d.name }) }]);
  const log = await EventLog.connect(nc, { upcasters: up });
  const s = agg();
  await log.appendOrThrow(s, [{ type: 'host.seen', schema: 1, data: { name: 'h1' } }], { expectedVersion: 'no_stream' });
  const [e] = (await log.readAggregate(s)).events;
  assert.is(e!.schema, 2);
  assert.equal(e!.data, { hostname: 'h1' });
  const s2 = agg();
  await log.appendOrThrow(s2, [{ type: 'host.seen', schema: 7, data: {} }], { expectedVersion: 'no_stream' });
  await rejects(log.readAggregate(s2), 'STK_ERR_LOG_SCHEMA_UNKNOWN');
});

test('events survive a nats-server restart (file storage) and appends resume', async (ctx) => {
  const s = agg();
  await ctx.log.appendOrThrow(s, [{ type: 'x', data: { before: true } }], { expectedVersion: 'no_stream' });
  await ctx.nc.close();
  await ctx.nats.restart();
  ctx.nc = await connectNats({ servers: ctx.nats.url });
  ctx.log = await EventLog.connect(ctx.nc);
  const r = await ctx.log.readAggregate(s);
  assert.is(r.version, 1);
  assert.equal(r.events[0]!.data, { before: true });
  assert.is((await ctx.log.appendOrThrow(s, [{ type: 'x', data: {} }], { expectedVersion: 1 })).version, 2);
});

test.run();

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats } from '../../src/nats/connect.ts';
import { EventLog, EVENTS_STREAM, type Streams, tenantFilter } from '../../src/log/mod.ts';
import { Metrics, registerJetStreamCalls } from '../../src/metrics.ts';
import { newId } from '../../src/ids.ts';
import { natsFixture } from '../helpers/nats.ts';

type Ctx = { nats: Awaited<ReturnType<typeof natsFixture>>; nc: NatsConnection; log: EventLog };
const test = suite<Ctx>('JetStream calls counted by the door');

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

/** The change of each counter while `f` runs. */
async function delta(streams: Streams, f: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = streams.calls.snapshot();
  await f();
  const after = streams.calls.snapshot();
  return Object.fromEntries(
    Object.entries(after)
      .filter(([k, v]) => v !== before[k as keyof typeof before])
      .map(([k, v]) => [k, v - before[k as keyof typeof before]]),
  );
}

test('an append of a new aggregate is one publish; of a known one, one publish too (the head is cached)', async ({ log, nc }) => {
  const s = { tenant: tenant(), aggregateType: 'alert', aggregateId: newId() };
  assert.equal(await delta(log.streams, () => log.appendOrThrow(s, [{ type: 'alert.raised', data: {} }], { expectedVersion: 'no_stream' })), { publish: 1 });
  assert.equal(await delta(log.streams, () => log.appendOrThrow(s, [{ type: 'alert.acked', data: {} }], { expectedVersion: 1 })), { publish: 1 });
  // Another process knows nothing of the aggregate: it reads the head first (one message get).
  const other = await EventLog.connect(nc, { skipEnsureStream: true });
  try {
    assert.equal(await delta(other.streams, () => other.appendOrThrow(s, [{ type: 'alert.resolved', data: {} }], { expectedVersion: 2 })), {
      msg_get: 1,
      publish: 1,
    });
  } finally {
    other.close();
  }
});

test('point reads and stream state are counted as message gets and stream infos', async ({ log }) => {
  const t = tenant();
  await log.appendOrThrow({ tenant: t, aggregateType: 'alert', aggregateId: newId() }, [{ type: 'a', data: {} }], { expectedVersion: 'no_stream' });
  assert.equal(await delta(log.streams, () => log.streams.last(EVENTS_STREAM, tenantFilter(t))), { msg_get: 1 });
  assert.equal(await delta(log.streams, () => log.streams.state(EVENTS_STREAM)), { stream_info: 1 });
});

test('a durable consumer: its lookup, its pull requests and every ack are counted', async ({ log }) => {
  const t = tenant();
  for (let i = 0; i < 3; i++) {
    await log.appendOrThrow({ tenant: t, aggregateType: 'alert', aggregateId: newId() }, [{ type: 'a', data: {} }], { expectedVersion: 'no_stream' });
  }
  const name = `calls-${newId().replace(/[^A-Za-z0-9]/g, '')}`;
  await log.streams.resetConsumer(EVENTS_STREAM, { name, filter: tenantFilter(t), ackPolicy: 'explicit', ackWaitMs: 30_000, maxAckPending: 100 }, 0);
  const d = await delta(log.streams, async () => {
    const feed = await log.streams.consume(EVENTS_STREAM, name, { max: 10 });
    let n = 0;
    for await (const m of feed) {
      m.ack();
      if (++n === 3) break;
    }
    await feed.close();
  });
  assert.is(d.ack, 3);
  assert.is(d.consumer_info, 1);
  assert.ok((d.pull ?? 0) >= 1, `at least one pull request: ${JSON.stringify(d)}`);
});

test('KV operations are counted; /metrics shows every kind', async ({ log }) => {
  const kv = await log.streams.bucket(`calls-${newId().replace(/[^A-Za-z0-9]/g, '')}`);
  assert.equal(
    await delta(log.streams, async () => {
      await kv.put('k', 'v');
      await kv.get('k');
    }),
    { kv: 2 },
  );
  const metrics = new Metrics({ defaults: false });
  registerJetStreamCalls(metrics, log.streams.calls);
  const text = await metrics.render();
  const publishes = Number(/stockade_jetstream_calls_total\{op="publish"\} (\d+)/.exec(text)?.[1]);
  assert.is(publishes, log.streams.calls.snapshot().publish);
  assert.ok(publishes >= 5);
  assert.match(text, /stockade_jetstream_calls_total\{op="kv"\} \d+/);
});

test.run();

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AckPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats } from '../../src/nats/connect.ts';
import { EventLog, EVENTS_STREAM, tenantFilter } from '../../src/log/mod.ts';
import { LagMonitor } from '../../src/backpressure.ts';
import { newId } from '../../src/ids.ts';
import { natsFixture } from '../helpers/nats.ts';
import { rejects } from '../helpers/assert.ts';

type Ctx = { nats: Awaited<ReturnType<typeof natsFixture>>; nc: NatsConnection; log: EventLog };
const test = suite<Ctx>('backpressure: lag monitor');

test.before(async (ctx) => {
  ctx.nats = await natsFixture();
  ctx.nc = await connectNats({ servers: ctx.nats.url });
  ctx.log = await EventLog.connect(ctx.nc);
});
test.after(async (ctx) => {
  ctx.log?.close();
  await ctx.nc?.close();
  await ctx.nats?.stop();
});

test('a sealing backlog over the bound refuses with STK_ERR_UNAVAILABLE, and admits again once sealed', async ({ log, nc }) => {
  const tenant =
    'bp-' +
    newId()
      .slice(0, 6)
      .toLowerCase()
      .replace(/[^a-z0-9]/g, 'x');
  await (await jetstreamManager(nc)).consumers.add(EVENTS_STREAM, {
    durable_name: 'stk-sealer-bptest',
    ack_policy: AckPolicy.All,
    filter_subject: tenantFilter(tenant),
  });
  const monitor = new LagMonitor(log.streams, { maxSealLagEvents: 3, maxProjectionLagEvents: 1000 }, { refreshMs: 0 });
  await monitor.admit();
  for (let i = 0; i < 5; i++)
    await log.appendOrThrow({ tenant, aggregateType: 'alert', aggregateId: newId() }, [{ type: 'x', data: {} }], { expectedVersion: 'no_stream' });
  const err = await rejects(monitor.admit(), 'STK_ERR_UNAVAILABLE');
  assert.is(err.data.retryAfterSeconds, 2);
  assert.is((await monitor.snapshot()).sealEvents, 5);

  // The sealer catches up: fetch and ack the last (AckAll covers the rest).
  const c = await jetstream(nc).consumers.get(EVENTS_STREAM, 'stk-sealer-bptest');
  const batch = await c.fetch({ max_messages: 5, expires: 2000 });
  let last: JsMsg | undefined;
  for await (const m of batch) last = m;
  await last!.ackAck();
  await monitor.admit();
  assert.is((await monitor.snapshot()).sealEvents, 0);
  await (await jetstreamManager(nc)).consumers.delete(EVENTS_STREAM, 'stk-sealer-bptest');
});

test('a projector replica counts only while it is alive', async ({ log, nc }) => {
  const tenant =
    'bp-' +
    newId()
      .slice(0, 6)
      .toLowerCase()
      .replace(/[^a-z0-9]/g, 'x');
  for (let i = 0; i < 4; i++)
    await log.appendOrThrow({ tenant, aggregateType: 'alert', aggregateId: newId() }, [{ type: 'x', data: {} }], { expectedVersion: 'no_stream' });
  await (await jetstreamManager(nc)).consumers.add(EVENTS_STREAM, {
    durable_name: 'projector_bptest',
    ack_policy: AckPolicy.Explicit,
    filter_subject: tenantFilter(tenant),
    max_ack_pending: 2,
  });
  const monitor = new LagMonitor(log.streams, { maxSealLagEvents: 1_000_000, maxProjectionLagEvents: 3 }, { refreshMs: 0 });
  // Nobody pulls from it: a replica whose process is gone does not hold agents back.
  await monitor.admit();
  const c = await jetstream(nc).consumers.get(EVENTS_STREAM, 'projector_bptest');
  const messages = await c.consume({ max_messages: 2 });
  const it = messages[Symbol.asyncIterator]();
  const first = await it.next();
  // Alive now (messages in flight, pulls waiting) and 4 behind: refused.
  await rejects(monitor.admit(), 'STK_ERR_UNAVAILABLE');
  assert.ok((await monitor.snapshot()).projectionEvents >= 4);
  first.value!.ack();
  for (let i = 1; i < 4; i++) (await it.next()).value!.ack();
  void messages.close();
  await it.return?.();
  await (await jetstreamManager(nc)).consumers.delete(EVENTS_STREAM, 'projector_bptest');
  await monitor.admit();
});

test.run();

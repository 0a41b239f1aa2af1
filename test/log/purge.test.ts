import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats } from '../../src/nats/connect.ts';
import { purgeMovesConsumers, Streams } from '../../src/log/mod.ts';
import { newId } from '../../src/ids.ts';
import { natsFixture } from '../helpers/nats.ts';

type Ctx = { nats: Awaited<ReturnType<typeof natsFixture>>; nc: NatsConnection; streams: Streams };

/**
 * Removing one subject's messages (a machine's telemetry erased, a tenant's ageing out) leaves
 * every consumer that reads a wider filter where it was: a partition's reader that had not yet read
 * another machine's items still gets every one of them. nats-server before 2.9.12 moves such a
 * consumer past the purge's end (the distribution's 2.9.10 does), so there the door erases the
 * messages one by one instead.
 */
const test = suite<Ctx>('door purge: consumers of a wider filter keep what they had not read');

test.before(async (ctx) => {
  ctx.nats = await natsFixture();
  ctx.nc = await connectNats({ servers: ctx.nats.url });
  ctx.streams = await Streams.open(ctx.nc);
});
test.after(async (ctx) => {
  await ctx.nc?.close();
  await ctx.nats?.stop();
});

test('which servers move consumers with a filtered purge', () => {
  assert.ok(purgeMovesConsumers('2.9.10'));
  assert.ok(purgeMovesConsumers('2.9.11'));
  assert.not.ok(purgeMovesConsumers('2.9.12'));
  assert.not.ok(purgeMovesConsumers('2.10.7'));
  assert.not.ok(purgeMovesConsumers('2.11.0-beta.1'));
  assert.ok(purgeMovesConsumers(undefined), 'an unknown server is taken for one that does');
});

test("one subject removed; a partition's consumer still gets every other message it had not read, and none removed", async ({ nc, streams }) => {
  const name = `PURGE_${newId().replace(/[^A-Za-z0-9]/g, '')}`;
  await streams.ensureStream({ name, subjects: [`${name}.>`] });
  const jsm = await jetstreamManager(nc);
  // The partition's reader exists, and is behind: nothing read yet.
  await jsm.consumers.add(name, { durable_name: 'part', ack_policy: AckPolicy.All, filter_subject: `${name}.0.>` });
  const kept: number[] = [];
  for (let i = 0; i < 30; i++) {
    await streams.publish(`${name}.0.gone`, Buffer.from(`g${i}`), { msgId: newId() });
    kept.push((await streams.publish(`${name}.0.kept`, Buffer.from(`k${i}`), { msgId: newId() })).seq);
    await streams.publish(`${name}.1.other`, Buffer.from(`o${i}`), { msgId: newId() });
  }
  // Part of it first (below a sequence, as retention does), then the rest.
  // Each `gone` message is stored just before its `kept` one: below kept[10] are eleven of them.
  const cut = kept[10]!;
  assert.is(await streams.purge(name, `${name}.0.gone`, cut), 11);
  assert.is(await streams.purge(name, `${name}.0.gone`), 19);
  assert.is(await streams.purge(name, `${name}.0.gone`), 0, 'nothing left to remove');

  const info = await jsm.consumers.info(name, 'part');
  assert.is(info.delivered.stream_seq, 0, 'the consumer was not moved');
  assert.is(info.num_pending, 30);
  const c = await jetstream(nc).consumers.get(name, 'part');
  const got: number[] = [];
  const deadline = Date.now() + 60_000;
  while (got.length < 30 && Date.now() < deadline) {
    const batch = await c.fetch({ max_messages: 30 - got.length, expires: 2_000 });
    for await (const m of batch) {
      assert.is(m.subject, `${name}.0.kept`);
      got.push(m.seq);
      m.ack();
    }
  }
  assert.equal(got, kept);
  const st = await streams.state(name);
  assert.is(st?.messages, 60, 'the kept and the other partition’s messages remain');
});

test.run();

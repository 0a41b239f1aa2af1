import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { newId } from '../../src/ids.ts';
import { Streams } from '../../src/log/mod.ts';
import { createLogger } from '../../src/logger.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { ModelFeed } from '../../src/projector/feed.ts';
import { natsFixture } from '../helpers/nats.ts';

const test = suite('model feed: batches');

/**
 * A feed of stream `name` (subjects `<prefix>.>`) whose items are their sequences, recording each
 * batch it applies; `hold` runs inside each apply before the position moves.
 */
async function sequenceFeed(
  streams: Streams,
  name: string,
  prefix: string,
  o: { lingerMs?: number; hold?: (batches: number[][]) => Promise<void> } = {},
): Promise<{ feed: ModelFeed<number>; batches: number[][]; publish(): Promise<number> }> {
  await streams.ensureStream({ name, subjects: [`${prefix}.>`] });
  const batches: number[][] = [];
  let position = 0;
  const feed = new ModelFeed<number>({
    streams,
    stream: name,
    filter: `${prefix}.>`,
    durableName: `${prefix}-feed`,
    batchMax: 1000,
    ...(o.lingerMs !== undefined ? { lingerMs: o.lingerMs } : {}),
    logger: createLogger({ level: 'silent' }),
    label: 'feed test',
    position: () => position,
    decode: (d) => d.seq,
    apply: async (items, last) => {
      batches.push(items);
      await o.hold?.(batches);
      position = last;
    },
  });
  const publish = async () => (await streams.publish(`${prefix}.${newId().toLowerCase()}`, new TextEncoder().encode('x'), { msgId: newId() })).seq;
  return { feed, batches, publish };
}

test('a reader that fell behind a trickle applies what waits in one batch, not one delivery at a time', async () => {
  const nats = await natsFixture();
  const nc = await connectNats({ servers: nats.url });
  let feed: ModelFeed<number> | null = null;
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  try {
    const streams = await Streams.open(nc);
    let firstApplied!: () => void;
    const blocked = new Promise<void>((r) => (firstApplied = r));
    const made = await sequenceFeed(streams, 'FEEDTEST', 'ft', {
      hold: async (batches) => {
        if (batches.length === 1) {
          firstApplied();
          await gate;
        }
      },
    });
    feed = made.feed;
    const { batches, publish } = made;
    await feed.start();
    await publish();
    await blocked;
    // Stored one by one: each is sent while it is the newest, so each says nothing is pending after it.
    const seqs: number[] = [];
    for (let i = 0; i < 50; i++) seqs.push(await publish());
    // The consumer has sent all 51 (unacked) once its state says so; its answer comes on the same
    // connection after them, so they are in this process by then.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const state = await streams.consumer('FEEDTEST', 'ft-feed');
      if (state && state.ackPending === 51) break;
      assert.ok(Date.now() < deadline, `the consumer never sent all 51: ${JSON.stringify(state)}`);
      // A pause between polls of the consumer's state (the feed is held at the gate meanwhile).
      await feed.waitFor(Number.POSITIVE_INFINITY, 50);
    }
    open();
    assert.ok(await feed.waitFor(seqs[49]!, 30_000), 'every delivery applied');
    assert.is(batches.length, 2, `batches: ${batches.map((b) => b.length).join(', ')}`);
    assert.equal(batches[1], seqs);
  } finally {
    open();
    await feed?.stop();
    await nc.close();
    await nats.stop();
  }
});

test('caught up soon after a batch was written, deliveries wait up to lingerMs for more and go in one batch; the first after a quiet spell at once', async () => {
  const nats = await natsFixture();
  const nc = await connectNats({ servers: nats.url });
  let feed: ModelFeed<number> | null = null;
  try {
    const streams = await Streams.open(nc);
    // Long enough that five publishes one after another fit in it on a loaded machine.
    const made = await sequenceFeed(streams, 'FEEDLINGER', 'fl', { lingerMs: 3000 });
    feed = made.feed;
    const { batches, publish } = made;
    await feed.start();
    const first = await publish();
    assert.ok(await feed.waitFor(first, 30_000));
    assert.equal(batches, [[first]], 'the first, after nothing, is applied alone');
    const seqs: number[] = [];
    for (let i = 0; i < 5; i++) seqs.push(await publish());
    assert.ok(await feed.waitFor(seqs[4]!, 30_000), 'every delivery applied');
    assert.equal(batches, [[first], seqs], `batches: ${batches.map((b) => b.length).join(', ')}`);
  } finally {
    await feed?.stop();
    await nc.close();
    await nats.stop();
  }
});

test.run();

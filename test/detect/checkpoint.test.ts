import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readCheckpoint, writeCheckpoint } from '../../src/detect/checkpoint.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { Streams } from '../../src/log/mod.ts';
import { natsFixture } from '../helpers/nats.ts';

const test = suite('detector checkpoints in KV');

test('a state larger than one KV value is written in chunks, read back whole, and the replaced chunks go', async () => {
  const nats = await natsFixture();
  const nc = await connectNats({ servers: nats.url });
  try {
    const kv = await (await Streams.open(nc)).bucket('stk-detector-test');
    assert.is(await readCheckpoint(kv, 3), null, 'none before the first write');
    // About 1.5 MB of JSON, more than a NATS message may carry.
    const big = { agents: Object.fromEntries(Array.from({ length: 6000 }, (_, i) => [`agent-${i}`, { hostname: `host-${i}`.padEnd(200, 'x'), seq: i }])) };
    await writeCheckpoint(kv, 3, { evSeq: 42, state: big });
    const back = await readCheckpoint<typeof big>(kv, 3);
    assert.is(back?.evSeq, 42);
    assert.equal(back?.state, big);
    await writeCheckpoint(kv, 3, { evSeq: 43, state: { small: true } });
    assert.equal(await readCheckpoint(kv, 3), { evSeq: 43, state: { small: true } });
    const keys: string[] = [];
    for await (const k of await kv.keys('ck.3.>')) keys.push(k);
    assert.is(keys.length, 1, `only the current chunk is left: ${keys.length}`);
    assert.is(await readCheckpoint(kv, 4), null, 'partitions are apart');
  } finally {
    await nc.close();
    await nats.stop();
  }
});

test.run();

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type Server, type Socket, createServer } from 'node:net';
import { TokenBucket, checkScanRequest, runScan } from '../../src/scan/mod.ts';
import { rejects } from '../helpers/assert.ts';
import { listen, type Listener } from './fixture.ts';

const test = suite('scan limits');

test('token bucket: a burst, then one token per 1/rate, waiters served in order; refill capped at the burst', () => {
  let t = 0;
  const bucket = new TokenBucket(10, 2, () => t);
  assert.equal([bucket.reserve(), bucket.reserve(), bucket.reserve(), bucket.reserve(), bucket.reserve()], [0, 0, 100, 200, 300]);
  t = 1000; // 10 tokens refilled, 3 owed, capped at the burst of 2
  assert.equal([bucket.reserve(), bucket.reserve(), bucket.reserve()], [0, 0, 100]);
  t = 1050;
  assert.is(bucket.reserve(), 150, 'half a token came back; the reservation before it still owes 100 ms');
  t = 60_000;
  assert.equal([bucket.reserve(), bucket.reserve(), bucket.reserve()], [0, 0, 100], 'an idle minute still only allows the burst');
  assert.throws(() => new TokenBucket(0, 1), RangeError);
});

/**
 * A server group that counts connections open across all its ports and holds every connection
 * silent until `concurrency` of them are open at once (or all that remain): then it sends each its
 * banner. A scanner that opened more than `concurrency` at once would push the count above it; one
 * that opened fewer would never be released until its banner window ran out.
 */
async function gate(ports: number, concurrency: number): Promise<{ listeners: Listener[]; maxOpen(): number; accepted(): number; close(): Promise<void> }> {
  let open = 0;
  let max = 0;
  let accepted = 0;
  const waiting = new Set<Socket>();
  const release = (): void => {
    const remaining = ports - (accepted - waiting.size);
    if (waiting.size >= Math.min(concurrency, remaining)) {
      for (const s of waiting) s.write('HELLO gate\r\n');
      waiting.clear();
    }
  };
  const servers: Server[] = Array.from({ length: ports }, () =>
    createServer((s) => {
      accepted++;
      open++;
      max = Math.max(max, open);
      let counted = true;
      const done = (): void => {
        if (counted) open--;
        counted = false;
        waiting.delete(s);
      };
      s.prependListener('end', done);
      s.once('close', done);
      s.on('error', () => {});
      waiting.add(s);
      release();
    }),
  );
  const listeners: Listener[] = [];
  try {
    for (const server of servers) listeners.push(await listen(server));
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()));
    throw err;
  }
  return { listeners, maxOpen: () => max, accepted: () => accepted, close: async () => void (await Promise.all(listeners.map((l) => l.close()))) };
}

test('a scan of 40 ports never has more than `concurrency` connections open at once, counted on the server side', async () => {
  const g = await gate(40, 4);
  try {
    const check = await checkScanRequest({ targets: ['127.0.0.1'], ports: g.listeners.map((l) => l.port) }, ['127.0.0.1']);
    assert.ok(check.ok);
    if (!check.ok) return;
    // A banner window long enough that only the gate can end a wait; rate high enough not to matter.
    const result = await runScan(check.plan, { concurrency: 4, ratePerSecond: 10_000, burst: 100, bannerWindowMs: 30_000, bannerIdleMs: 50 });
    assert.is(g.accepted(), 40);
    assert.is(g.maxOpen(), 4, 'exactly the limit: reached, never exceeded');
    assert.is(result.connections, 40);
    assert.ok(result.items.every((i) => i.state === 'open' && i.banner === 'HELLO gate\\r\\n'));
  } finally {
    await g.close();
  }
});

test('the rate limit spaces connection starts: 11 connections at 20/s with a burst of 1 take at least 500 ms', async () => {
  // A lower bound only: a slow machine makes a scan slower, never faster, so this cannot flake.
  const closed = await listen(createServer());
  const port = closed.port;
  await closed.close();
  const ports = Array.from({ length: 11 }, (_, i) => port + i - 5).filter((p) => p > 0 && p < 65_536);
  const check = await checkScanRequest({ targets: ['127.0.0.3'], ports }, ['127.0.0.3']);
  assert.ok(check.ok);
  if (!check.ok) return;
  const t0 = performance.now();
  const result = await runScan(check.plan, { concurrency: 11, ratePerSecond: 20, burst: 1, services: false });
  const elapsed = performance.now() - t0;
  assert.is(result.connections, ports.length);
  assert.ok(elapsed >= ((ports.length - 1) / 20) * 1000 - 5, `took ${elapsed.toFixed(0)} ms`);
});

test('options out of bounds are refused with the field named', async () => {
  const check = await checkScanRequest({ targets: ['127.0.0.1'], ports: [1] }, ['127.0.0.1']);
  assert.ok(check.ok);
  if (!check.ok) return;
  for (const bad of [{ concurrency: 0 }, { concurrency: 5000 }, { ratePerSecond: 0 }, { bannerMaxBytes: 1e6 }, { connectTimeoutMs: Number.NaN }]) {
    const err = await rejects(runScan(check.plan, bad), 'STK_ERR_VALIDATION');
    assert.is(err.data.field, Object.keys(bad)[0]);
  }
});

test('an aborted scan stops starting probes and says so', async () => {
  const check = await checkScanRequest({ targets: ['127.0.0.3'], ports: Array.from({ length: 50 }, (_, i) => 40_000 + i) }, ['127.0.0.3']);
  assert.ok(check.ok);
  if (!check.ok) return;
  const ac = new AbortController();
  let seen = 0;
  const result = await runScan(check.plan, {
    concurrency: 1,
    ratePerSecond: 1000,
    services: false,
    signal: ac.signal,
    onItem: () => {
      if (++seen === 5) ac.abort();
    },
  });
  assert.ok(result.aborted);
  assert.is(result.items.length, 5);
});

test.run();

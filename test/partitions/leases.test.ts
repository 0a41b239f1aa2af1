import type { Streams } from '../../src/log/mod.ts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EventEmitter, once } from 'node:events';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats } from '../../src/nats/connect.ts';
import { PartitionLeases, partitionOf } from '../../src/partitions/leases.ts';
import { newId } from '../../src/ids.ts';
import { natsFixture, doorOf } from '../helpers/nats.ts';

type Ctx = { nats: Awaited<ReturnType<typeof natsFixture>>; nc: NatsConnection };
const test = suite<Ctx>('partition leases');

test.before(async (ctx) => {
  ctx.nats = await natsFixture();
  ctx.nc = await connectNats({ servers: ctx.nats.url });
});
test.after(async (ctx) => {
  await ctx.nc?.close();
  await ctx.nats?.stop();
});

const P = 6;

function group(streams: Streams, n: number) {
  const bucket =
    'leases_' +
    newId()
      .slice(0, 8)
      .replace(/[^A-Za-z0-9]/g, 'x');
  const changes = new EventEmitter();
  const overlaps: string[] = [];
  const workers: PartitionLeases[] = [];
  const active = new Set<PartitionLeases>();
  const check = (): void => {
    const seen = new Map<number, number>();
    for (const w of active) for (const p of w.owned) seen.set(p, (seen.get(p) ?? 0) + 1);
    for (const [p, c] of seen) if (c > 1) overlaps.push(`partition ${p} owned ${c} times`);
    changes.emit('change');
  };
  for (let i = 0; i < n; i++) {
    const w = new PartitionLeases(streams, { bucket, workerId: `w${i}`, partitions: P, leaseMs: 1500, tickMs: 250, onChange: check });
    workers.push(w);
    active.add(w);
  }
  const until = async (cond: () => boolean): Promise<void> => {
    while (!cond()) await once(changes, 'change');
  };
  const coverage = (ws: PartitionLeases[]): number[] => ws.flatMap((w) => [...w.owned]).sort((a, b) => a - b);
  return { workers, active, overlaps, until, coverage };
}

test('workers split the partitions evenly, never both owning one', async ({ nc }) => {
  const g = group(await doorOf(nc), 3);
  try {
    await Promise.all(g.workers.map((w) => w.start()));
    await g.until(() => g.coverage(g.workers).length === P && g.workers.every((w) => w.owned.size === 2));
    assert.equal(g.coverage(g.workers), [0, 1, 2, 3, 4, 5]);
    assert.equal(g.overlaps, []);
  } finally {
    await Promise.all(g.workers.map((w) => w.stop()));
  }
});

test("a dead worker's partitions are taken over after its lease lapses, and its stale lease is fenced", async ({ nc }) => {
  const g = group(await doorOf(nc), 3);
  try {
    await Promise.all(g.workers.map((w) => w.start()));
    await g.until(() => g.coverage(g.workers).length === P && g.workers.every((w) => w.owned.size === 2));
    const dead = g.workers[2]!;
    const lost = [...dead.owned];
    const staleLease = dead.lease(lost[0]!)!;
    dead.pause();
    g.active.delete(dead);
    const t0 = Date.now();
    const live = g.workers.slice(0, 2);
    await g.until(() => g.coverage(live).length === P);
    const takeoverMs = Date.now() - t0;
    console.log(`    partitions ${lost.join(',')} taken over ${takeoverMs} ms after their owner stopped renewing (lease 1500 ms)`);
    assert.equal(g.coverage(live), [0, 1, 2, 3, 4, 5]);
    assert.equal(g.overlaps, []);
    // The stale owner wakes up: its renewals are refused and it drops everything it thought it held.
    const taker = live.find((w) => w.owned.has(staleLease.partition))!;
    assert.ok(taker.lease(staleLease.partition)!.revision > staleLease.revision, 'the new lease has a newer fencing token');
    g.active.add(dead);
    await dead.tick();
    // Its stale leases were refused; anything it holds now it claimed afresh, on a newer revision.
    for (const p of lost) {
      const l = dead.lease(p);
      assert.ok(l === null || l.revision > staleLease.revision, `partition ${p} not kept on a stale lease`);
    }
    assert.equal(g.overlaps, []);
  } finally {
    await Promise.all(g.workers.map((w) => w.stop()));
  }
});

test('a joining worker gets its share and the others release it', async ({ nc }) => {
  const g = group(await doorOf(nc), 3);
  try {
    await g.workers[0]!.start();
    await g.until(() => g.workers[0]!.owned.size === P);
    await g.workers[1]!.start();
    await g.workers[2]!.start();
    await g.until(() => g.workers.every((w) => w.owned.size === 2));
    assert.equal(g.coverage(g.workers), [0, 1, 2, 3, 4, 5]);
    assert.equal(g.overlaps, []);
  } finally {
    await Promise.all(g.workers.map((w) => w.stop()));
  }
});

test('partitionOf is stable, in range and spreads tenants', () => {
  const counts = new Array(8).fill(0);
  for (let i = 0; i < 800; i++) counts[partitionOf(`tenant-${i}`, 8)]++;
  for (const c of counts) assert.ok(c > 50 && c < 150, `uneven spread ${counts}`);
  assert.is(partitionOf('acme', 8), partitionOf('acme', 8));
});

test.run();

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { once } from 'node:events';
import { loadConfig } from '../../src/config/mod.ts';
import { SEALER_BUCKET, SealerGroup, sealerConsumerName } from '../../src/ledger/group.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { EVENT_PARTITIONS, EVENTS_STREAM, partitionFilter, partitionOf } from '../../src/log/mod.ts';
import { freshTenant, ledgerFixture, quiet, type LedgerFixture } from './fixture.ts';

/**
 * A sealer worker reads EVENTS through one consumer, whatever number of partitions it holds, and
 * keeps each partition's place in KV; an install that sealed with one consumer per partition goes on
 * from where each of those was.
 */
const test = suite<{ f: LedgerFixture }>('sealer: one consumer per worker');
test.before(async (ctx) => {
  ctx.f = await ledgerFixture();
});
test.after(async (ctx) => {
  await ctx.f?.close();
});

async function full(g: SealerGroup): Promise<void> {
  while (g.partitions.length < EVENT_PARTITIONS) await once(g, 'partitions');
}

test('an install sealed with one consumer per partition goes on from each one’s place, through one consumer, and the old ones are gone', async ({ f }) => {
  const ledger = { ...loadConfig({ data: f.dir }, {}).ledger, keyDir: f.keyDir, blockMaxEntries: 10, blockMaxMs: 50 };
  const keyring = await f.keyring();
  const tenants = Array.from({ length: 6 }, () => freshTenant());
  const partitions = [...new Set(tenants.map((t) => partitionOf(t)))];
  // Before: one sealer per partition, each on its own filtered consumer (the former layout).
  let last = 0;
  for (const t of tenants) last = await f.append(t, 3);
  const old = await Promise.all(
    partitions.map((p) => f.sealer({ consumerName: sealerConsumerName(p), filter: partitionFilter(p), blockMaxEntries: 10, blockMaxMs: 50 })),
  );
  // A partition's sealer sees only its partition: it is done at its partition's newest record.
  await Promise.all(old.map(async (s, i) => s.waitSealed((await f.streams.last(EVENTS_STREAM, partitionFilter(partitions[i]!)))!.seq)));
  for (const s of old) await s.close();
  for (const t of tenants) last = await f.append(t, 2);

  const g = await SealerGroup.start({ streams: f.streams, keyring, logger: quiet, ledger, workerId: 'one-consumer' });
  try {
    await full(g);
    await g.waitSealed(last);
    const names = (await f.streams.consumers(EVENTS_STREAM)).map((c) => c.name).filter((n) => n.startsWith('stk-sealer'));
    assert.equal(names, ['stk-sealer-p0'], 'one consumer (named after the lowest partition held), the per-partition ones deleted');
    const only = (await f.streams.consumers(EVENTS_STREAM)).find((c) => c.name === 'stk-sealer-p0')!;
    assert.match(only.description, /^stk-sealer-worker one-consumer /);
    const r = await verifyLedger({ streams: f.streams, tenants });
    assert.ok(r.ok, JSON.stringify(r.tenants.filter((t) => !t.ok)));
    for (const t of r.tenants) assert.is(t.entries, 5, `${t.tenant}: every record sealed exactly once`);
    // Every partition's place is kept in KV, at or past its newest sealed record.
    const kv = await f.streams.bucket(SEALER_BUCKET);
    for (const p of partitions) {
      const newest = (await f.streams.last(EVENTS_STREAM, partitionFilter(p)))!.seq;
      const deadline = Date.now() + 10_000;
      let floor = 0;
      while (Date.now() < deadline) {
        floor = Number((await kv.get(`floor.p${p}`))?.string());
        if (floor >= newest) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(floor >= newest, `partition ${p}: floor ${floor} ≥ ${newest}`);
    }
  } finally {
    await g.close();
  }
});

test.run();

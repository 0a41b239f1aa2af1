import { doorOf } from '../helpers/nats.ts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { once } from 'node:events';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { loadConfig } from '../../src/config/mod.ts';
import { SealerGroup } from '../../src/ledger/group.ts';
import { EVENT_PARTITIONS, partitionOf } from '../../src/log/mod.ts';
import { freshTenant, ledgerFixture, quiet, type LedgerFixture } from '../ledger/fixture.ts';

const test = suite<{ f: LedgerFixture }>('sealing split by partition leases');
test.before(async (ctx) => {
  ctx.f = await ledgerFixture();
});
test.after(async (ctx) => {
  await ctx.f?.close();
});

/** Waits for a partition change of any of `groups` until `cond` holds. */
async function until(groups: SealerGroup[], cond: () => boolean): Promise<void> {
  while (!cond()) {
    const ac = new AbortController();
    await Promise.race(groups.map((g) => once(g, 'partitions', { signal: ac.signal }).catch(() => {})));
    ac.abort();
  }
}

test('two workers split the partitions; when one dies the other takes over and every chain verifies', async ({ f }) => {
  const ledger = { ...loadConfig({ data: f.dir }, {}).ledger, keyDir: f.keyDir, blockMaxEntries: 10, blockMaxMs: 50 };
  const keyring = await f.keyring();
  const group = (workerId: string) => SealerGroup.start({ streams: f.streams, keyring, logger: quiet, ledger, workerId, leaseMs: 1500 });
  const a = await group('worker-a');
  const b = await group('worker-b');
  try {
    await until([a, b], () => a.partitions.length + b.partitions.length === EVENT_PARTITIONS && a.partitions.length > 0 && b.partitions.length > 0);
    assert.equal(
      [...a.partitions, ...b.partitions].sort((x, y) => x - y),
      Array.from({ length: EVENT_PARTITIONS }, (_, i) => i),
    );

    // Tenants on both workers' partitions.
    const tenants = Array.from({ length: 12 }, () => freshTenant());
    assert.ok(tenants.some((t) => a.partitions.includes(partitionOf(t))) && tenants.some((t) => b.partitions.includes(partitionOf(t))));
    let last = 0;
    for (const t of tenants) last = await f.append(t, 6);
    await Promise.all([a.waitSealed(last), b.waitSealed(last)]);
    const sealedBy = (g: SealerGroup) => new Set(g.chains().map((c) => c.tenant));
    for (const t of tenants) assert.ok(sealedBy(a).has(t) !== sealedBy(b).has(t), `${t} sealed by exactly one worker`);

    // Worker b is killed: nothing handed over, its leases lapse.
    const orphaned = b.partitions;
    await b.halt();
    for (const t of tenants) last = await f.append(t, 4);
    await until([a], () => a.partitions.length === EVENT_PARTITIONS);
    assert.ok(orphaned.every((p) => a.partitions.includes(p)));
    await a.waitSealed(last);

    const r = await verifyLedger({ streams: await doorOf(f.nc), tenants });
    assert.ok(
      r.ok,
      JSON.stringify(
        r.tenants.filter((t) => !t.ok),
        null,
        2,
      ),
    );
    for (const t of r.tenants) assert.is(t.entries, 10, `${t.tenant}: every record sealed once`);
  } finally {
    await a.close();
    await b.close();
  }
});

test.run();

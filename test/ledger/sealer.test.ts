import { doorOf } from '../helpers/nats.ts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { freshTenant, ledgerFixture, type LedgerFixture } from './fixture.ts';

const test = suite<{ f: LedgerFixture }>('ledger sealer');
test.before(async (ctx) => {
  ctx.f = await ledgerFixture();
});
test.after(async (ctx) => {
  await ctx.f?.close();
});

test('seals every record of every tenant into signed blocks that verify', async ({ f }) => {
  const a = freshTenant();
  const b = freshTenant();
  const sealer = await f.sealer();
  try {
    await f.append(a, 25);
    const last = await f.append(b, 7);
    await sealer.waitSealed(last);
    const ca = sealer.chain(a)!;
    assert.is(ca.height, 25);
    assert.is(ca.blocks >= 3, true, 'at most 10 entries per block');
    assert.is(sealer.chain(b)!.height, 7);
    const r = await verifyLedger({ streams: await doorOf(f.nc), tenants: [a, b] });
    assert.ok(r.ok, JSON.stringify(r, null, 2));
    assert.equal(
      r.tenants.map((t) => [t.tenant, t.entries, t.height, t.head]),
      [
        [a, 25, 25, ca.head],
        [b, 7, 7, sealer.chain(b)!.head],
      ],
    );
    assert.equal(r.tenants[0]!.keyIds, [sealer.keyId]);
  } finally {
    await sealer.close();
  }
});

test('resumes after a stop with no gap and no duplicate, also when its consumer is lost', async ({ f }) => {
  const t = freshTenant();
  const first = await f.sealer({ consumerName: 'resume-a' });
  await first.waitSealed(await f.append(t, 12));
  await first.close();
  // Records appended while no sealer runs are sealed by the next one.
  const last = await f.append(t, 5);
  const second = await f.sealer({ consumerName: 'resume-a' });
  await second.waitSealed(last);
  assert.is(second.chain(t)!.height, 17);
  await second.close();
  // A sealer whose consumer starts from the very beginning re-reads everything: the chain read
  // back from LEDGER makes it skip what is sealed instead of sealing it twice.
  const more = await f.append(t, 2);
  const third = await f.sealer({ consumerName: 'resume-fresh' });
  try {
    await third.waitSealed(more);
    assert.is(third.chain(t)!.height, 19);
    const r = await verifyLedger({ streams: await doorOf(f.nc), tenants: [t] });
    assert.ok(r.ok, JSON.stringify(r.tenants[0]?.break));
    assert.is(r.tenants[0]!.entries, 19);
  } finally {
    await third.close();
  }
});

test('N = 1: one signed block per record', async ({ f }) => {
  const t = freshTenant();
  const sealer = await f.sealer({ blockMaxEntries: 1, consumerName: 'one-per-block' });
  try {
    await sealer.waitSealed(await f.append(t, 5));
    const c = sealer.chain(t)!;
    assert.equal([c.height, c.blocks], [5, 5]);
    const r = await verifyLedger({ streams: await doorOf(f.nc), tenants: [t] });
    assert.ok(r.ok);
    assert.equal([r.tenants[0]!.entries, r.tenants[0]!.blocks], [5, 5]);
  } finally {
    await sealer.close();
  }
});

test.run();

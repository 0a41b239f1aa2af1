import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LEDGER_STREAM, ledgerSubject } from '../../src/ledger/format.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { freshTenant, ledgerFixture, type LedgerFixture } from './fixture.ts';

/**
 * A sealer reading a backlog (every record already older than the block wait) fills its blocks
 * from the records on their way: sealing at once on each delivery made a block of each
 * delivery's few records — with pulls bounded in bytes, a block every 25 records or fewer.
 */
const test = suite<{ f: LedgerFixture }>('sealer: a backlog is sealed in full blocks');
test.before(async (ctx) => {
  ctx.f = await ledgerFixture();
});
test.after(async (ctx) => {
  await ctx.f?.close();
});

const RECORDS = 3_000;
const BLOCK_MAX = 500;

test('3,000 records stored before the sealer starts are sealed in blocks of hundreds, every one once', async ({ f }) => {
  const tenant = freshTenant();
  const last = await f.append(tenant, RECORDS);
  const sealer = await f.sealer({ blockMaxEntries: BLOCK_MAX, blockMaxMs: 200 });
  await sealer.waitSealed(last);
  let blocks = 0;
  for await (const _ of f.streams.scan(LEDGER_STREAM, { filter: ledgerSubject(tenant) })) blocks++;
  // 6 at the least (500 a block), 6 on a quiet machine; the wait of 200 ms bounds the rest on a busy
  // one: a sealer that reads even 1,000 records a second fills blocks of 200. Sealing on each
  // delivery made 34 here.
  assert.ok(blocks >= RECORDS / BLOCK_MAX && blocks <= RECORDS / 200, `${blocks} blocks for ${RECORDS} records`);
  const r = await verifyLedger({ streams: f.streams, tenants: [tenant] });
  assert.ok(r.ok, JSON.stringify(r.tenants[0]?.break));
  assert.is(r.tenants[0]!.entries, RECORDS);
});

test.run();

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { operatorApi } from '../../src/api/plugin.ts';
import { Keyring } from '../../src/ledger/keys.ts';
import { registerSealerTelemetry } from '../../src/ledger/role.ts';
import { Sealer } from '../../src/ledger/sealer.ts';
import { apiFixture, type ApiFixture } from '../helpers/api.ts';
import { tempDir } from '../helpers/nats.ts';
import { freshTenant, quiet } from './fixture.ts';

type Ctx = { f: ApiFixture; sealer: Sealer; keys: Awaited<ReturnType<typeof tempDir>> };
const test = suite<Ctx>('ledger API route, /metrics and /healthz');

test.before(async (ctx) => {
  ctx.f = await apiFixture({ plugins: [operatorApi] });
  ctx.keys = await tempDir();
  const rt = ctx.f.stk.runtime;
  ctx.sealer = await Sealer.start({
    streams: rt.streams,
    keyring: await Keyring.open(join(ctx.keys.path, 'k'), { create: true }),
    logger: quiet,
    blockMaxMs: 20,
  });
  registerSealerTelemetry(rt, ctx.sealer);
});
test.after(async (ctx) => {
  await ctx.sealer?.close();
  await ctx.f?.cleanup();
  await ctx.keys?.cleanup();
});

test("GET /tenants/:tenant/ledger: head, height, checkpoint and lag, for the tenant's operators and auditors only", async ({ f, sealer }) => {
  const a = freshTenant();
  const b = freshTenant();
  await f.tenant(a);
  await f.tenant(b);
  const auditorA = await f.token(a, 'auditor');
  const operatorB = await f.token(b, 'operator');
  await sealer.waitSealed(await f.stk.runtime.log.lastPosition());
  await sealer.checkpoint();
  const r = await f.call('GET', `/api/v1/tenants/${a}/ledger`, { token: auditorA });
  assert.is(r.status, 200, JSON.stringify(r.body));
  const chain = sealer.chain(a)!;
  assert.ok(chain.height >= 1);
  assert.is(r.body.tenant, a);
  assert.is(r.body.height, chain.height);
  assert.is(r.body.head, chain.head);
  assert.is(r.body.keyId, sealer.keyId);
  assert.equal(r.body.lastCheckpoint.height, chain.height);
  assert.equal(r.body.lag, { events: 0, seconds: 0 });
  // The tenant wall: another tenant's token gets exactly what a missing tenant gets.
  const other = await f.call('GET', `/api/v1/tenants/${a}/ledger`, { token: operatorB });
  const missing = await f.call('GET', `/api/v1/tenants/no-such-${b}/ledger`, { token: operatorB });
  assert.is(other.status, 404);
  assert.is(other.body.error.code, 'STK_ERR_NOT_FOUND');
  assert.is(missing.status, 404);
  assert.is((await f.call('GET', `/api/v1/tenants/${a}/ledger`, { token: null })).status, 401);
  assert.is((await f.call('GET', `/api/v1/tenants/${a}/ledger?x=1`, { token: auditorA })).status, 400);
});

test('sealing lag and counters are in /metrics and /healthz', async ({ f }) => {
  const metrics = await (await fetch(`${f.url}/metrics`)).text();
  for (const name of ['stockade_ledger_lag_events', 'stockade_ledger_lag_seconds', 'stockade_ledger_sealed_entries_total', 'stockade_ledger_blocks_total']) {
    assert.match(metrics, new RegExp(`^${name} \\d`, 'm'), name);
  }
  const h = (await f.call('GET', '/healthz')).body;
  assert.is(h.checks.sealer.ok, true);
  assert.is(typeof h.checks.sealer.lagEvents, 'number');
  assert.is(typeof h.checks.sealer.lagSeconds, 'number');
});

test.run();

import { doorOf } from '../helpers/nats.ts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exportLedger } from '../../src/ledger/export.ts';
import { freshTenant, ledgerFixture, type LedgerFixture } from './fixture.ts';
import { docScript, runScript } from './script.ts';

type Ctx = { f: LedgerFixture; tenant: string; out: string; script: string };
const test = suite<Ctx>('ledger export + the documented openssl/sha256sum script');

test.before(async (ctx) => {
  ctx.f = await ledgerFixture();
  ctx.tenant = freshTenant();
  const sealer = await ctx.f.sealer({ blockMaxEntries: 4 });
  await sealer.waitSealed(await ctx.f.append(ctx.tenant, 10));
  await sealer.checkpoint();
  await sealer.close();
  ctx.out = join(ctx.f.dir, 'export');
  ctx.script = await docScript(ctx.f.dir);
  const s = await exportLedger({ streams: await doorOf(ctx.f.nc), tenant: ctx.tenant, out: ctx.out });
  assert.equal([s.entries, s.blocks, s.height, s.keys, s.unsealed], [10, 3, 10, 1, 0]);
});
test.after(async (ctx) => {
  await ctx.f?.close();
});

/** A copy of the export to tamper with. */
async function copy(ctx: Ctx, name: string): Promise<string> {
  const dir = join(ctx.f.dir, name);
  await cp(ctx.out, dir, { recursive: true });
  return dir;
}

test('a real export verifies with the script from the docs', async (ctx) => {
  const r = await runScript(ctx.script, [ctx.out]);
  assert.is(r.code, 0, r.out);
  assert.match(r.out, `OK ${ctx.tenant}: 10 entries, 3 blocks`);
  assert.match(r.out, /checkpoint .*: chain extends it at height 10/);
});

test('an edited event fails', async (ctx) => {
  const dir = await copy(ctx, 'edited');
  const f = join(dir, 'events', '0000000003.evt');
  await writeFile(f, (await readFile(f, 'utf8')).replace('"i":2', '"i":7'));
  const r = await runScript(ctx.script, [dir]);
  assert.is(r.code, 1, r.out);
  assert.match(r.out, 'FAIL: block 1: recomputed head at height 4 differs from the signed head');
});

test('a removed event fails', async (ctx) => {
  const dir = await copy(ctx, 'removed');
  await rm(join(dir, 'events', '0000000006.evt'));
  const r = await runScript(ctx.script, [dir]);
  assert.is(r.code, 1, r.out);
  assert.match(r.out, 'FAIL: event at height 6 is missing from the export');
});

test('reordered events fail', async (ctx) => {
  const dir = await copy(ctx, 'reordered');
  const a = join(dir, 'events', '0000000007.evt');
  const b = join(dir, 'events', '0000000008.evt');
  await rename(a, `${a}.x`);
  await rename(b, a);
  await rename(`${a}.x`, b);
  const r = await runScript(ctx.script, [dir]);
  assert.is(r.code, 1, r.out);
  assert.match(r.out, 'FAIL: block 2: recomputed head at height 8 differs');
});

test('a block signature from elsewhere fails', async (ctx) => {
  const dir = await copy(ctx, 'badsig');
  await cp(join(dir, 'blocks', '0000000001.sig'), join(dir, 'blocks', '0000000002.sig'));
  const r = await runScript(ctx.script, [dir]);
  assert.is(r.code, 1, r.out);
  assert.match(r.out, 'FAIL: block 2: bad signature');
});

test('truncated history fails against the checkpoint', async (ctx) => {
  const dir = await copy(ctx, 'truncated');
  await rm(join(dir, 'blocks', '0000000003.msg'));
  await rm(join(dir, 'events', '0000000009.evt'));
  await rm(join(dir, 'events', '0000000010.evt'));
  const r = await runScript(ctx.script, [dir]);
  assert.is(r.code, 1, r.out);
  assert.match(r.out, 'checkpoint at height 10 is beyond the chain (height 8)');
});

test.run();

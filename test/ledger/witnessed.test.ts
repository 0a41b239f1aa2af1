import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { defaultInstallOrigin, tenantOrigin } from '../../src/ledger/checkpoint.ts';
import { type Keyring, rawPublicKey } from '../../src/ledger/keys.ts';
import { LedgerTrees } from '../../src/ledger/trees.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { WitnessPusher } from '../../src/ledger/witnesses.ts';
import { SIG_TYPE_COSIGNATURE_V1, SIG_TYPE_ED25519, encodeBase64, formatVerifierKey, generateSignerKey, verifierKeyOf } from '../../src/transparency/mod.ts';
import { Witness, buildWitnessApp, originHash } from '../../src/witness/mod.ts';
import { doorOf, tempDir } from '../helpers/nats.ts';
import { runCli, type CliProcess } from '../helpers/proc.ts';
import { freshTenant, ledgerFixture, quiet, type LedgerFixture } from './fixture.ts';

/**
 * The sealer sends each tenant checkpoint to tlog-witnesses — one in this process, one a real
 * `stockade witness serve` configured once for every tenant of the install (`--ledger`) — with a
 * consistency proof from what each last cosigned, stores the cosigned note in LEDGER, and verify
 * can require a quorum of those cosignatures.
 */
type Ctx = {
  f: LedgerFixture;
  dir: Awaited<ReturnType<typeof tempDir>>;
  keyring: Keyring;
  origin: string;
  inner: { witness: Witness; app: FastifyInstance; url: string; vkey: string };
  outer: { proc: CliProcess; url: string; vkey: string };
  absent: string;
};
const test = suite<Ctx>('ledger checkpoints cosigned by C2SP tlog-witnesses');

test.before(async (ctx) => {
  ctx.f = await ledgerFixture();
  ctx.dir = await tempDir('stk-witnessed-');
  ctx.keyring = await ctx.f.keyring();
  ctx.origin = defaultInstallOrigin(ctx.keyring.records[0]!.keyId);
  const ledger = { installOrigin: ctx.origin, publicKey: rawPublicKey(ctx.keyring.publicKey(ctx.keyring.keyId)!) };
  const key = generateSignerKey('witness.test/inner', SIG_TYPE_COSIGNATURE_V1);
  const witness = await Witness.open({ stateDir: join(ctx.dir.path, 'inner'), key, logs: [], ledgers: [ledger], logger: quiet });
  const app = await buildWitnessApp({ witness, logger: quiet });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  ctx.inner = { witness, app, url, vkey: formatVerifierKey(verifierKeyOf(key)) };
  const spec = `${ctx.origin}+${encodeBase64(Uint8Array.of(SIG_TYPE_ED25519, ...ledger.publicKey))}`;
  const proc = runCli([
    'witness',
    'serve',
    '--listen',
    '127.0.0.1:0',
    '--state',
    join(ctx.dir.path, 'outer'),
    '--key',
    join(ctx.dir.path, 'outer.key'),
    '--name',
    'witness.test/outer',
    '--ledger',
    spec,
  ]);
  const listening = await proc.waitFor(/^witness listening on /);
  ctx.outer = { proc, url: listening.replace('witness listening on ', ''), vkey: (await proc.waitFor(/^witness vkey /)).replace('witness vkey ', '') };
  ctx.absent = formatVerifierKey(verifierKeyOf(generateSignerKey('witness.test/absent', SIG_TYPE_COSIGNATURE_V1)));
});
test.after(async (ctx) => {
  await ctx.outer?.proc.kill();
  await ctx.inner?.app.close();
  ctx.inner?.witness.close();
  await ctx.f?.close();
  await ctx.dir?.cleanup();
});

function pusher(ctx: Ctx): { pusher: WitnessPusher; trees: LedgerTrees } {
  const trees = new LedgerTrees({ streams: ctx.f.streams, dir: null });
  return { trees, pusher: new WitnessPusher({ urls: [ctx.inner.url, ctx.outer.url], trees, logger: quiet }) };
}

test('each checkpoint carries both cosignatures; verify requires them; a third, absent witness fails the quorum', async (ctx) => {
  const t = freshTenant('wit');
  const w = pusher(ctx);
  const sealer = await ctx.f.sealer({ keyring: ctx.keyring, witnesses: w.pusher, consumerName: 'wit-1' });
  try {
    await sealer.waitSealed(await ctx.f.append(t, 5));
    const [cp] = await sealer.checkpoint();
    assert.is(cp!.note.split('\n— ').length - 1, 3, cp!.note); // the log's signature and two cosignatures
    await sealer.waitSealed(await ctx.f.append(t, 4));
    const [cp2] = await sealer.checkpoint();
    assert.is(cp2!.size, 9);
  } finally {
    await sealer.close();
    w.trees.close();
  }
  const streams = await doorOf(ctx.f.nc);
  const both = await verifyLedger({ streams, tenants: [t], witnesses: { keys: [ctx.inner.vkey, ctx.outer.vkey], quorum: 2 } });
  assert.ok(both.ok, JSON.stringify(both.tenants[0]));
  assert.is(both.tenants[0]!.checkpoint?.cosignatures, 2);
  const three = await verifyLedger({ streams, tenants: [t], witnesses: { keys: [ctx.inner.vkey, ctx.outer.vkey, ctx.absent], quorum: 3 } });
  assert.is(three.tenants[0]!.break?.kind, 'witness_quorum');
  assert.match(three.tenants[0]!.break!.message, 'carries 2 of the 3 witness cosignatures required');
  // The witnesses hold the tenant's log at its newest size.
  const held = ctx.inner.witness.latestCheckpoint(originHash(tenantOrigin(ctx.origin, t)));
  assert.match(held ?? '', `${tenantOrigin(ctx.origin, t)}\n9\n`);
  const v = runCli([
    'ledger',
    'verify',
    '--tenant',
    t,
    '--witness',
    ctx.inner.vkey,
    '--witness',
    ctx.outer.vkey,
    '--witness-quorum',
    '2',
    '--nats-url',
    ctx.f.nats.url,
  ]);
  assert.is(await v.exited, 0, v.lines.join('\n'));
  assert.ok(
    v.lines.some((l) => l.includes('checkpoint size 9 (2 cosignature(s))')),
    v.lines.join('\n'),
  );
});

test('a new sealer that knows nothing of the witnesses learns their sizes from their 409 and proves consistency from there', async (ctx) => {
  const t = freshTenant('wit409');
  const first = pusher(ctx);
  const a = await ctx.f.sealer({ keyring: ctx.keyring, witnesses: first.pusher, consumerName: 'wit-2' });
  try {
    await a.waitSealed(await ctx.f.append(t, 6));
    await a.checkpoint();
  } finally {
    await a.close();
    first.trees.close();
  }
  // Another sealer process (a restart, a partition moved): its pusher starts from size 0.
  const second = pusher(ctx);
  const b = await ctx.f.sealer({ keyring: ctx.keyring, witnesses: second.pusher, consumerName: 'wit-2' });
  try {
    await b.waitSealed(await ctx.f.append(t, 5));
    const [cp] = await b.checkpoint();
    assert.is(cp!.size, 11);
    assert.is(cp!.note.split('\n— ').length - 1, 3, cp!.note);
  } finally {
    await b.close();
    second.trees.close();
  }
  const v = await verifyLedger({ streams: await doorOf(ctx.f.nc), tenants: [t], witnesses: { keys: [ctx.inner.vkey, ctx.outer.vkey], quorum: 2 } });
  assert.ok(v.ok, JSON.stringify(v.tenants[0]));
});

test.run();

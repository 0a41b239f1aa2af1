import { doorOf } from '../helpers/nats.ts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { cp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { EVENTS_STREAM } from '../../src/log/mod.ts';
import { exportLedger, type ExportManifest } from '../../src/ledger/export.ts';
import { keyIdOf, publicKeyPem, signText } from '../../src/ledger/keys.ts';
import { rejects } from '../helpers/assert.ts';
import { freshTenant, ledgerFixture, type LedgerFixture } from './fixture.ts';
import { docScript, runScript } from './script.ts';

type Ctx = { f: LedgerFixture; tenant: string; out: string; script: string };
const test = suite<Ctx>('ledger export + the documented openssl/sha256sum script, tried as a forger would');

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
  assert.equal([s.entries, s.blocks, s.height, s.keys, s.unsealed, s.ok, s.checkpoint?.size], [10, 3, 10, 1, 0, true, 10]);
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

async function fails(ctx: Ctx, dir: string, expected: string, args: string[] = []): Promise<void> {
  const r = await runScript(ctx.script, [dir, ...args]);
  assert.is(r.code, 1, r.out);
  assert.ok(r.out.includes('FAIL: ') && r.out.includes(expected), r.out);
}

const lines = async (path: string): Promise<string[]> => (await readFile(path, 'utf8')).split('\n');

/** Re-signs every block's text of `dir` with `key`, after `edit` changed the text. */
async function resign(dir: string, key: KeyObject, edit: (text: string) => string): Promise<void> {
  for (const f of (await readdir(join(dir, 'blocks'))).filter((n) => n.endsWith('.msg'))) {
    const path = join(dir, 'blocks', f);
    const text = edit(await readFile(path, 'utf8'));
    await writeFile(path, text);
    await writeFile(path.replace(/\.msg$/, '.sig'), Buffer.from(signText(key, text), 'base64'));
  }
}

test('a real export verifies with the script from the docs: chain, blocks, tree roots, checkpoint', async (ctx) => {
  const r = await runScript(ctx.script, [ctx.out]);
  assert.is(r.code, 0, r.out);
  const m = JSON.parse(await readFile(join(ctx.out, 'manifest.json'), 'utf8')) as ExportManifest;
  assert.match(r.out, `OK ${ctx.tenant}: 10 entries, 3 blocks, head ${m.head}, root ${m.root}`);
  assert.match(r.out, /checkpoint \(export\) .*: size 10, signed by [0-9a-f]{16}; the chain extends it/);
});

test('an edited event fails', async (ctx) => {
  const dir = await copy(ctx, 'edited');
  const f = join(dir, 'events', '0000000003.evt');
  await writeFile(f, (await readFile(f, 'utf8')).replace('"i":2', '"i":7'));
  await fails(ctx, dir, "event at height 3 does not hash to its entry's event hash");
});

test('a removed event fails', async (ctx) => {
  const dir = await copy(ctx, 'removed');
  await rm(join(dir, 'events', '0000000006.evt'));
  await fails(ctx, dir, 'events/ holds 9 files for 10 entries');
});

test('reordered events fail', async (ctx) => {
  const dir = await copy(ctx, 'reordered');
  const a = join(dir, 'events', '0000000007.evt');
  const b = join(dir, 'events', '0000000008.evt');
  await rename(a, `${a}.x`);
  await rename(b, a);
  await rename(`${a}.x`, b);
  await fails(ctx, dir, "event at height 7 does not hash to its entry's event hash");
});

test('a block signature from elsewhere fails', async (ctx) => {
  const dir = await copy(ctx, 'badsig');
  await cp(join(dir, 'blocks', '0000000001.sig'), join(dir, 'blocks', '0000000002.sig'));
  await fails(ctx, dir, 'block 2 .json: sig is not the signature in its .sig file');
  // With the .json's signature changed to match, the signature itself is what fails.
  const json = join(dir, 'blocks', '0000000002.json');
  const sig1 = JSON.parse(await readFile(join(dir, 'blocks', '0000000001.json'), 'utf8')).sig as string;
  await writeFile(json, (await readFile(json, 'utf8')).replace(/"sig":"[^"]*"/, `"sig":"${sig1}"`));
  await fails(ctx, dir, 'block 2: bad signature');
});

test('truncated history fails against the checkpoint', async (ctx) => {
  const dir = await copy(ctx, 'truncated');
  // The last block and everything it seals go, the chain list cut to match.
  const kept = Number((await lines(join(dir, 'blocks', '0000000003.msg')))[3]) - 1;
  for (const ext of ['msg', 'sig', 'json']) await rm(join(dir, 'blocks', `0000000003.${ext}`));
  for (let h = kept + 1; h <= 10; h++) await rm(join(dir, 'events', `${String(h).padStart(10, '0')}.evt`));
  await writeFile(join(dir, 'chain.txt'), `${(await lines(join(dir, 'chain.txt'))).slice(0, kept).join('\n')}\n`);
  await fails(ctx, dir, `its size 10 is beyond the chain (height ${kept}): history was truncated`);
});

test("re-signed with a forger's key named by a pattern (`.*`, or the real id with its last character a `.`): unknown key", async (ctx) => {
  const evil = generateKeyPairSync('ed25519').privateKey;
  const kid = (await lines(join(ctx.out, 'keys', '0001.msg')))[1]!;
  for (const [name, pattern] of [
    ['pattern-all', '.*'],
    ['pattern-dot', `${kid.slice(0, -1)}.`],
  ] as const) {
    const dir = await copy(ctx, name);
    await writeFile(join(dir, 'keys', `${pattern}.pem`), publicKeyPem(evil));
    await resign(dir, evil, (t) => t.replace(`\n${kid}\n`, `\n${pattern}\n`));
    await fails(ctx, dir, `block 1: signed by unknown key ${pattern}`);
  }
});

test("the forger's key put in place of the key file: its id is recomputed, and refused", async (ctx) => {
  const evil = generateKeyPairSync('ed25519').privateKey;
  const dir = await copy(ctx, 'swapped-key');
  await writeFile(join(dir, 'keys', '0001.pem'), publicKeyPem(evil));
  await resign(dir, evil, (t) => t);
  const kid = (await lines(join(ctx.out, 'keys', '0001.msg')))[1]!;
  await fails(ctx, dir, `key record 1: ${dir}/keys/0001.pem is not key ${kid}`);
  // A whole new key chain of the forger's is what it is: a first key other than the one you know.
  assert.is.not(keyIdOf(evil), kid);
});

test("the unsigned fields of each block's .json and of chain.txt are checked: sequence, event id", async (ctx) => {
  const seq = join(ctx.f.dir, 'json-seq');
  await cp(ctx.out, seq, { recursive: true });
  const j1 = join(seq, 'blocks', '0000000001.json');
  const block = JSON.parse(await readFile(j1, 'utf8')) as { entries: Array<[number, string, string]> };
  const [s2, id2] = block.entries[1]!;
  await writeFile(j1, (await readFile(j1, 'utf8')).replace(`[${s2},"${id2}"`, `[${s2 + 1000},"${id2}"`));
  await fails(ctx, seq, 'block 1 .json: entry at height 2 is not');

  const id = await copy(ctx, 'json-id');
  const j = join(id, 'blocks', '0000000001.json');
  await writeFile(j, (await readFile(j, 'utf8')).replace(`"${id2}"`, '"someone-else"'));
  await fails(ctx, id, 'block 1 .json: entry at height 2 is not');

  // chain.txt and the .json edited alike: the event id is checked against the record itself.
  const both = await copy(ctx, 'both-id');
  const jb = join(both, 'blocks', '0000000001.json');
  await writeFile(jb, (await readFile(jb, 'utf8')).replace(`"${id2}"`, '"someone-else"'));
  const chain = join(both, 'chain.txt');
  await writeFile(chain, (await readFile(chain, 'utf8')).replace(` ${id2} `, ' someone-else '));
  await fails(ctx, both, `chain.txt names event someone-else at height 2, but its record starts with event ${id2}`);

  // The last sequence of a block is signed: chain.txt cannot move it (nor any other, out of order).
  const last = await copy(ctx, 'last-seq');
  const c = join(last, 'chain.txt');
  const l = (await lines(c))[9]!.split(' ');
  await writeFile(c, (await readFile(c, 'utf8')).replace(l.join(' '), [l[0], Number(l[1]) + 1000, ...l.slice(2)].join(' ')));
  await fails(ctx, last, 'block 3: it signs last record');
});

test('an event duplicated and sealed live: the export fails, writes the break, and the script refuses it', async (ctx) => {
  const f = ctx.f;
  const tenant = freshTenant('dup');
  const sealer = await f.sealer({ blockMaxEntries: 4, consumerName: 'dup-sealer' });
  try {
    const seqs: number[] = [];
    for (let i = 0; i < 3; i++) seqs.push(await f.append(tenant, 1));
    await sealer.waitSealed(seqs[2]!);
    const m = (await (await jetstreamManager(f.nc)).streams.getMessage(EVENTS_STREAM, { seq: seqs[1]! }))!;
    const h = natsHeaders();
    h.set('Stk-Version', m.header.get('Stk-Version'));
    await sealer.waitSealed((await jetstream(f.nc).publish(m.subject, m.data, { headers: h })).seq);
  } finally {
    await sealer.close();
  }
  const out = join(f.dir, 'dup-export');
  const err = await rejects(exportLedger({ streams: await doorOf(f.nc), tenant, out }), 'STK_ERR_LEDGER_BROKEN');
  assert.is(err.data.kind, 'entry_duplicated');
  const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as ExportManifest;
  assert.equal([manifest.ok, manifest.break?.kind, manifest.height], [false, 'entry_duplicated', 4]);
  await fails(ctx, out, 'chain.txt line 4: event');
  assert.match((await runScript(ctx.script, [out])).out, 'is sealed twice, at heights 2 and 4');
});

test('an export of a chain whose record was removed exits non-zero, naming the missing height in the manifest', async (ctx) => {
  const f = ctx.f;
  const tenant = freshTenant('gone');
  const sealer = await f.sealer({ blockMaxEntries: 4, consumerName: 'gone-sealer' });
  const seqs: number[] = [];
  try {
    for (let i = 0; i < 5; i++) seqs.push(await f.append(tenant, 1));
    await sealer.waitSealed(seqs[4]!);
  } finally {
    await sealer.close();
  }
  await (await jetstreamManager(f.nc)).streams.deleteMessage(EVENTS_STREAM, seqs[2]!);
  const out = join(f.dir, 'gone-export');
  await rejects(exportLedger({ streams: await doorOf(f.nc), tenant, out }), 'STK_ERR_LEDGER_BROKEN');
  const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as ExportManifest;
  assert.equal([manifest.missing, manifest.entries, manifest.break?.kind, manifest.break?.height], [[3], 4, 'event_removed', 3]);
  await fails(ctx, out, 'events/ holds 4 files for 5 entries');
});

test.run();

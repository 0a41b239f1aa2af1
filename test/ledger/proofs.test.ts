import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { operatorApi } from '../../src/api/plugin.ts';
import { newId } from '../../src/ids.ts';
import { Keyring } from '../../src/ledger/keys.ts';
import { checkConsistency, checkInclusion, writeProofFolder } from '../../src/ledger/proofcheck.ts';
import { Sealer } from '../../src/ledger/sealer.ts';
import { LedgerTrees, type InclusionProof } from '../../src/ledger/trees.ts';
import { apiFixture, type ApiFixture } from '../helpers/api.ts';
import { tempDir } from '../helpers/nats.ts';
import { runCli } from '../helpers/proc.ts';
import { freshTenant, quiet } from './fixture.ts';
import { docBlock, runScript } from './script.ts';

/**
 * Proofs for one event: inclusion proofs of any entry against any signed tree head, consistency
 * proofs between tree heads, from the API, the CLI and the library alike, each checked offline
 * (by our checker and by the documented shell script) and refused once anything in them changes.
 */
type Ctx = { f: ApiFixture; sealer: Sealer; keys: Awaited<ReturnType<typeof tempDir>>; keyring: Keyring; tenant: string; ids: string[]; trees: LedgerTrees };
const test = suite<Ctx>('ledger proofs: inclusion and consistency, served and checked offline');

test.before(async (ctx) => {
  ctx.f = await apiFixture({ plugins: [operatorApi] });
  ctx.keys = await tempDir();
  const rt = ctx.f.stk.runtime;
  ctx.keyring = await Keyring.open(join(ctx.keys.path, 'k'), { create: true });
  ctx.sealer = await Sealer.start({ streams: rt.streams, keyring: ctx.keyring, logger: quiet, blockMaxEntries: 3, blockMaxMs: 20 });
  ctx.tenant = freshTenant('proof');
  await ctx.f.tenant(ctx.tenant);
  ctx.ids = [];
  for (let i = 0; i < 11; i++) {
    const r = await rt.log.appendOrThrow({ tenant: ctx.tenant, aggregateType: 'alert', aggregateId: newId() }, [{ type: 'alert.raised', data: { i } }], {
      expectedVersion: 'no_stream',
    });
    ctx.ids.push(r.events[0]!.id);
  }
  // A commit of two events: the second is proven through its record's entry.
  const two = await rt.log.appendOrThrow(
    { tenant: ctx.tenant, aggregateType: 'alert', aggregateId: newId() },
    [
      { type: 'alert.raised', data: { first: true } },
      { type: 'alert.acknowledged', data: {} },
    ],
    { expectedVersion: 'no_stream' },
  );
  ctx.ids.push(two.events[1]!.id);
  await ctx.sealer.waitSealed(two.position);
  ctx.trees = new LedgerTrees({ streams: rt.streams, dir: join(ctx.keys.path, 'trees') });
});
test.after(async (ctx) => {
  ctx.trees?.close();
  await ctx.sealer?.close();
  await ctx.f?.cleanup();
  await ctx.keys?.cleanup();
});

const trust = (ctx: Ctx) => ({ keys: [ctx.keyring.publicKey(ctx.keyring.keyId)!] });

test('every event has an inclusion proof against the newest block, checked offline; the second event of a commit too', async (ctx) => {
  for (const id of ctx.ids) {
    const r = await ctx.trees.inclusion(ctx.tenant, id);
    if (r.kind !== 'proof') throw new Error(`${id}: ${r.kind}`);
    const c = checkInclusion(r.proof, trust(ctx));
    assert.ok(c.ok, `${id}: ${JSON.stringify(c)}`);
    assert.is(r.proof.treeSize, 13); // the tenant's creation, 11 alerts, the commit of two
    assert.ok(r.proof.record, 'the record comes with the proof');
  }
  assert.is((await ctx.trees.inclusion(ctx.tenant, 'no-such-event')).kind, 'unknown');
});

test('a proof against every earlier tree head that covers it, and consistency between every pair of tree heads', async (ctx) => {
  const status = (await ctx.f.call('GET', `/api/v1/tenants/${ctx.tenant}/ledger`)).body as { height: number };
  const ends: number[] = [];
  for (let s = 1; s <= status.height; s++) {
    const c = await ctx.trees.consistency(ctx.tenant, s, s);
    if (c.to.block) ends.push(s);
  }
  assert.ok(ends.length >= 4, `block ends ${ends}`);
  const first = await ctx.trees.inclusion(ctx.tenant, ctx.ids[0]!);
  if (first.kind !== 'proof') throw new Error(first.kind);
  for (const size of ends.filter((s) => s >= first.proof.entry.height)) {
    const r = await ctx.trees.inclusion(ctx.tenant, ctx.ids[0]!, { size });
    if (r.kind !== 'proof') throw new Error(r.kind);
    assert.ok(checkInclusion(r.proof, trust(ctx)).ok, `size ${size}`);
  }
  for (const a of ends)
    for (const b of ends.filter((x) => x >= a)) {
      const c = await ctx.trees.consistency(ctx.tenant, a, b);
      const checked = checkConsistency(c, trust(ctx));
      assert.ok(checked.ok, `${a}→${b}: ${JSON.stringify(checked)}`);
    }
});

test('a proof that was changed anywhere is refused: path, root, entry, record, signature, or an untrusted key', async (ctx) => {
  const r = await ctx.trees.inclusion(ctx.tenant, ctx.ids[4]!);
  if (r.kind !== 'proof') throw new Error(r.kind);
  const p = r.proof;
  const flip = (h: string) => (h[0] === '0' ? '1' : '0') + h.slice(1);
  const cases: Array<[string, InclusionProof, string]> = [
    ['path', { ...p, auditPath: [flip(p.auditPath[0]!), ...p.auditPath.slice(1)] }, 'does not lead to root'],
    ['short path', { ...p, auditPath: p.auditPath.slice(1) }, 'does not lead to root'],
    ['root', { ...p, rootHash: flip(p.rootHash), treeHead: { ...p.treeHead, rootHash: flip(p.rootHash) } }, 'does not lead to root'],
    ['entry', { ...p, entry: { ...p.entry, prevHead: flip(p.entry.prevHead) } }, 'entry hash'],
    ['record', { ...p, record: { ...p.record!, body: Buffer.from('{"format":1,"events":[]}').toString('base64') } }, "record's event hash"],
    [
      'signature',
      {
        ...p,
        treeHead: { ...p.treeHead, block: { ...p.treeHead.block!, signature: p.treeHead.block!.signature.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) } },
      },
      'signature does not verify',
    ],
  ];
  for (const [what, bad, why] of cases) {
    const c = checkInclusion(bad, trust(ctx));
    assert.is(c.ok, false, what);
    assert.match((c as { problem: string }).problem, why, what);
  }
  const stranger = await Keyring.open(join(ctx.keys.path, 'stranger'), { create: true });
  const c = checkInclusion(p, { keys: [stranger.publicKey(stranger.keyId)!] });
  assert.is(c.ok, false);
  assert.match((c as { problem: string }).problem, 'not one you trust');
});

test('GET …/ledger/proof and …/ledger/consistency serve the same proofs; unknown 404, unsealed 409, bad sizes 400', async (ctx) => {
  const auditor = await ctx.f.token(ctx.tenant, 'auditor');
  const r = await ctx.f.call('GET', `/api/v1/tenants/${ctx.tenant}/ledger/proof?event=${ctx.ids[7]}`, { token: auditor });
  assert.is(r.status, 200, JSON.stringify(r.body));
  assert.ok(checkInclusion(r.body as InclusionProof, trust(ctx)).ok);
  // From the end of the first block: a tree head someone can hold a signature of.
  let from = 1;
  while (!(await ctx.trees.consistency(ctx.tenant, from, from)).to.block) from++;
  const c = await ctx.f.call('GET', `/api/v1/tenants/${ctx.tenant}/ledger/consistency?from=${from}`, { token: auditor });
  assert.is(c.status, 200, JSON.stringify(c.body));
  assert.ok(checkConsistency(c.body, trust(ctx)).ok);
  const unknown = await ctx.f.call('GET', `/api/v1/tenants/${ctx.tenant}/ledger/proof?event=${newId()}`, { token: auditor });
  assert.equal([unknown.status, unknown.body.error.code], [404, 'STK_ERR_NOT_FOUND']);
  const big = await ctx.f.call('GET', `/api/v1/tenants/${ctx.tenant}/ledger/consistency?from=1&to=999`, { token: auditor });
  assert.equal([big.status, big.body.error.code], [400, 'STK_ERR_VALIDATION']);
  const bad = await ctx.f.call('GET', `/api/v1/tenants/${ctx.tenant}/ledger/proof?event=a.b`, { token: auditor });
  assert.is(bad.status, 400);

  // A tenant no sealer owns: its event is stored, not sealed.
  const unsealed = freshTenant('unsealed');
  await ctx.f.tenant(unsealed);
  const sealer2 = ctx.sealer; // owns every tenant: stop it to leave the next event unsealed
  await sealer2.close();
  const e = await ctx.f.stk.runtime.log.appendOrThrow(
    { tenant: unsealed, aggregateType: 'alert', aggregateId: newId() },
    [{ type: 'alert.raised', data: {} }],
    {
      expectedVersion: 'no_stream',
    },
  );
  const u = await ctx.f.call('GET', `/api/v1/tenants/${unsealed}/ledger/proof?event=${e.events[0]!.id}`);
  assert.equal([u.status, u.body.error.code], [409, 'STK_ERR_LEDGER_UNSEALED']);
});

test('`stockade ledger prove --out`, `check-proof` and the documented shell script; a changed path fails both', async (ctx) => {
  const r = await ctx.trees.inclusion(ctx.tenant, ctx.ids[5]!);
  if (r.kind !== 'proof') throw new Error(r.kind);
  const dir = join(ctx.keys.path, 'proof');
  const prove = runCli(['ledger', 'prove', '--tenant', ctx.tenant, '--event', ctx.ids[5]!, '--out', dir, '--nats-url', ctx.f.stk.runtime.config.natsUrl[0]!]);
  assert.is(await prove.exited, 0, prove.lines.join('\n'));
  assert.equal(JSON.parse(await readFile(join(dir, 'proof.json'), 'utf8')).entry, r.proof.entry);
  const copy = join(ctx.keys.path, 'proof-lib');
  await writeProofFolder(copy, r.proof, ctx.keyring.records[0]!.publicKey);
  assert.is(await readFile(join(copy, 'path'), 'utf8'), await readFile(join(dir, 'path'), 'utf8'));
  const script = join(ctx.keys.path, 'verify-proof.sh');
  await writeFile(script, await docBlock('verify-proof.sh'), { mode: 0o755 });
  const ok = await runScript(script, [dir, ctx.keyring.keyId]);
  assert.is(ok.code, 0, ok.out);
  assert.match(ok.out, `OK: the record at height ${r.proof.entry.height} of ${ctx.tenant} is in the tree of ${r.proof.treeSize}`);
  const cli = runCli(['ledger', 'check-proof', dir, '--key-id', ctx.keyring.keyId]);
  assert.is(await cli.exited, 0, cli.lines.join('\n'));
  assert.ok(cli.lines.includes('OK'), cli.lines.join('\n'));

  const wrongKey = await runScript(script, [dir, '0123456789abcdef']);
  assert.match(wrongKey.out, 'FAIL: key.pem is not key 0123456789abcdef');
  const path = join(dir, 'path');
  const lines = (await readFile(path, 'utf8')).trim().split('\n');
  lines[0] = (lines[0]![0] === '0' ? '1' : '0') + lines[0]!.slice(1);
  await writeFile(path, `${lines.join('\n')}\n`);
  const bad = await runScript(script, [dir, ctx.keyring.keyId]);
  assert.is(bad.code, 1, bad.out);
  assert.match(bad.out, 'FAIL: the audit path leads to');
  const json = join(dir, 'proof.json');
  const p = JSON.parse(await readFile(json, 'utf8')) as InclusionProof;
  p.auditPath[0] = lines[0]!;
  await writeFile(json, JSON.stringify(p));
  const cliBad = runCli(['ledger', 'check-proof', dir, '--key-id', ctx.keyring.keyId]);
  assert.is(await cliBad.exited, 1, cliBad.lines.join('\n'));
  assert.ok(
    cliBad.lines.some((l) => l.startsWith('FAIL: the audit path does not lead to root')),
    cliBad.lines.join('\n'),
  );
});

test.run();

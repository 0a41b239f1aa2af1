import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseVerifierKey, verifierKeyOf, verifyCosignedCheckpoint } from '../../src/transparency/mod.ts';
import { addCheckpoint, originHash } from '../../src/witness/mod.ts';
import { runCli, type CliProcess } from '../helpers/proc.ts';
import { TestLog } from './fixture.ts';

const test = suite('witness: `stockade witness serve` as a process');

async function serve(args: string[]): Promise<{ proc: CliProcess; url: string; vkey: string }> {
  const proc = runCli(['witness', 'serve', '--listen', '127.0.0.1:0', '--log-level', 'warn', ...args]);
  try {
    const vkey = (await proc.waitFor(/^witness vkey /, 60_000)).slice('witness vkey '.length);
    const url = /listening on (http:\/\/\S+)/.exec(await proc.waitFor(/^witness listening on /, 60_000))![1]!;
    return { proc, url, vkey };
  } catch (err) {
    await proc.kill();
    throw err;
  }
}

test('state and key survive kill -9: the restarted witness has the same vkey and remembers the size it cosigned', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stk-witness-cli-'));
  const log = new TestLog('stockade.test/tenant/restart');
  const args = ['--state', join(dir, 'state'), '--key', join(dir, 'keys', 'witness.key'), '--log', log.vkey, '--name', 'witness.test/restart'];
  const procs: CliProcess[] = [];
  try {
    const a = await serve(args);
    procs.push(a.proc);
    assert.ok(a.proc.lines.includes(`witness key created in ${join(dir, 'keys', 'witness.key')} (mode 0600)`));
    assert.is((statSync(join(dir, 'keys', 'witness.key')).mode & 0o777).toString(8), '600');
    assert.ok(readFileSync(join(dir, 'keys', 'witness.key'), 'utf8').startsWith('PRIVATE+KEY+witness.test/restart+'));
    assert.ok((await addCheckpoint(a.url, 0, [], log.checkpoint(3))).ok);
    const seven = await addCheckpoint(a.url, 3, log.grow(7).tree.consistencyProof(3, 7), log.checkpoint(7));
    assert.ok(seven.ok);

    // A second process on the same state folder is refused while the first runs.
    const twin = runCli(['witness', 'serve', '--listen', '127.0.0.1:0', ...args]);
    procs.push(twin);
    assert.is(await twin.exited, 1);
    assert.ok(
      twin.lines.some((l) => l.includes('STK_ERR_DATA_LOCKED')),
      twin.lines.join('\n'),
    );

    a.proc.child.kill('SIGKILL');
    await a.proc.exited;

    const b = await serve(args);
    procs.push(b.proc);
    assert.is(b.vkey, a.vkey);
    assert.not.ok(b.proc.lines.some((l) => l.startsWith('witness key created')));
    const stale = await addCheckpoint(b.url, 0, [], log.checkpoint(5));
    assert.equal(stale.ok ? null : [stale.status, stale.currentSize], [409, 7]);
    const fork = new TestLog(log.origin, 'forked');
    const forked = await addCheckpoint(b.url, 7, [], fork.checkpoint(7, log.key));
    assert.equal(forked.ok ? null : forked.status, 422);
    const note = log.checkpoint(10);
    const ten = await addCheckpoint(b.url, 7, log.tree.consistencyProof(7, 10), note);
    assert.ok(ten.ok, JSON.stringify(ten));
    if (ten.ok) {
      const wk = parseVerifierKey(b.vkey);
      assert.ok(wk.ok);
      if (wk.ok)
        assert.ok(verifyCosignedCheckpoint(note + ten.cosignatures.join(''), { logKeys: [verifierKeyOf(log.key)], witnessKeys: [wk.key], quorum: 1 }).ok);
    }
    const served = await (await fetch(`${b.url}/${originHash(log.origin)}/checkpoint`)).text();
    assert.ok(served.startsWith(`${log.origin}\n10\n`));
  } finally {
    for (const p of procs) await p.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad configuration stops the command with its code: a malformed --log, a key file others can read, another --name', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stk-witness-cli-'));
  const log = new TestLog('stockade.test/tenant/config');
  const procs: CliProcess[] = [];
  const run = async (args: string[]): Promise<string> => {
    const p = runCli(['witness', 'serve', '--listen', '127.0.0.1:0', '--state', join(dir, 'state'), ...args]);
    procs.push(p);
    assert.is(await p.exited, 1, p.lines.join('\n'));
    return p.lines.join('\n');
  };
  try {
    assert.match(await run(['--key', join(dir, 'k'), '--log', 'not-a-vkey']), /STK_ERR_CONFIG/);
    assert.match(await run(['--key', join(dir, 'k'), '--log', log.vkey, '--listen', 'nowhere']), /STK_ERR_CONFIG/);
    const ok = await serve(['--state', join(dir, 'state'), '--key', join(dir, 'k'), '--log', log.vkey, '--name', 'witness.test/one']);
    procs.push(ok.proc);
    await ok.proc.kill();
    assert.match(await run(['--key', join(dir, 'k'), '--log', log.vkey, '--name', 'witness.test/two']), /STK_ERR_WITNESS_KEY/);
    chmodSync(join(dir, 'k'), 0o644);
    assert.match(await run(['--key', join(dir, 'k'), '--log', log.vkey]), /mode 644 lets others read it; chmod 600 \(STK_ERR_WITNESS_KEY\)/);
  } finally {
    for (const p of procs) await p.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();

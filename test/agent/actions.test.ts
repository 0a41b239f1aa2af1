import { execFile } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { accountAction, collectEvidence, HostRoot, killProcess, runTool, takeIdentitySnapshot } from '../../src/agent/mod.ts';
import { pidAlive } from '../helpers/proc.ts';
import { tempDir } from '../helpers/nats.ts';
import { type Child, copySleep, sha256File, startChild, writeTree } from './fixture.ts';

const test = suite('agent: actions that change the host (on what the test made)');
const run = promisify(execFile);

const ctx = { children: [] } as unknown as { dir: { path: string; cleanup(): Promise<void> }; exe: string; sha: string; children: Child[] };
const ROOT = new HostRoot('/');

test.before(async () => {
  ctx.dir = await tempDir('stk-act-');
  ctx.exe = join(ctx.dir.path, 'stk-victim');
  ctx.sha = await copySleep(ctx.exe);
});

test.after(async () => {
  for (const c of ctx.children) await c.stop();
  await ctx.dir?.cleanup();
});

async function victim(args: string[] = ['1000']): Promise<Child> {
  const c = await startChild(ctx.exe, args);
  ctx.children.push(c);
  return c;
}

/** Waits (bounded) until /proc/<pid>/exe is `exe`: a shell that exec's is only then the program. */
async function untilExe(pid: number, exe: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      if (readlinkSync(`/proc/${pid}/exe`) === exe) return;
    } catch {
      // not there yet
    }
    if (Date.now() > deadline) throw new Error(`pid ${pid} never ran ${exe}`);
    await delay(10);
  }
}

test('kill-process refuses a pid whose executable does not match (pid reuse) and leaves it running', async () => {
  const c = await victim();
  const wrong = 'f'.repeat(64);
  const r = await killProcess(ROOT, { pid: c.pid, sha256: wrong });
  assert.is(r.outcome, 'failed');
  assert.equal(
    { reason: r.details.reason, expected: r.details.expected, actual: r.details.actual },
    { reason: 'hash-mismatch', expected: wrong, actual: ctx.sha },
  );
  assert.match(r.output, /pid was probably reused/);
  assert.ok(pidAlive(c.pid), 'still running');
});

test('kill-process ends the process with SIGTERM when the hash matches, and says so', async () => {
  const c = await victim();
  const r = await killProcess(ROOT, { pid: c.pid, sha256: ctx.sha.toUpperCase() });
  assert.is(r.outcome, 'succeeded', r.output);
  assert.equal(r.details, { pid: c.pid, sha256: ctx.sha, signal: 'SIGTERM' });
  assert.equal(await c.exited, { code: null, signal: 'SIGTERM' });
  // Gone now: asked again, it refuses.
  const again = await killProcess(ROOT, { pid: c.pid, sha256: ctx.sha });
  assert.equal([again.outcome, again.details.reason], ['failed', 'gone']);
});

test('kill-process escalates to SIGKILL when SIGTERM is ignored', async () => {
  // The shell ignores TERM and exec's the copied sleep, which keeps the ignored disposition.
  const c = await startChild('/bin/sh', ['-c', `trap '' TERM; exec ${ctx.exe} 1000`]);
  ctx.children.push(c);
  await untilExe(c.pid, ctx.exe);
  const r = await killProcess(ROOT, { pid: c.pid, sha256: ctx.sha }, { graceMs: 300 });
  assert.is(r.outcome, 'succeeded', r.output);
  assert.is(r.details.signal, 'SIGKILL');
  assert.equal(await c.exited, { code: null, signal: 'SIGKILL' });
});

test('kill-process refuses bad arguments, init and the agent itself', async () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ pid: 1, sha256: ctx.sha }, /is init/],
    [{ pid: process.pid, sha256: ctx.sha }, /the agent itself/],
    [{ pid: '12', sha256: ctx.sha }, /positive integer/],
    [{ pid: 12, sha256: 'abc' }, /64 hex digits/],
  ];
  for (const [args, why] of cases) {
    const r = await killProcess(ROOT, args as { pid: unknown; sha256: unknown });
    assert.is(r.outcome, 'failed');
    assert.match(r.output, why);
  }
});

const PASSWD = 'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n';
const SHADOW = 'root:*:19700:0:99999:7:::\nalice:$6$salt$hash:19701:0:99999:7:::\n';
const GROUP = 'root:x:0:\nalice:x:1000:\n';

function shadowLine(root: string, name: string): string[] {
  return readFileSync(join(root, 'etc/shadow'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`))!
    .split(':');
}

test('lock, unlock, expire and unexpire a local account with usermod --root, reporting its exit status', async () => {
  const root = join(ctx.dir.path, 'acct-root');
  await writeTree(root, { 'etc/passwd': PASSWD, 'etc/shadow': SHADOW, 'etc/group': GROUP, 'etc/gshadow': 'root:*::\nalice:!::\n' });
  const host = new HostRoot(root);

  const lock = await accountAction(host, 'lock-account', { account: 'alice' });
  assert.is(lock.outcome, 'succeeded', lock.output);
  assert.equal((lock.details.run as { args: string[] }).args, ['--root', root, '-L', '--', 'alice']);
  assert.is((lock.details.run as { exitCode: number }).exitCode, 0);
  assert.is(shadowLine(root, 'alice')[1], '!$6$salt$hash');
  assert.is((await takeIdentitySnapshot(host)).accounts.find((a) => a.name === 'alice')!.password, 'locked');

  const unlock = await accountAction(host, 'unlock-account', { account: 'alice' });
  assert.is(unlock.outcome, 'succeeded', unlock.output);
  assert.is(shadowLine(root, 'alice')[1], '$6$salt$hash');

  const expire = await accountAction(host, 'expire-account', { account: 'alice' });
  assert.is(expire.outcome, 'succeeded', expire.output);
  assert.is(shadowLine(root, 'alice')[7], '1');
  assert.is((await takeIdentitySnapshot(host)).accounts.find((a) => a.name === 'alice')!.expiresOn, '1970-01-02');
  const unexpire = await accountAction(host, 'unexpire-account', { account: 'alice' });
  assert.is(unexpire.outcome, 'succeeded', unexpire.output);
  assert.is(shadowLine(root, 'alice')[7], '');
  assert.is(shadowLine(root, 'root')[1], '*', 'other accounts untouched');

  const missing = await accountAction(host, 'lock-account', { account: 'mallory' });
  assert.is(missing.outcome, 'failed');
  assert.is((missing.details.run as { exitCode: number }).exitCode, 6, 'usermod: specified user does not exist');
  assert.match(missing.output, /exited with status 6:\nusermod: user 'mallory' does not exist/);

  for (const account of ['-L', 'alice; rm -rf /', '', 'a'.repeat(40), 7]) {
    const r = await accountAction(host, 'lock-account', { account });
    assert.is(r.outcome, 'failed');
    assert.match(r.output, /^refused:/);
  }
  assert.is(shadowLine(root, 'alice')[1], '$6$salt$hash');
});

test('a tool that is not installed is a failed result that says so', async () => {
  const r = await runTool('stk-no-such-tool', ['x']);
  assert.equal([r.exitCode, r.spawnError], [null, 'ENOENT']);
  const host = new HostRoot(join(ctx.dir.path, 'acct-root'));
  const a = await accountAction(host, 'lock-account', { account: 'alice' }, { usermod: 'stk-no-such-usermod' });
  assert.is(a.outcome, 'failed');
  assert.match(a.output, /could not be started \(ENOENT\)/);
});

test('collect-evidence: hash, size and bytes of a regular file; refuses what is too large or not a file; links stay in the root', async () => {
  const r = join(ctx.dir.path, 'ev-root');
  const body = Buffer.from('evil payload \u0000\u0001 bytes\n');
  await writeTree(r, { 'tmp/dropper.bin': body, 'etc/hostname': 'prepared-host\n', 'var/big.log': Buffer.alloc(5000, 1) });
  await symlink('/etc/hostname', join(r, 'tmp/abs-link'));
  await symlink('../../../../../../../etc/hostname', join(r, 'tmp/climb'));
  await mkdir(join(r, 'tmp/folder'));
  await run('mkfifo', [join(r, 'tmp/pipe')]);
  const host = new HostRoot(r);

  const ok = await collectEvidence(host, { path: '/tmp/dropper.bin', maxBytes: 1024 });
  assert.is(ok.outcome, 'succeeded', ok.output);
  assert.equal(ok.content, body);
  assert.equal(
    { sha256: ok.details.sha256, sizeBytes: ok.details.sizeBytes, path: ok.details.path, resolvedPath: ok.details.resolvedPath },
    {
      sha256: await sha256File(join(r, 'tmp/dropper.bin')),
      sizeBytes: body.length,
      path: '/tmp/dropper.bin',
      resolvedPath: '/tmp/dropper.bin',
    },
  );

  const link = await collectEvidence(host, { path: '/tmp/abs-link', maxBytes: 1024 });
  assert.equal([link.outcome, link.details.resolvedPath, link.content?.toString()], ['succeeded', '/etc/hostname', 'prepared-host\n']);
  const climb = await collectEvidence(host, { path: '/tmp/climb', maxBytes: 1024 });
  assert.equal([climb.outcome, climb.content?.toString()], ['succeeded', 'prepared-host\n'], 'the root’s file, never the machine’s');

  const refusals: Array<[Record<string, unknown>, string]> = [
    [{ path: '/var/big.log', maxBytes: 4999 }, 'too-large'],
    [{ path: '/tmp/folder', maxBytes: 1024 }, 'not-regular'],
    [{ path: '/tmp/pipe', maxBytes: 1024 }, 'not-regular'],
    [{ path: '/tmp/none', maxBytes: 1024 }, 'ENOENT'],
  ];
  for (const [args, reason] of refusals) {
    const x = await collectEvidence(host, args as { path: unknown; maxBytes: unknown });
    assert.equal([x.outcome, x.details.reason, x.content], ['failed', reason, null], `${args.path}: ${x.output}`);
  }
  assert.is((await collectEvidence(host, { path: '/var/big.log', maxBytes: 5000 })).details.sizeBytes, 5000);
  assert.is((await collectEvidence(host, { path: 'relative', maxBytes: 10 })).outcome, 'failed');
  assert.is((await collectEvidence(host, { path: '/tmp/dropper.bin', maxBytes: -1 })).outcome, 'failed');
  assert.equal(await readFile(join(r, 'tmp/dropper.bin')), body, 'evidence is read, never changed');
  await writeFile(join(r, 'tmp/empty'), '');
  const empty = await collectEvidence(host, { path: '/tmp/empty', maxBytes: 0 });
  assert.equal([empty.outcome, empty.details.sha256], ['succeeded', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']);
});

test.run();

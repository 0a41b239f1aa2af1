import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HostRoot, listHostDir, readHostText } from '../../src/agent/mod.ts';
import { rejects, throws } from '../helpers/assert.ts';
import { tempDir } from '../helpers/nats.ts';
import { writeTree } from './fixture.ts';

const test = suite('agent: host root');

const ctx = {} as { dir: { path: string; cleanup(): Promise<void> }; root: HostRoot };

test.before(async () => {
  ctx.dir = await tempDir('stk-root-');
  ctx.root = new HostRoot(ctx.dir.path);
  const r = ctx.dir.path;
  await writeTree(r, { 'etc/hostname': 'prepared\n', 'home/alice/notes': 'alice\n', 'var/log/app.log': 'log\n' });
  await symlink('/etc/hostname', join(r, 'home/alice/abs-link')); // absolute: must stay inside the root
  await symlink('../../../../../../etc/hostname', join(r, 'home/alice/climb')); // climbs past the root
  await symlink('notes', join(r, 'home/alice/rel-link'));
  await symlink('loop-b', join(r, 'home/alice/loop-a'));
  await symlink('loop-a', join(r, 'home/alice/loop-b'));
  await symlink('/var/log', join(r, 'logs'));
  await mkdir(join(r, 'empty'));
});

test.after(async () => {
  await ctx.dir.cleanup();
});

test('paths map into the root and never climb out of it', () => {
  assert.is(ctx.root.path('/etc/passwd'), join(ctx.dir.path, 'etc/passwd'));
  assert.is(ctx.root.path('/../../etc/passwd'), join(ctx.dir.path, 'etc/passwd'));
  assert.is(ctx.root.path('etc/../../x'), join(ctx.dir.path, 'x'));
  assert.is(new HostRoot('/').path('/proc/1/stat'), '/proc/1/stat');
  assert.is(new HostRoot('/srv/host/').dir, '/srv/host');
});

test('symlinks resolve as if the root were /', async () => {
  assert.is(await ctx.root.resolveInRoot('/home/alice/abs-link'), '/etc/hostname');
  assert.is(await ctx.root.resolveInRoot('/home/alice/climb'), '/etc/hostname');
  assert.is(await ctx.root.resolveInRoot('/home/alice/rel-link'), '/home/alice/notes');
  assert.is(await ctx.root.resolveInRoot('/logs/app.log'), '/var/log/app.log');
  assert.is(await readHostText(ctx.root, '/home/alice/abs-link'), 'prepared\n', 'the root’s file, not the machine’s /etc/hostname');
  const code = async (p: string): Promise<string | undefined> => {
    try {
      await ctx.root.resolveInRoot(p);
      return undefined;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code;
    }
  };
  assert.is(await code('/home/alice/loop-a'), 'ELOOP');
  assert.is(await code('/home/alice/missing'), 'ENOENT');
  assert.is(await code('/etc/hostname/below'), 'ENOTDIR');
});

test('reading host files: missing, folders and loops are null; listings', async () => {
  assert.is(await readHostText(ctx.root, '/etc/shadow'), null);
  assert.is(await readHostText(ctx.root, '/empty'), null);
  assert.is(await readHostText(ctx.root, '/home/alice/loop-a'), null);
  assert.equal((await listHostDir(ctx.root, '/logs'))?.sort(), ['app.log']);
  assert.is(await listHostDir(ctx.root, '/etc/hostname'), null);
  await writeFile(join(ctx.dir.path, 'etc/huge'), Buffer.alloc(2048));
  const err = await rejects(readHostText(ctx.root, '/etc/huge', 1024), 'STK_ERR_AGENT_HOST_UNREADABLE');
  assert.equal({ path: err.data.path, maxBytes: err.data.maxBytes }, { path: '/etc/huge', maxBytes: 1024 });
});

test('a host root must be an absolute folder', async () => {
  throws(() => new HostRoot('relative/dir'), 'STK_ERR_CONFIG');
  await rejects(HostRoot.open(join(ctx.dir.path, 'etc/hostname')), 'STK_ERR_CONFIG');
  await rejects(HostRoot.open(join(ctx.dir.path, 'nope')), 'STK_ERR_CONFIG');
  assert.is((await HostRoot.open(ctx.dir.path)).dir, ctx.dir.path);
});

test.run();

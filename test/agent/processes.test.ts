import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ExeHasher, HostRoot, ProcessCollector, type ProcessItem } from '../../src/agent/mod.ts';
import { tempDir } from '../helpers/nats.ts';
import { type Child, copySleep, startChild } from './fixture.ts';

const test = suite('agent: process collector on the real /proc');

const ctx = { children: [] } as unknown as { dir: { path: string; cleanup(): Promise<void> }; exe: string; sha: string; children: Child[] };

test.before(async () => {
  ctx.dir = await tempDir('stk-proc-');
  ctx.exe = join(ctx.dir.path, 'stk-sleeper');
  ctx.sha = await copySleep(ctx.exe);
});

test.after(async () => {
  for (const c of ctx.children) await c.stop();
  await ctx.dir?.cleanup();
});

async function child(args: string[]): Promise<{ c: Child; t0: number; t1: number }> {
  const t0 = Date.now();
  const c = await startChild(ctx.exe, args, { cwd: ctx.dir.path });
  const t1 = Date.now();
  ctx.children.push(c);
  return { c, t0, t1 };
}

function mine(items: ProcessItem[], pid: number): ProcessItem[] {
  return items.filter((i) => i.pid === pid);
}

const selfCmdline = (): string => readFileSync('/proc/self/cmdline').toString('utf8').replace(/\0$/, '').replaceAll('\0', ' ');

test('a process the test started is reported once, with exe, hash, cmdline, user, cwd, start time and parent', async () => {
  const { c, t0, t1 } = await child(['1000', '7']);
  const collector = new ProcessCollector({ root: new HostRoot('/') });
  const first = await collector.scan();
  const [item] = mine(first, c.pid);
  assert.ok(item, `pid ${c.pid} not among ${first.length} items`);
  assert.is(item.kind, 'process');
  assert.is(item.ppid, process.pid);
  assert.is(item.uid, process.getuid!());
  assert.is(item.user, 'root');
  assert.is(item.exe, ctx.exe);
  assert.is(item.sha256, ctx.sha);
  assert.is(item.name, 'stk-sleeper');
  assert.is(item.cmdline, `${ctx.exe} 1000 7`);
  assert.is(item.cmdlineTruncated, false);
  assert.is(item.cwd, ctx.dir.path);
  assert.is(item.parentExe, readlinkSync('/proc/self/exe'));
  assert.is(item.parentName, readFileSync('/proc/self/comm', 'utf8').trimEnd());
  assert.is(item.parentCmdline, selfCmdline());
  // btime has whole seconds, so the start time is right to about a second.
  const started = Date.parse(item.startedAt);
  assert.ok(started >= t0 - 1500 && started <= t1 + 1500, `startedAt ${item.startedAt} outside [${new Date(t0).toISOString()}, ${new Date(t1).toISOString()}]`);
  // The first scan reports what already runs: the test runner itself is there too.
  assert.ok(first.some((i) => i.pid === process.pid));
  // Parents come before their children.
  assert.ok(first.findIndex((i) => i.pid === process.pid) < first.findIndex((i) => i.pid === c.pid), 'parent listed before child');

  const second = await collector.scan();
  assert.equal(mine(second, c.pid), [], 'reported twice');
  assert.equal(mine(second, process.pid), []);

  const { c: next } = await child(['1000', '8']);
  const third = await collector.scan();
  assert.is(mine(third, next.pid).length, 1);
  assert.equal(mine(third, c.pid), []);
  assert.is(mine(third, next.pid)[0]!.cmdline, `${ctx.exe} 1000 8`);
});

test('kernel threads are not processes to report', async () => {
  const items = await new ProcessCollector({ root: new HostRoot('/') }).list();
  // Found independently of the collector: field 9 of stat carries PF_KTHREAD (0x00200000).
  const kthreads = readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[6]) & 0x00200000) !== 0;
      } catch {
        return false;
      }
    })
    .map(Number);
  // In a container's own pid namespace there are none to see; on this kind of machine kthreadd is pid 2.
  if (kthreads.length === 0) return;
  assert.ok(kthreads.includes(2), 'kthreadd is pid 2 here');
  const reported = new Set(items.map((i) => i.pid));
  assert.equal(
    kthreads.filter((pid) => reported.has(pid)),
    [],
  );
  assert.ok(items.length > 0);
});

test('a restarted collector with the saved state reports nothing twice, and a new process after it', async () => {
  const { c } = await child(['1000', '9']);
  const a = new ProcessCollector({ root: new HostRoot('/') });
  assert.is(mine(await a.scan(), c.pid).length, 1);
  const saved = JSON.parse(JSON.stringify(a.exportState()));
  const b = new ProcessCollector({ root: new HostRoot('/') });
  b.importState(saved);
  const { c: later } = await child(['1000', '10']);
  const items = await b.scan();
  assert.equal(mine(items, c.pid), []);
  assert.is(mine(items, later.pid).length, 1);
  assert.is(mine(items, later.pid)[0]!.sha256, ctx.sha);
  // The saved hash cache answers for the same binary without reading it again.
  const hasher = new ExeHasher();
  hasher.importEntries(saved.hashes);
  assert.is(await hasher.hash(`/proc/${later.pid}/exe`), ctx.sha);
  assert.equal({ hashed: hasher.stats.hashed, cacheHits: hasher.stats.cacheHits }, { hashed: 0, cacheHits: 1 });
});

test('one binary run by several processes is hashed once; a changed file is hashed again', async () => {
  const kids = [await child(['1000', '11']), await child(['1000', '12']), await child(['1000', '13'])];
  const hasher = new ExeHasher();
  for (const { c } of kids) assert.is(await hasher.hash(`/proc/${c.pid}/exe`), ctx.sha);
  assert.equal({ hashed: hasher.stats.hashed, cacheHits: hasher.stats.cacheHits }, { hashed: 1, cacheHits: 2 });

  // A plain file: same identity → cached; new mtime → read again; new content → new hash.
  const file = join(ctx.dir.path, 'tool');
  await writeFile(file, 'one');
  const h1 = await hasher.hash(file);
  assert.is(h1, createHash('sha256').update('one').digest('hex'));
  assert.is(await hasher.hash(file), h1);
  assert.is(hasher.stats.hashed, 2);
  await utimes(file, new Date(2001, 1, 1), new Date(2001, 1, 1));
  assert.is(await hasher.hash(file), h1);
  assert.is(hasher.stats.hashed, 3, 'a new mtime is a new identity');
  await writeFile(file, 'two');
  assert.is(await hasher.hash(file), createHash('sha256').update('two').digest('hex'));
  // Too large to hash, and not a file at all.
  assert.is(await new ExeHasher({ maxBytes: 2 }).hash(file), null);
  assert.is(await hasher.hash(ctx.dir.path), null);
  assert.is(await hasher.hash(join(ctx.dir.path, 'missing')), null);
});

test('a long command line is cut at the limit and flagged', async () => {
  const long = '0'.repeat(5000);
  const { c } = await child(['1000', long]);
  const collector = new ProcessCollector({ root: new HostRoot('/'), maxCmdlineBytes: 100 });
  const [item] = mine(await collector.scan(), c.pid);
  assert.ok(item);
  assert.is(item.cmdlineTruncated, true);
  assert.is(item.cmdline, `${ctx.exe} 1000 ${long}`.slice(0, 100));
  // The parent's line is cut at the same limit.
  assert.is(item.parentCmdline, selfCmdline().slice(0, 100));
});

test('a process that exits is dropped from the state; its pid coming back is a new process', async () => {
  const { c } = await child(['1000', '14']);
  const collector = new ProcessCollector({ root: new HostRoot('/') });
  await collector.scan();
  assert.ok(collector.exportState().seen.some((k) => k.startsWith(`${c.pid}:`)));
  await c.stop();
  await collector.scan();
  assert.not.ok(
    collector.exportState().seen.some((k) => k.startsWith(`${c.pid}:`)),
    'an exited process stays in the state',
  );
});

test.run();

import { createHash } from 'node:crypto';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeCmdline, HostRoot, parseStat, ProcessCollector, startedAtIso } from '../../src/agent/mod.ts';
import { rejects } from '../helpers/assert.ts';
import { tempDir } from '../helpers/nats.ts';
import { writeTree } from './fixture.ts';

const test = suite('agent: /proc parsing edge cases on a prepared root');

/** A stat line with the fields the collector reads (state, ppid, flags, starttime) at their places. */
function statLine(pid: number, comm: string, o: { state?: string; ppid?: number; flags?: number; start?: number } = {}): string {
  const f = Array.from({ length: 50 }, () => '0');
  f[0] = o.state ?? 'S';
  f[1] = String(o.ppid ?? 1);
  f[6] = String(o.flags ?? 4194560);
  f[19] = String(o.start ?? 1000);
  return `${pid} (${comm}) ${f.join(' ')}\n`;
}

test('stat: comm with spaces and parentheses, kernel-thread flag, malformed lines', () => {
  const st = parseStat(statLine(42, 'a) S 1 (b', { ppid: 7, start: 9876 }))!;
  assert.equal(
    { pid: st.pid, comm: st.comm, state: st.state, ppid: st.ppid, startTicks: st.startTicks, kernelThread: st.kernelThread },
    {
      pid: 42,
      comm: 'a) S 1 (b',
      state: 'S',
      ppid: 7,
      startTicks: 9876,
      kernelThread: false,
    },
  );
  assert.is(parseStat(statLine(2, 'kthreadd', { flags: 0x00208040 }))!.kernelThread, true);
  assert.is(parseStat('garbage'), null);
  assert.is(parseStat('12 (x) S 1'), null);
});

test('cmdline: NULs become spaces, trailing NUL dropped, a cut never splits a UTF-8 character', () => {
  assert.equal(decodeCmdline(Buffer.from('/bin/ls\0-l\0/tmp\0'), 100), { cmdline: '/bin/ls -l /tmp', truncated: false });
  assert.equal(decodeCmdline(Buffer.from('exactly10\0'), 9), { cmdline: 'exactly10', truncated: false });
  // 'é' is two bytes; a limit of 6 falls between them.
  assert.equal(decodeCmdline(Buffer.from('echo é\0'), 6), { cmdline: 'echo ', truncated: true });
  assert.equal(decodeCmdline(Buffer.from('echo é\0'), 7), { cmdline: 'echo é', truncated: false });
  assert.equal(decodeCmdline(Buffer.from('x\0y\0'), 2), { cmdline: 'x ', truncated: true });
  // setproctitle-style lines without NULs stay as they are.
  assert.equal(decodeCmdline(Buffer.from('nginx: worker process'), 100), { cmdline: 'nginx: worker process', truncated: false });
});

test('start time from btime, start ticks and the tick rate', () => {
  assert.is(startedAtIso(12345, 1_700_000_000, 100), '2023-11-14T22:15:23.450Z');
  assert.is(startedAtIso(250, 1_700_000_000, 250), '2023-11-14T22:13:21.000Z');
});

test('a prepared root: users, kernel threads, zombies, processes gone mid-read, pid reuse', async () => {
  const dir = await tempDir('stk-procroot-');
  try {
    const r = dir.path;
    await writeTree(r, {
      'etc/passwd': 'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n',
      'proc/stat': 'cpu  1 2 3\nbtime 1700000000\nprocesses 9\n',
      'proc/1/stat': statLine(1, 'init', { ppid: 0, start: 1 }),
      'proc/1/status': 'Name:\tinit\nUid:\t0\t0\t0\t0\n',
      'proc/1/cmdline': '/sbin/init\0splash\0',
      'proc/100/stat': statLine(100, 'my prog)', { ppid: 1, start: 12345 }),
      'proc/100/status': 'Name:\tmy prog)\nUid:\t1000\t0\t1000\t1000\n',
      'proc/100/cmdline': '/opt/prog\0--flag\0',
      'proc/101/stat': statLine(101, 'kworker/0:1', { ppid: 2, flags: 0x04208060 }),
      'proc/102/stat': statLine(102, 'defunct', { state: 'Z', ppid: 100, start: 20000 }),
      'proc/102/status': 'Name:\tdefunct\nState:\tZ (zombie)\nUid:\t4242\t4242\t4242\t4242\n',
      'proc/102/cmdline': '',
      'proc/104/stat': statLine(104, 'gone', { ppid: 1, start: 30000 }),
      'proc/self': 'not a pid',
      'proc/net/tcp': '',
    });
    await writeFile(join(r, 'prog-binary'), 'the bytes of /opt/prog');
    await symlink(join(r, 'prog-binary'), join(r, 'proc/100/exe'));
    await symlink('/srv/work', join(r, 'proc/100/cwd'));
    await mkdir(join(r, 'proc/103')); // exited between readdir and the first read

    const collector = new ProcessCollector({ root: new HostRoot(r), clockTicksPerSecond: 100 });
    const items = await collector.scan();
    assert.equal(
      items.map((i) => i.pid),
      [1, 100, 102],
      'kernel thread 101 skipped; 103 and 104 vanished without an error',
    );
    const p = items.find((i) => i.pid === 100)!;
    assert.equal(p, {
      kind: 'process',
      pid: 100,
      ppid: 1,
      uid: 1000,
      user: 'alice',
      exe: join(r, 'prog-binary'),
      name: 'my prog)',
      sha256: createHash('sha256').update('the bytes of /opt/prog').digest('hex'),
      cmdline: '/opt/prog --flag',
      cmdlineTruncated: false,
      startedAt: '2023-11-14T22:15:23.450Z',
      cwd: '/srv/work',
      parentExe: null,
      parentName: 'init',
      parentCmdline: '/sbin/init splash',
    });
    const z = items.find((i) => i.pid === 102)!;
    assert.equal(
      { exe: z.exe, sha256: z.sha256, user: z.user, cmdline: z.cmdline, parentName: z.parentName },
      {
        exe: '',
        sha256: null,
        user: '4242',
        cmdline: '',
        parentName: 'my prog)',
      },
    );
    assert.equal(collector.lastScan, { scanned: 4, emitted: 3, vanished: 2 });

    assert.equal(await collector.scan(), [], 'nothing new');
    // The same pid with another start time is another process.
    await writeFile(join(r, 'proc/100/stat'), statLine(100, 'my prog)', { ppid: 1, start: 55555 }));
    const again = await collector.scan();
    assert.equal(
      again.map((i) => [i.pid, i.startedAt]),
      [[100, '2023-11-14T22:22:35.550Z']],
    );
  } finally {
    await dir.cleanup();
  }
});

test('a root without /proc is a host fault with its code', async () => {
  const dir = await tempDir('stk-noproc-');
  try {
    await writeTree(dir.path, { 'proc/stat': 'btime 1\n' });
    await rm(join(dir.path, 'proc'), { recursive: true });
    const err = await rejects(new ProcessCollector({ root: new HostRoot(dir.path), clockTicksPerSecond: 100 }).scan(), 'STK_ERR_AGENT_HOST_UNREADABLE');
    assert.is(err.data.path, join(dir.path, 'proc/stat'));
  } finally {
    await dir.cleanup();
  }
});

test.run();

/**
 * Agent CPU per 1,000 processes scanned, beside a reference measured in the same run: a bare
 * readdir of /proc plus reading the very entries a scan reads (sync reads, no parsing, no hashing,
 * no state). Part `agent` of `npm run bench` once wired into bench/parts.ts; runs on its own with
 * `node --import tsx bench/agent.ts`. Starts its own sleeping children so the process table is
 * not tiny, and stops them after.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, copyFile } from 'node:fs/promises';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HostRoot, ProcessCollector } from '../src/agent/mod.ts';
import { tempDir } from '../test/helpers/nats.ts';
import { report } from './util.ts';

const CHILDREN = 400;
const ROUNDS = 15;

/** CPU microseconds (user + system) `fn` takes, and what it returned. */
async function cpu<T>(fn: () => Promise<T> | T): Promise<{ micros: number; value: T }> {
  const before = process.cpuUsage();
  const value = await fn();
  const d = process.cpuUsage(before);
  return { micros: d.user + d.system, value };
}

function pids(): string[] {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n));
}

/** The reference for a full scan: read what the collector reads for each process, and nothing else. */
function bareFull(): number {
  let n = 0;
  for (const pid of pids()) {
    try {
      readFileSync(`/proc/${pid}/stat`);
      readFileSync(`/proc/${pid}/status`);
      readFileSync(`/proc/${pid}/cmdline`);
      readlinkSync(`/proc/${pid}/exe`);
      readlinkSync(`/proc/${pid}/cwd`);
      n++;
    } catch {
      // kernel threads have no exe: the collector skips them after reading stat, so does this
    }
  }
  return n;
}

/** The reference for a steady-state scan: one stat read per process. */
function bareStat(): number {
  let n = 0;
  for (const pid of pids()) {
    try {
      readFileSync(`/proc/${pid}/stat`);
      n++;
    } catch {
      // gone
    }
  }
  return n;
}

/** Runs the agent part of the benchmark. */
export async function benchAgent(): Promise<void> {
  const dir = await tempDir('stk-bench-agent-');
  const children: ChildProcess[] = [];
  try {
    const exe = join(dir.path, 'stk-bench-sleeper');
    await copyFile('/usr/bin/sleep', exe);
    await chmod(exe, 0o755);
    for (let i = 0; i < CHILDREN; i++) children.push(spawn(exe, ['3600', String(i)], { stdio: 'ignore' }));
    await Promise.all(children.map((c) => new Promise((res, rej) => c.once('spawn', res).once('error', rej))));
    const root = new HostRoot('/');
    console.log(`  ${pids().length} entries in /proc (${CHILDREN} sleeping children of this run); ${ROUNDS} rounds each`);

    // Warm both paths once (JIT, page cache of the executables).
    bareFull();
    const warm = new ProcessCollector({ root });
    await warm.scan();
    const hashes = warm.exportState().hashes;

    // Cold: a fresh collector reports every process and hashes every executable.
    let scanned = 0;
    const cold = await cpu(async () => {
      for (let i = 0; i < ROUNDS; i++) {
        const c = new ProcessCollector({ root });
        scanned += (await c.scan()).length;
      }
    });
    // Full: every process reported, executables already in the hash cache (a restart with saved state).
    let scannedFull = 0;
    const full = await cpu(async () => {
      for (let i = 0; i < ROUNDS; i++) {
        const c = new ProcessCollector({ root });
        c.importState({ version: 1, seen: [], hashes });
        scannedFull += (await c.scan()).length;
      }
    });
    let bareScanned = 0;
    const bare = await cpu(() => {
      for (let i = 0; i < ROUNDS; i++) bareScanned += bareFull();
    });
    // Steady state: nothing new, the everyday scan.
    const steady = new ProcessCollector({ root });
    await steady.scan();
    let steadyScanned = 0;
    const quiet = await cpu(async () => {
      for (let i = 0; i < ROUNDS; i++) {
        await steady.scan();
        steadyScanned += steady.lastScan.scanned;
      }
    });
    let statScanned = 0;
    const bareQuiet = await cpu(() => {
      for (let i = 0; i < ROUNDS; i++) statScanned += bareStat();
    });

    const per1000 = (micros: number, n: number) => micros / 1000 / (n / 1000);
    const refFull = { label: 'bare reads', value: per1000(bare.micros, bareScanned) };
    report('first scan, cold hash cache: CPU ms / 1,000 processes', per1000(cold.micros, scanned), 'ms', refFull);
    report('first scan, warm hash cache: CPU ms / 1,000 processes', per1000(full.micros, scannedFull), 'ms', refFull);
    report('steady scan, nothing new: CPU ms / 1,000 processes', per1000(quiet.micros, steadyScanned), 'ms', {
      label: 'bare stat reads',
      value: per1000(bareQuiet.micros, statScanned),
    });
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? null : new Promise((res) => c.once('exit', res)))));
    await dir.cleanup();
  }
}

if (resolve(process.argv[1] ?? '') === fileURLToPath(import.meta.url)) {
  await benchAgent();
  process.exit(0);
}

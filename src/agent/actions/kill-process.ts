import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { ExeHasher } from '../exe-hash.ts';
import type { HostRoot } from '../host-root.ts';
import { parseStat } from '../procfs.ts';
import { type ActionResult, failed, succeeded } from './result.ts';

/** Options of kill-process. */
export interface KillProcessOptions {
  /** How long SIGTERM gets before SIGKILL. @defaultValue 5000 */
  graceMs?: number;
  /** How long to wait for the process to be gone after SIGKILL. @defaultValue 5000 */
  killWaitMs?: number;
}

/** How often the action looks whether the process is gone (a kernel-side wait on a pid needs pidfd, which Node lacks). */
const POLL_MS = 25;

/** pid's start ticks and state, or null when no such process. */
function procState(root: HostRoot, pid: number): { startTicks: number; state: string } | null {
  try {
    const st = parseStat(readFileSync(root.path(`/proc/${pid}/stat`), 'utf8'));
    return st ? { startTicks: st.startTicks, state: st.state } : null;
  } catch {
    return null;
  }
}

/** Gone: no such pid, a new process under it, or dead and only waiting to be reaped (zombie). */
function gone(root: HostRoot, pid: number, startTicks: number): boolean {
  const now = procState(root, pid);
  return now === null || now.startTicks !== startTicks || now.state === 'Z' || now.state === 'X';
}

async function waitGone(root: HostRoot, pid: number, startTicks: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!gone(root, pid, startTicks)) {
    if (Date.now() >= deadline) return false;
    await delay(POLL_MS);
  }
  return true;
}

function signal(pid: number, sig: NodeJS.Signals): 'sent' | 'no-such-process' | string {
  try {
    process.kill(pid, sig);
    return 'sent';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    return code === 'ESRCH' ? 'no-such-process' : code;
  }
}

/**
 * `kill-process {pid, sha256}`: ends the process only if it still runs the executable the command
 * names — a different exe hash means the pid now belongs to another program (pid reuse) and the
 * action refuses. SIGTERM first, SIGKILL after `graceMs`, then checks the process is gone. The
 * pid is in the agent's pid namespace, so an agent in a container needs the host's (hostPID).
 */
export async function killProcess(root: HostRoot, args: { pid: unknown; sha256: unknown }, o: KillProcessOptions = {}): Promise<ActionResult> {
  const { pid, sha256 } = args;
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid < 1) return failed(`refused: pid must be a positive integer, got ${JSON.stringify(pid)}`);
  if (typeof sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(sha256)) return failed('refused: sha256 must be 64 hex digits', { pid });
  const expected = sha256.toLowerCase();
  if (pid === 1 || pid === process.pid) return failed(`refused: pid ${pid} is ${pid === 1 ? 'init' : 'the agent itself'}`, { pid });
  const before = procState(root, pid);
  if (before === null || before.state === 'Z' || before.state === 'X') return failed(`refused: no running process with pid ${pid}`, { pid, reason: 'gone' });
  const actual = await new ExeHasher({ maxEntries: 1, maxBytes: Number.MAX_SAFE_INTEGER }).hash(root.path(`/proc/${pid}/exe`));
  if (actual === null) return failed(`refused: the executable of pid ${pid} cannot be read (a kernel thread, or it exited)`, { pid, reason: 'exe-unreadable' });
  if (actual !== expected)
    return failed(`refused: pid ${pid} runs an executable with SHA-256 ${actual}, not ${expected}; the pid was probably reused`, {
      pid,
      reason: 'hash-mismatch',
      expected,
      actual,
    });
  // Between hashing and signalling the pid must still be the same process.
  if (gone(root, pid, before.startTicks)) return succeeded(`pid ${pid} exited by itself before it was signalled`, { pid, sha256: expected, signal: null });
  const term = signal(pid, 'SIGTERM');
  if (term === 'no-such-process') return succeeded(`pid ${pid} exited by itself before it was signalled`, { pid, sha256: expected, signal: null });
  if (term !== 'sent') return failed(`SIGTERM to pid ${pid} failed: ${term}`, { pid, sha256: expected, reason: term });
  if (await waitGone(root, pid, before.startTicks, o.graceMs ?? 5000))
    return succeeded(`pid ${pid} ended after SIGTERM`, { pid, sha256: expected, signal: 'SIGTERM' });
  // Looked at once more right before SIGKILL, so a pid freed and reused meanwhile is not hit.
  if (gone(root, pid, before.startTicks)) return succeeded(`pid ${pid} ended after SIGTERM`, { pid, sha256: expected, signal: 'SIGTERM' });
  const kill = signal(pid, 'SIGKILL');
  if (kill !== 'sent' && kill !== 'no-such-process') return failed(`SIGKILL to pid ${pid} failed: ${kill}`, { pid, sha256: expected, reason: kill });
  if (await waitGone(root, pid, before.startTicks, o.killWaitMs ?? 5000))
    return succeeded(`pid ${pid} ignored SIGTERM for ${o.graceMs ?? 5000} ms and ended after SIGKILL`, { pid, sha256: expected, signal: 'SIGKILL' });
  const state = procState(root, pid)?.state ?? '?';
  return failed(`pid ${pid} is still there after SIGKILL (state ${state}; a process in uninterruptible sleep dies when its I/O returns)`, {
    pid,
    sha256: expected,
    reason: 'still-running',
    state,
  });
}

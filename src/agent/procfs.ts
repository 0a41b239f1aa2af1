import { execFile } from 'node:child_process';
import { closeSync, openSync, readSync } from 'node:fs';
import { promisify } from 'node:util';
import { StkError } from '../errors.ts';

/** PF_KTHREAD in /proc/<pid>/stat's flags: the task is a kernel thread (no exe, no user space). */
const PF_KTHREAD = 0x00200000;

/** The fields of /proc/<pid>/stat the collectors use. */
export interface ProcStat {
  pid: number;
  /** `comm`, which may itself hold spaces and parentheses. */
  comm: string;
  /** One letter: R, S, D, Z, T, … */
  state: string;
  ppid: number;
  flags: number;
  /** Field 22: clock ticks after boot at which the process started. */
  startTicks: number;
  kernelThread: boolean;
}

/**
 * Parses /proc/<pid>/stat. `comm` sits between the first `(` and the *last* `)`, since a process
 * may name itself `a) S 1 (b`; fields after it are counted from there. Null when malformed.
 */
export function parseStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  const rest = text
    .slice(close + 2)
    .trim()
    .split(' ');
  // rest[0] is field 3 (state), so field n is rest[n - 3].
  const state = rest[0];
  const ppid = Number(rest[1]);
  const flags = Number(rest[6]);
  const startTicks = Number(rest[19]);
  if (!Number.isInteger(pid) || state === undefined || !Number.isInteger(ppid) || !Number.isFinite(flags) || !Number.isInteger(startTicks)) return null;
  return { pid, comm: text.slice(open + 1, close), state, ppid, flags, startTicks, kernelThread: (flags & PF_KTHREAD) !== 0 };
}

/** The real uid from /proc/<pid>/status (`Uid:` real, effective, saved, fs); null when absent. */
export function parseStatusUid(text: string): number | null {
  const m = /^Uid:\s+(\d+)/m.exec(text);
  return m ? Number(m[1]) : null;
}

/** `btime` of /proc/stat: the boot time in seconds after the epoch. */
export function parseBootTime(text: string): number | null {
  const m = /^btime\s+(\d+)/m.exec(text);
  return m ? Number(m[1]) : null;
}

/** A process start time as ISO from its start ticks, the boot time and the clock tick rate. */
export function startedAtIso(startTicks: number, bootTimeSec: number, ticksPerSec: number): string {
  return new Date(bootTimeSec * 1000 + Math.round((startTicks * 1000) / ticksPerSec)).toISOString();
}

/**
 * Turns the raw bytes of /proc/<pid>/cmdline into one line: arguments are NUL-separated (with a
 * trailing NUL), joined here with spaces. When the bytes exceed `maxBytes` the line is cut there,
 * backed off to a UTF-8 character boundary, and `truncated` is set.
 */
export function decodeCmdline(raw: Buffer, maxBytes: number): { cmdline: string; truncated: boolean } {
  let end = raw.length;
  if (end > 0 && raw[end - 1] === 0) end--;
  let truncated = false;
  if (end > maxBytes) {
    truncated = true;
    end = maxBytes;
    // A continuation byte (10xxxxxx) at the cut means a character would be split: drop it whole.
    while (end > 0 && (raw[end]! & 0xc0) === 0x80) end--;
  }
  const bytes = Buffer.from(raw.subarray(0, end));
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0) bytes[i] = 0x20;
  return { cmdline: bytes.toString('utf8'), truncated };
}

/**
 * Reads at most `maxBytes` bytes of a file (synchronously: /proc files are made in memory, and a
 * sync read costs a fraction of an async one, which matters when a scan reads thousands).
 */
export function readHead(path: string, maxBytes: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(maxBytes);
    let got = 0;
    while (got < maxBytes) {
      const n = readSync(fd, buf, got, maxBytes - got, null);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

let clockTicks: Promise<number> | undefined;

/** The kernel's clock tick rate (`getconf CLK_TCK`), asked once per process. */
export function clockTicksPerSecond(): Promise<number> {
  clockTicks ??= promisify(execFile)('getconf', ['CLK_TCK']).then(
    ({ stdout }) => {
      const n = Number(stdout.trim());
      if (!Number.isInteger(n) || n <= 0) throw new StkError('STK_ERR_AGENT_HOST_UNREADABLE', `getconf CLK_TCK answered ${stdout.trim()}`, { tool: 'getconf' });
      return n;
    },
    (err: unknown) => {
      clockTicks = undefined;
      throw new StkError('STK_ERR_AGENT_HOST_UNREADABLE', 'getconf CLK_TCK failed', { tool: 'getconf' }, { cause: err });
    },
  );
  return clockTicks;
}

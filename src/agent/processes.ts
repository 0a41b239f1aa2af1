import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { StkError } from '../errors.ts';
import { ExeHasher } from './exe-hash.ts';
import { type HostRoot, isGone } from './host-root.ts';
import { clockTicksPerSecond, decodeCmdline, parseBootTime, parseStat, parseStatusUid, type ProcStat, readHead, startedAtIso } from './procfs.ts';
import type { ProcessItem } from '../telemetry/types.ts';
import { UserNames } from './users.ts';

/** How many processes a scan reads before it lets the event loop run (heartbeats, command pulls). */
const YIELD_EVERY = 64;

/** Options of the process collector. */
export interface ProcessCollectorOptions {
  root: HostRoot;
  /** Command lines longer than this are cut and flagged `cmdlineTruncated`. @defaultValue 4096 */
  maxCmdlineBytes?: number;
  /** Executables larger than this are not hashed (`sha256: null`). @defaultValue 256 MiB */
  maxHashBytes?: number;
  /** Hash cache size. @defaultValue 4096 */
  hashCacheEntries?: number;
  /** Clock ticks per second; asked of `getconf CLK_TCK` when not given. */
  clockTicksPerSecond?: number;
}

/** What the process collector keeps between runs (in the agent's state folder). */
export interface ProcessCollectorState {
  version: 1;
  /** `pid:startTicks` of every process already reported. */
  seen: string[];
  hashes: Array<[string, string | null]>;
}

/** Counters of the last scan. */
export interface ProcessScanStats {
  scanned: number;
  emitted: number;
  /** Processes that exited while being read, or that the agent may not read. */
  vanished: number;
}

/** The details of one process that a report needs besides its stat line. */
interface Details {
  uid: number;
  exe: string;
  cmdline: string;
  cmdlineTruncated: boolean;
  cwd: string | null;
}

/**
 * The EDR process collector: each `scan()` lists the processes of `<root>/proc` and returns one
 * `process` item for every process not reported before. A process is known by pid *and* start
 * time, so a reused pid is a new process. Kernel threads are skipped; a process that exits while
 * it is read is dropped silently (it is gone before there was anything to report).
 */
export class ProcessCollector {
  readonly root: HostRoot;
  readonly maxCmdlineBytes: number;
  readonly hasher: ExeHasher;
  readonly lastScan: ProcessScanStats = { scanned: 0, emitted: 0, vanished: 0 };
  readonly #users: UserNames;
  readonly #proc: string;
  #ticksPerSec: number | undefined;
  #bootTimeSec: number | undefined;
  #seen = new Set<string>();

  constructor(o: ProcessCollectorOptions) {
    this.root = o.root;
    this.maxCmdlineBytes = o.maxCmdlineBytes ?? 4096;
    this.hasher = new ExeHasher({
      ...(o.maxHashBytes !== undefined ? { maxBytes: o.maxHashBytes } : {}),
      ...(o.hashCacheEntries !== undefined ? { maxEntries: o.hashCacheEntries } : {}),
    });
    this.#ticksPerSec = o.clockTicksPerSecond;
    this.#users = new UserNames(o.root);
    this.#proc = o.root.path('/proc');
  }

  /** The processes started since the last scan (every process, on the first), parents first. */
  async scan(): Promise<ProcessItem[]> {
    return this.#collect(true);
  }

  /** Every process running now, reported or not; the seen-state is left as it is. */
  async list(): Promise<ProcessItem[]> {
    return this.#collect(false);
  }

  /** The state to save so a restarted agent reports no process twice. */
  exportState(): ProcessCollectorState {
    return { version: 1, seen: [...this.#seen], hashes: this.hasher.exportEntries() };
  }

  /** Loads a state saved by `exportState`; anything else is ignored. */
  importState(state: unknown): void {
    const s = state as Partial<ProcessCollectorState> | null;
    if (s?.version !== 1 || !Array.isArray(s.seen)) return;
    this.#seen = new Set(s.seen.filter((k) => typeof k === 'string'));
    if (Array.isArray(s.hashes)) this.hasher.importEntries(s.hashes);
  }

  async #collect(onlyNew: boolean): Promise<ProcessItem[]> {
    this.#ticksPerSec ??= await clockTicksPerSecond();
    this.#bootTimeSec ??= this.#readBootTime();
    const ticksPerSec = this.#ticksPerSec;
    const bootTimeSec = this.#bootTimeSec;
    let names: string[];
    try {
      names = readdirSync(this.#proc);
    } catch (err) {
      throw new StkError('STK_ERR_AGENT_HOST_UNREADABLE', `cannot list ${this.#proc}`, { path: this.#proc }, { cause: err });
    }
    const stats = new Map<number, ProcStat>();
    const current = new Set<string>();
    const fresh: ProcStat[] = [];
    let vanished = 0;
    let n = 0;
    for (const name of names) {
      if (!/^\d+$/.test(name)) continue;
      if (++n % YIELD_EVERY === 0) await yieldLoop();
      const st = this.#readStat(name);
      if (st === null) {
        vanished++;
        continue;
      }
      if (st.kernelThread) continue;
      stats.set(st.pid, st);
      const key = `${st.pid}:${st.startTicks}`;
      current.add(key);
      if (!onlyNew || !this.#seen.has(key)) fresh.push(st);
    }
    fresh.sort((a, b) => a.startTicks - b.startTicks || a.pid - b.pid);

    const details = new Map<number, Details | null>();
    const detailsOf = (st: ProcStat): Details | null => {
      if (!details.has(st.pid)) details.set(st.pid, this.#readDetails(st.pid));
      return details.get(st.pid)!;
    };
    const items: ProcessItem[] = [];
    for (const [i, st] of fresh.entries()) {
      if (i % YIELD_EVERY === YIELD_EVERY - 1) await yieldLoop();
      const d = detailsOf(st);
      if (d === null) {
        vanished++;
        continue;
      }
      const sha256 = d.exe === '' ? null : await this.hasher.hash(`${this.#proc}/${st.pid}/exe`);
      const parent = stats.get(st.ppid);
      const pd = parent ? detailsOf(parent) : null;
      items.push({
        kind: 'process',
        pid: st.pid,
        ppid: st.ppid,
        uid: d.uid,
        user: this.#users.nameOf(d.uid) ?? String(d.uid),
        exe: d.exe,
        name: st.comm,
        sha256,
        cmdline: d.cmdline,
        cmdlineTruncated: d.cmdlineTruncated,
        startedAt: startedAtIso(st.startTicks, bootTimeSec, ticksPerSec),
        cwd: d.cwd,
        parentExe: pd ? pd.exe || null : null,
        parentName: parent && pd ? parent.comm : null,
        parentCmdline: pd ? pd.cmdline : null,
      });
    }
    if (onlyNew) {
      // Only processes alive now stay in the state, so it never outgrows the process table.
      this.#seen = current;
      Object.assign(this.lastScan, { scanned: stats.size, emitted: items.length, vanished });
    }
    return items;
  }

  #readBootTime(): number {
    const path = `${this.#proc}/stat`;
    let bt: number | null = null;
    try {
      bt = parseBootTime(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new StkError('STK_ERR_AGENT_HOST_UNREADABLE', `cannot read ${path}`, { path }, { cause: err });
    }
    if (bt === null) throw new StkError('STK_ERR_AGENT_HOST_UNREADABLE', `${path} has no btime line`, { path });
    return bt;
  }

  #readStat(pid: string): ProcStat | null {
    try {
      return parseStat(readFileSync(`${this.#proc}/${pid}/stat`, 'utf8'));
    } catch (err) {
      return skipOrThrow(err, `${this.#proc}/${pid}`);
    }
  }

  /** Null when the process is gone; the exe is '' for a zombie (the kernel no longer knows it). */
  #readDetails(pid: number): Details | null {
    const dir = `${this.#proc}/${pid}`;
    try {
      const uid = parseStatusUid(readFileSync(`${dir}/status`, 'utf8'));
      if (uid === null) return null;
      const { cmdline, truncated } = decodeCmdline(readHead(`${dir}/cmdline`, this.maxCmdlineBytes + 2), this.maxCmdlineBytes);
      return { uid, exe: readLinkOr(`${dir}/exe`, ''), cmdline, cmdlineTruncated: truncated, cwd: readLinkOr(`${dir}/cwd`, null) };
    } catch (err) {
      return skipOrThrow(err, `${this.#proc}/${pid}`);
    }
  }
}

/**
 * A process that exited mid-read (ENOENT, ESRCH) or that the agent may not read (EACCES, EPERM:
 * `hidepid`, a non-root agent) is skipped; anything else is a host fault.
 */
function skipOrThrow(err: unknown, path: string): null {
  const code = (err as NodeJS.ErrnoException).code;
  if (isGone(err) || code === 'EACCES' || code === 'EPERM') return null;
  throw new StkError('STK_ERR_AGENT_HOST_UNREADABLE', `cannot read ${path}`, { path }, { cause: err });
}

/** readlink, or `fallback` when the link cannot be read (zombie: ENOENT; another user's: EACCES). */
function readLinkOr<T extends string | null>(path: string, fallback: T): string | T {
  try {
    return readlinkSync(path);
  } catch {
    return fallback;
  }
}

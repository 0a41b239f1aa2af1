import { spawn } from 'node:child_process';
import { StkError } from '../../errors.ts';

/** What one run of a package tool gave back. Output beyond the bound keeps its tail (errors come last). */
export interface ToolRun {
  command: string;
  args: string[];
  /** Exit status; null when the process was ended by a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr in the order they arrived, bounded by `maxOutputBytes`. */
  output: string;
  outputTruncated: boolean;
  /** stdout went past `maxStdoutBytes`: a parse of it would miss its head. */
  stdoutTruncated: boolean;
  timedOut: boolean;
}

export interface RunOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Bound of each of stdout, stderr and the merged output. @defaultValue 64 MiB for stdout, 1 MiB for the rest */
  maxStdoutBytes?: number;
  maxOutputBytes?: number;
  /** SIGTERM after this long; never SIGKILL, because killing dpkg mid-unpack leaves a broken package. @defaultValue 1 hour */
  timeoutMs?: number;
}

/**
 * The environment every package tool runs with: a fixed PATH and C locale (the output is parsed),
 * and the switches that keep apt, debconf and needrestart from asking anything.
 */
export function toolEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
    LC_ALL: 'C',
    LANG: 'C',
    DEBIAN_FRONTEND: 'noninteractive',
    APT_LISTCHANGES_FRONTEND: 'none',
    NEEDRESTART_SUSPEND: '1',
    ...extra,
  };
}

/** A buffer that keeps the last `max` bytes it was given. */
class TailBuffer {
  private chunks: Buffer[] = [];
  private bytes = 0;
  truncated = false;
  constructor(private readonly max: number) {}
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    while (this.bytes > this.max && this.chunks.length > 0) {
      const first = this.chunks[0]!;
      const over = this.bytes - this.max;
      this.truncated = true;
      if (first.length <= over) {
        this.chunks.shift();
        this.bytes -= first.length;
      } else {
        this.chunks[0] = first.subarray(over);
        this.bytes -= over;
      }
    }
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/**
 * Runs `command` with `args` directly (never through a shell, so no argument is ever parsed as
 * shell syntax) and resolves with its exit and output. A missing binary throws
 * STK_ERR_PATCH_TOOL_MISSING; a non-zero exit is a value for the caller to judge.
 */
export function runTool(command: string, args: string[], options: RunOptions = {}): Promise<ToolRun> {
  const maxStdout = options.maxStdoutBytes ?? 64 * 1024 * 1024;
  const maxOutput = options.maxOutputBytes ?? 1024 * 1024;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? toolEnv(),
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: false,
    });
    const stdout = new TailBuffer(maxStdout);
    const stderr = new TailBuffer(maxOutput);
    const merged = new TailBuffer(maxOutput);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, options.timeoutMs ?? 3_600_000);
    child.stdout.on('data', (c: Buffer) => {
      stdout.push(c);
      merged.push(c);
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr.push(c);
      merged.push(c);
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ENOENT') reject(new StkError('STK_ERR_PATCH_TOOL_MISSING', `${command} is not installed`, { command }, { cause: err }));
      else reject(new StkError('STK_ERR_PATCH_TOOL_FAILED', `${command} could not be started`, { command }, { cause: err }));
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({
        command,
        args,
        exitCode,
        signal,
        stdout: stdout.text(),
        stderr: stderr.text(),
        output: merged.text(),
        outputTruncated: merged.truncated,
        stdoutTruncated: stdout.truncated,
        timedOut,
      });
    });
  });
}

/** Runs a tool whose failure means the inventory cannot be taken: a non-zero exit throws STK_ERR_PATCH_TOOL_FAILED. */
export async function runToolOk(command: string, args: string[], options: RunOptions = {}): Promise<ToolRun> {
  const run = await runTool(command, args, options);
  if (run.exitCode !== 0 || run.stdoutTruncated) {
    throw new StkError('STK_ERR_PATCH_TOOL_FAILED', `${command} ${args.find((a) => !a.startsWith('-')) ?? ''} exited with ${run.exitCode ?? run.signal}`, {
      command,
      exitCode: run.exitCode,
      output: run.output.slice(-2000),
    });
  }
  return run;
}

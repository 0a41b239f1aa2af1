import { spawn } from 'node:child_process';

/** What an action reports back to the ingress as its command result. */
export interface ActionResult {
  outcome: 'succeeded' | 'failed';
  /** Human-readable: what was done, or why not, with the tools' own output. */
  output: string;
  details: Record<string, unknown>;
}

/** A succeeded result. */
export function succeeded(output: string, details: Record<string, unknown> = {}): ActionResult {
  return { outcome: 'succeeded', output, details };
}

/** A failed result. */
export function failed(output: string, details: Record<string, unknown> = {}): ActionResult {
  return { outcome: 'failed', output, details };
}

/** How a tool ran: its exit status (null when killed by a signal or never started) and its output. */
export interface ToolRun {
  command: string;
  args: string[];
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** Set when the tool could not be started at all (`ENOENT`: not installed). */
  spawnError: string | null;
  timedOut: boolean;
}

/** Output kept from one stream of a tool (command results are small messages, not log files). */
const MAX_OUTPUT_BYTES = 64 * 1024;

/**
 * Runs a host tool (no shell: arguments are passed as they are, so no value can become shell
 * syntax), feeding `input` on stdin, and resolves with its exit status and output whatever
 * happens; killed with SIGKILL after `timeoutMs`.
 */
export function runTool(command: string, args: string[], o: { input?: string; timeoutMs?: number } = {}): Promise<ToolRun> {
  return new Promise((resolve) => {
    const run: ToolRun = { command, args, exitCode: null, signal: null, stdout: '', stderr: '', spawnError: null, timedOut: false };
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    const keep = (which: 'stdout' | 'stderr') => (chunk: Buffer) => {
      if (run[which].length < MAX_OUTPUT_BYTES) run[which] += chunk.toString('utf8').slice(0, MAX_OUTPUT_BYTES - run[which].length);
    };
    child.stdout.on('data', keep('stdout'));
    child.stderr.on('data', keep('stderr'));
    const timer = setTimeout(() => {
      run.timedOut = true;
      child.kill('SIGKILL');
    }, o.timeoutMs ?? 60_000);
    child.on('error', (err: NodeJS.ErrnoException) => {
      run.spawnError = err.code ?? err.message;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // A tool that never started has no exit status (Node reports the negative errno here).
      run.exitCode = run.spawnError ? null : code;
      run.signal = signal;
      resolve(run);
    });
    child.stdin.on('error', () => undefined); // a tool that exits without reading its stdin
    child.stdin.end(o.input ?? '');
  });
}

/** One line naming the tool, its exit status and its output, for a result's `output`. */
export function describeRun(r: ToolRun): string {
  const cmd = [r.command, ...r.args].join(' ');
  const status = r.spawnError
    ? `could not be started (${r.spawnError})`
    : r.timedOut
      ? 'timed out and was killed'
      : r.signal
        ? `was killed by ${r.signal}`
        : `exited with status ${r.exitCode}`;
  const out = [r.stdout.trim(), r.stderr.trim()].filter(Boolean).join('\n');
  return `${cmd} ${status}${out ? `:\n${out}` : ''}`;
}

/** The details of a tool run a result carries. */
export function runDetails(r: ToolRun): Record<string, unknown> {
  return {
    command: r.command,
    args: r.args,
    exitCode: r.exitCode,
    signal: r.signal,
    stdout: r.stdout,
    stderr: r.stderr,
    ...(r.spawnError ? { spawnError: r.spawnError } : {}),
  };
}

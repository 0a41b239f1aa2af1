import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** A CLI process under test, with its output lines and its exit. */
export interface CliProcess {
  child: ChildProcess;
  lines: string[];
  /** Resolves with the first output line matching `pattern` (already seen lines count). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** SIGKILL if still running, and wait for it. */
  kill(): Promise<void>;
}

/** Runs `stockade <args>` from the sources (tsx), as `npx stockade` would from the build. */
export function runCli(args: string[], env: Record<string, string | undefined> = {}, nodeArgs: string[] = []): CliProcess {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', resolve(root, 'src/cli/main.ts'), ...args], {
    cwd: root,
    env: { ...process.env, STOCKADE_LOG_JSON: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const lines: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: (l: string) => void }> = [];
  let exitedFlag = false;
  const exited = new Promise<number | null>((res) => {
    child.on('exit', (code) => {
      exitedFlag = true;
      live.delete(child);
      res(code);
    });
  });
  let buf = '';
  const onData = (chunk: Buffer): void => {
    buf += chunk.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      lines.push(line);
      for (const w of [...waiters])
        if (w.pattern.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  return {
    child,
    lines,
    exited,
    waitFor(pattern, timeoutMs = 120_000) {
      const seen = lines.find((l) => pattern.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((res, rej) => {
        const timer = setTimeout(
          () => rej(new Error(`no line matching ${pattern} within ${timeoutMs} ms; output:\n${lines.slice(-20).join('\n')}`)),
          timeoutMs,
        );
        const w = {
          pattern,
          resolve: (l: string) => {
            clearTimeout(timer);
            res(l);
          },
        };
        waiters.push(w);
        void exited.then(() => {
          if (waiters.includes(w)) {
            clearTimeout(timer);
            rej(new Error(`process exited before a line matching ${pattern}; output:\n${lines.slice(-20).join('\n')}`));
          }
        });
      });
    },
    async kill() {
      if (!exitedFlag) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** True when a process with this pid exists. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

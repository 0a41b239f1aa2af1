import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** A child process the test started; `stop()` kills it (if still alive) and waits for its exit. */
export interface Child {
  child: ChildProcess;
  pid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

/** Starts `path args` and resolves once the kernel has created it (the `spawn` event). */
export async function startChild(path: string, args: string[], o: { cwd?: string } = {}): Promise<Child> {
  const child = spawn(path, args, { stdio: 'ignore', ...(o.cwd !== undefined ? { cwd: o.cwd } : {}) });
  live.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.on('exit', (code, signal) => {
      live.delete(child);
      res({ code, signal });
    }),
  );
  await new Promise<void>((res, rej) => {
    child.once('spawn', () => res());
    child.once('error', rej);
  });
  let done = false;
  void exited.then(() => {
    done = true;
  });
  return {
    child,
    pid: child.pid!,
    exited,
    async stop() {
      if (!done) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Hex SHA-256 of a file. */
export async function sha256File(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/** Copies the `sleep` binary to `path` (a binary whose hash only this test knows in advance). */
export async function copySleep(path: string): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await copyFile('/usr/bin/sleep', path);
  const { chmod } = await import('node:fs/promises');
  await chmod(path, 0o755);
  return sha256File(path);
}

/** Writes files of a prepared host root: `{ 'etc/passwd': '…' }`. */
export async function writeTree(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [rel, body] of Object.entries(files)) {
    const p = join(root, rel);
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, body);
  }
}

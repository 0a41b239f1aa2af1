import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { StkError } from '../errors.ts';

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Opens `dir` (fsync of a folder makes a rename in it durable). */
async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes `data` to `path` so that a crash leaves either the old file or the new one, never a torn
 * one: a temp file in the same folder (mode 0600), fsync, rename over the target, fsync the folder.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    await fsyncDir(join(path, '..'));
  } catch (err) {
    await rm(tmp, { force: true });
    throw new StkError('STK_ERR_AGENT_STATE_IO', `cannot write ${path}`, { path }, { cause: err });
  }
}

/**
 * The agent's state folder: one JSON file per name (collector state, spool cursor…), so a
 * restarted agent sends no duplicates. The folder is 0700 and every file 0600 — it holds what
 * the agent knows about the host, which is for root only.
 */
export class StateDir {
  readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** Creates the folder if needed, (re)sets its mode to 0700 and removes temp files a crash left. */
  static async open(dir: string): Promise<StateDir> {
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      // mkdir's mode is filtered by the umask and leaves an existing folder as it was.
      await chmod(dir, 0o700);
      // Temp files of writes a crash interrupted: the target still holds the previous value.
      for (const name of await readdir(dir)) if (/\.json\.tmp-\d+-[0-9a-f]{8}$/.test(name)) await rm(join(dir, name), { force: true });
    } catch (err) {
      throw new StkError('STK_ERR_AGENT_STATE_IO', `cannot open the state folder ${dir}`, { path: dir }, { cause: err });
    }
    return new StateDir(dir);
  }

  /** The path of a named file or subfolder inside the state folder. */
  path(name: string): string {
    if (!NAME.test(name)) throw new StkError('STK_ERR_INVALID_ID', `state name ${name} is not of the form ${NAME}`, { field: 'name', value: name });
    return join(this.dir, name);
  }

  /** The value saved under `name`, or null when there is none yet. */
  async read<T = unknown>(name: string): Promise<T | null> {
    const file = `${this.path(name)}.json`;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new StkError('STK_ERR_AGENT_STATE_IO', `cannot read ${file}`, { path: file }, { cause: err });
    }
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new StkError('STK_ERR_AGENT_STATE_CORRUPT', `${file} is not JSON`, { file }, { cause: err });
    }
  }

  /** Saves `value` under `name` atomically (see writeFileAtomic). */
  async write(name: string, value: unknown): Promise<void> {
    await writeFileAtomic(`${this.path(name)}.json`, JSON.stringify(value));
  }

  /** Removes what is saved under `name` (nothing when there is nothing). */
  async remove(name: string): Promise<void> {
    await rm(`${this.path(name)}.json`, { force: true });
  }

  /** The mode bits of the folder, for health reports. */
  async mode(): Promise<number> {
    return (await stat(this.dir)).mode & 0o777;
  }
}

import { lstat, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { isAbsolute, join, posix, resolve } from 'node:path';
import { StkError } from '../errors.ts';

/** Linux's own limit on symlinks followed while resolving one path (MAXSYMLINKS). */
const MAX_SYMLINKS = 40;

/** An fs error with the errno code a caller can branch on (`ENOENT`, `ELOOP`, …). */
function fsError(code: string, hostPath: string): NodeJS.ErrnoException {
  const err = new Error(`${code}: ${hostPath}`) as NodeJS.ErrnoException;
  err.code = code;
  err.path = hostPath;
  return err;
}

/** True for the errors a file that vanished (or a process that exited) gives while being read. */
export function isGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ESRCH' || code === 'ENOTDIR';
}

/**
 * Where the host's files are: `/` on a real host, a prepared folder in tests, or the host's root
 * mounted into a container. Collectors read `<dir>/proc`, `<dir>/etc/…`; every path they report is
 * the host's own path, never prefixed with `dir`.
 */
export class HostRoot {
  /** Absolute, normalised folder (`/` for the machine itself). */
  readonly dir: string;

  constructor(dir = '/') {
    if (!isAbsolute(dir)) throw new StkError('STK_ERR_CONFIG', `--host-root must be an absolute path, got ${dir}`, { field: 'hostRoot', value: dir });
    this.dir = resolve(dir);
  }

  /** Checks that `dir` is a folder and returns the HostRoot for it. */
  static async open(dir = '/'): Promise<HostRoot> {
    const root = new HostRoot(dir);
    const st = await stat(root.dir).catch(() => null);
    if (!st?.isDirectory()) throw new StkError('STK_ERR_CONFIG', `--host-root ${dir} is not a folder`, { field: 'hostRoot', value: dir });
    return root;
  }

  /** The path on this machine of a host path; `..` never climbs above the root. */
  path(hostPath: string): string {
    const clean = posix.resolve('/', hostPath);
    return this.dir === '/' ? clean : join(this.dir, clean);
  }

  /**
   * Resolves every symlink of a host path as if the root were `/` (an absolute link target starts
   * again at the root, `..` stops at it), so a link in a prepared or mounted root can never lead
   * to the machine's own files. Returns the resolved host path; rejects with an errno-coded error
   * (`ENOENT`, `ELOOP`, `ENOTDIR`) like the kernel would.
   */
  async resolveInRoot(hostPath: string): Promise<string> {
    const done: string[] = [];
    const todo = posix.resolve('/', hostPath).split('/').filter(Boolean);
    let links = 0;
    while (todo.length > 0) {
      const part = todo.shift()!;
      if (part === '.') continue;
      if (part === '..') {
        done.pop();
        continue;
      }
      const candidate = `/${[...done, part].join('/')}`;
      let st: Awaited<ReturnType<typeof lstat>>;
      try {
        st = await lstat(this.path(candidate));
      } catch (err) {
        throw fsError((err as NodeJS.ErrnoException).code ?? 'ENOENT', candidate);
      }
      if (st.isSymbolicLink()) {
        if (++links > MAX_SYMLINKS) throw fsError('ELOOP', hostPath);
        const target = await readlink(this.path(candidate));
        if (target.startsWith('/')) done.length = 0;
        todo.unshift(...target.split('/').filter(Boolean));
        continue;
      }
      if (todo.length > 0 && !st.isDirectory()) throw fsError('ENOTDIR', candidate);
      done.push(part);
    }
    return `/${done.join('/')}`;
  }
}

/**
 * The text of a regular file under the root (symlinks resolved inside it), or null when it is
 * missing or not a regular file. Larger than `maxBytes` throws STK_ERR_AGENT_HOST_UNREADABLE:
 * an /etc file that size is not something to parse half of.
 */
export async function readHostText(root: HostRoot, hostPath: string, maxBytes = 4 * 1024 * 1024): Promise<string | null> {
  let real: string;
  try {
    real = root.path(await root.resolveInRoot(hostPath));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return null;
    throw new StkError('STK_ERR_AGENT_HOST_UNREADABLE', `cannot read ${hostPath}`, { path: hostPath }, { cause: err });
  }
  const st = await stat(real).catch(() => null);
  if (!st?.isFile()) return null;
  if (st.size > maxBytes)
    throw new StkError('STK_ERR_AGENT_HOST_UNREADABLE', `${hostPath} is larger than ${maxBytes} bytes`, { path: hostPath, maxBytes, sizeBytes: st.size });
  try {
    return await readFile(real, 'utf8');
  } catch (err) {
    if (isGone(err)) return null;
    throw new StkError('STK_ERR_AGENT_HOST_UNREADABLE', `cannot read ${hostPath}`, { path: hostPath }, { cause: err });
  }
}

/** The names in a folder under the root (symlinks resolved inside it); null when it is not a folder. */
export async function listHostDir(root: HostRoot, hostPath: string): Promise<string[] | null> {
  try {
    return await readdir(root.path(await root.resolveInRoot(hostPath)));
  } catch {
    return null;
  }
}

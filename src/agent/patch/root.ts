import { lstat, mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, posix, resolve } from 'node:path';
import { StkError } from '../../errors.ts';
import { toolEnv } from './exec.ts';

/**
 * The host whose packages the patch agent reads and changes, as a root folder: `/` for the machine
 * the agent runs on, or another folder (a mounted host, a prepared root in tests).
 *
 * For a root other than `/`, apt runs with `APT_CONFIG` pointing at a file written for that root:
 * apt reads `APT_CONFIG` first, and `Dir` set there moves *everything* apt reads and writes under
 * the root — its configuration parts (`etc/apt/apt.conf.d`, so the machine's own hooks such as
 * `DPkg::Post-Invoke` never run), sources, lists, cache, logs, `extended_states` and the dpkg
 * status it reads. Passing the same settings as `-o` options would not do: apt reads the
 * machine's `/etc/apt/apt.conf.d` before it parses its command line. dpkg is the machine's own
 * `/usr/bin/dpkg` told `--root=<root>` (its database, files and maintainer-script chroot under the
 * root) and `--log=<root>/var/log/dpkg.log` (without it dpkg appends to the machine's own log).
 */
export interface HostRoot {
  /** Absolute, normalised; `/` for the machine itself. */
  root: string;
  /** The dpkg database folder under the root. */
  admindir: string;
  /** Environment for apt-get/apt-cache (tool environment plus `APT_CONFIG` for a root other than `/`). */
  aptEnv: Record<string, string>;
  /** Options for dpkg and dpkg-query acting on this root. */
  dpkgArgs: string[];
  /** Removes the generated apt configuration. */
  close(): Promise<void>;
}

// Refused in a root path: anything that could end an apt.conf string or a line.
const UNSAFE_ROOT = /["\\\p{Cc}]/u;

/** Opens a host root for the patch agent: checks it holds a dpkg database and writes its apt configuration. */
export async function openHostRoot(root = '/'): Promise<HostRoot> {
  if (typeof root !== 'string' || !isAbsolute(root) || UNSAFE_ROOT.test(root)) {
    throw new StkError('STK_ERR_PATCH_ROOT_INVALID', 'the host root must be an absolute path without quotes or control characters', { root: String(root) });
  }
  const normal = resolve(root);
  const admindir = join(normal, 'var/lib/dpkg');
  const status = await stat(join(admindir, 'status')).catch(() => null);
  if (!status?.isFile()) throw new StkError('STK_ERR_PATCH_ROOT_INVALID', `no dpkg database under ${normal}`, { root: normal });
  if (normal === '/') {
    // The machine itself: apt as the administrator configured it, including an APT_CONFIG of theirs.
    const inherited = process.env.APT_CONFIG;
    return {
      root: normal,
      admindir,
      aptEnv: toolEnv(inherited !== undefined ? { APT_CONFIG: inherited } : {}),
      dpkgArgs: [],
      close: async () => {},
    };
  }
  const dir = await mkdtemp(join(tmpdir(), 'stk-apt-'));
  const conf = join(dir, 'apt.conf');
  await writeFile(
    conf,
    [
      `Dir "${normal}/";`,
      'Dir::Bin::dpkg "/usr/bin/dpkg";',
      `DPkg::Options { "--root=${normal}"; "--log=${join(normal, 'var/log/dpkg.log')}"; };`,
      // The unprivileged _apt user of this machine may not be able to read a root folder that only
      // root can enter; apt would fall back with a warning on every run.
      'APT::Sandbox::User "root";',
      '',
    ].join('\n'),
  );
  return {
    root: normal,
    admindir,
    aptEnv: toolEnv({ APT_CONFIG: conf }),
    dpkgArgs: [`--root=${normal}`, `--log=${join(normal, 'var/log/dpkg.log')}`],
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * The path on this machine of `path` as seen from inside `root`: symbolic links are followed as a
 * chroot would follow them, so an absolute link (`var/run -> /run`) stays under the root instead
 * of reaching the machine's own files, and `..` never climbs above the root.
 */
export async function resolveInRoot(root: string, path: string): Promise<string> {
  if (root === '/') return path;
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  const done: string[] = [];
  let links = 0;
  while (parts.length > 0) {
    const part = parts.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    const here = join(root, ...done, part);
    const st = await lstat(here).catch(() => null);
    if (st?.isSymbolicLink()) {
      if (++links > 40) return here;
      const target = await readlink(here);
      const targetParts = target.split('/').filter((p) => p !== '' && p !== '.');
      if (target.startsWith('/')) done.length = 0;
      parts.unshift(...targetParts);
      continue;
    }
    done.push(part);
  }
  return join(root, posix.join('/', ...done));
}

/** Reads a text file as seen from inside the root; null when it does not exist. */
export async function readInRoot(root: string, path: string): Promise<string | null> {
  const real = await resolveInRoot(root, path);
  return readFile(real, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return null;
    throw err;
  });
}

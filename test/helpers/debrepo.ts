/**
 * Real Debian packaging for the patch tests: .debs built with `dpkg-deb --build`, a local `file:`
 * apt repository made with `apt-ftparchive`, and a prepared root (a minimal dpkg database and apt
 * folders in a temp folder) that dpkg and apt act on through `--root` and `Dir`. Nothing here
 * touches the machine's own packages, apt state or dpkg log.
 *
 * Why the minimal root is enough: dpkg with `--root` reads and writes only `<root>/var/lib/dpkg`
 * and the files it unpacks under `<root>`; it chroots only to run maintainer scripts, and the test
 * packages have none, so the root needs no shell or libc. apt with `Dir` set through APT_CONFIG
 * needs only its own folders (etc/apt, var/lib/apt/lists, var/cache/apt/archives, var/log/apt)
 * and the status file. What the root does not test is a package whose maintainer scripts run.
 */
import { execFile, spawn } from 'node:child_process';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

const run = promisify(execFile);
const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' };

export interface DebSpec {
  name: string;
  version: string;
  source?: string;
  depends?: string;
  /** Extra control fields (copied into the Packages index by apt-ftparchive). */
  fields?: Record<string, string>;
  /** Files to ship, path under the root → content. */
  files?: Record<string, string>;
  /** Entries of `changelog.Debian.gz`, newest first: `[version, distribution, change text]`. */
  changelog?: Array<[string, string, string]>;
}

/** Builds a .deb in `dir` and returns its path. */
export async function buildDeb(dir: string, spec: DebSpec): Promise<string> {
  const tree = join(dir, `tree-${spec.name}-${spec.version}`);
  await mkdir(join(tree, 'DEBIAN'), { recursive: true });
  const control = [
    `Package: ${spec.name}`,
    `Version: ${spec.version}`,
    'Architecture: all',
    'Maintainer: Stockade Tests <tests@example.invalid>',
    ...(spec.source ? [`Source: ${spec.source}`] : []),
    ...(spec.depends ? [`Depends: ${spec.depends}`] : []),
    'Section: misc',
    'Priority: optional',
    ...Object.entries(spec.fields ?? {}).map(([k, v]) => `${k}: ${v}`),
    `Description: Stockade patch test package ${spec.name}`,
    ' Built by the tests.',
    '',
  ].join('\n');
  await writeFile(join(tree, 'DEBIAN/control'), control);
  for (const [path, content] of Object.entries(spec.files ?? {})) {
    await mkdir(dirname(join(tree, path)), { recursive: true });
    await writeFile(join(tree, path), content);
  }
  if (spec.changelog) {
    const text = spec.changelog
      .map(
        ([v, dist, change]) =>
          `${spec.source ?? spec.name} (${v}) ${dist}; urgency=high\n\n  * ${change}\n\n -- Stockade Tests <tests@example.invalid>  Mon, 01 Jan 2024 00:00:00 +0000\n`,
      )
      .join('\n');
    await mkdir(join(tree, 'usr/share/doc', spec.name), { recursive: true });
    await writeFile(join(tree, 'usr/share/doc', spec.name, 'changelog.Debian.gz'), gzipSync(text, { level: 9 }));
  }
  const deb = join(dir, `${spec.name}_${spec.version}_all.deb`);
  await run('dpkg-deb', ['--root-owner-group', '--build', tree, deb], { env: ENV });
  return deb;
}

export interface ReleaseSpec {
  origin: string;
  label: string;
  suite: string;
  codename: string;
}

/** Makes a flat `file:` repository of copies of `debs` in `dir` (Packages + an unsigned Release); returns its sources line. */
export async function makeRepo(dir: string, debs: string[], release: ReleaseSpec): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const deb of debs) await copyFile(deb, join(dir, basename(deb)));
  const packages = await run('apt-ftparchive', ['packages', '.'], { cwd: dir, env: ENV });
  await writeFile(join(dir, 'Packages'), packages.stdout);
  const rel = await run(
    'apt-ftparchive',
    [
      '-o',
      `APT::FTPArchive::Release::Origin=${release.origin}`,
      '-o',
      `APT::FTPArchive::Release::Label=${release.label}`,
      '-o',
      `APT::FTPArchive::Release::Suite=${release.suite}`,
      '-o',
      `APT::FTPArchive::Release::Codename=${release.codename}`,
      'release',
      '.',
    ],
    { cwd: dir, env: ENV },
  );
  await writeFile(join(dir, 'Release'), rel.stdout);
  // Unsigned on purpose: the prepared root's sources line says [trusted=yes].
  return `deb [trusted=yes] file:${dir} ./`;
}

/** Creates the smallest root dpkg and apt work in, with the given sources lines. */
export async function prepareRoot(root: string, sources: string[]): Promise<void> {
  for (const d of [
    'var/lib/dpkg/info',
    'var/lib/dpkg/updates',
    'var/lib/dpkg/triggers',
    'var/lib/apt/lists/partial',
    'var/cache/apt/archives/partial',
    'var/log/apt',
    'etc/apt/apt.conf.d',
    'etc/apt/preferences.d',
    'etc/apt/sources.list.d',
  ])
    await mkdir(join(root, d), { recursive: true });
  await writeFile(join(root, 'var/lib/dpkg/status'), '');
  await writeFile(join(root, 'var/lib/dpkg/available'), '');
  await writeFile(join(root, 'etc/apt/sources.list'), `${sources.join('\n')}\n`);
}

/** Installs .debs into the root with dpkg itself (`--root`, and `--log` so the machine's dpkg.log stays untouched). */
export async function dpkgInstall(root: string, debs: string[]): Promise<void> {
  await run('dpkg', [`--root=${root}`, `--log=${join(root, 'var/log/dpkg.log')}`, '-i', ...debs], { env: ENV });
}

/** The packages and repositories the patch tests share; roots are made fresh per test. */
export interface PatchRepoFixture {
  dir: string;
  /** Sources lines: the stable repository and the security repository. */
  sources: string[];
  /** The v1 .debs (stk-demo, stk-other, stk-broken at 1.0). */
  v1: string[];
  /** A new prepared root with every v1 installed. */
  freshRoot(): Promise<string>;
  cleanup(): Promise<void>;
}

/**
 * Three packages at 1.0 in a `stable` repository, and their 1.1:
 * - stk-demo 1.1 only in a `stable-security` / `Debian-Security` repository, its changelog naming
 *   two CVEs (and, in its 1.0 entry, one the installed version already had);
 * - stk-other 1.1 in `stable`, with a `CVE-Ids` field in its control (so in the Packages index);
 * - stk-broken 1.1 in `stable`, depending on a package no repository has (apt keeps it back).
 */
export async function patchRepoFixture(dir: string): Promise<PatchRepoFixture> {
  const build = join(dir, 'build');
  const demo = (v: string, changelog: Array<[string, string, string]>): DebSpec => ({
    name: 'stk-demo',
    version: v,
    source: 'stk-demo-src',
    files: { 'usr/share/stk-demo/VERSION': `stk-demo ${v}\n` },
    changelog,
  });
  const first: Array<[string, string, string]> = [['1.0', 'stable', 'Initial release; upstream had fixed CVE-2020-0001.']];
  const v1 = [
    await buildDeb(build, demo('1.0', first)),
    await buildDeb(build, { name: 'stk-other', version: '1.0', files: { 'usr/share/stk-other/VERSION': '1.0\n' } }),
    await buildDeb(build, { name: 'stk-broken', version: '1.0' }),
  ];
  const demo11 = await buildDeb(build, demo('1.1', [['1.1', 'stable-security', 'Fix CVE-2024-12345 and CVE-2024-23456.'], ...first]));
  const other11 = await buildDeb(build, {
    name: 'stk-other',
    version: '1.1',
    fields: { 'CVE-Ids': 'CVE-2023-9999' },
    files: { 'usr/share/stk-other/VERSION': '1.1\n' },
  });
  const broken11 = await buildDeb(build, { name: 'stk-broken', version: '1.1', depends: 'stk-missing' });
  const sources = [
    await makeRepo(join(dir, 'repo-stable'), [...v1, other11, broken11], { origin: 'Debian', label: 'Debian', suite: 'stable', codename: 'bookworm' }),
    await makeRepo(join(dir, 'repo-security'), [demo11], {
      origin: 'Debian',
      label: 'Debian-Security',
      suite: 'stable-security',
      codename: 'bookworm-security',
    }),
  ];
  let n = 0;
  return {
    dir,
    sources,
    v1,
    async freshRoot() {
      const root = join(dir, `root-${++n}`);
      await prepareRoot(root, sources);
      await dpkgInstall(root, v1);
      return root;
    },
    cleanup: async () => {},
  };
}

/** Puts packages on hold in the root (`dpkg --set-selections`), as `apt-mark hold` would. */
export async function dpkgHold(root: string, packages: string[]): Promise<void> {
  const child = spawn('dpkg', [`--root=${root}`, '--set-selections'], { env: ENV, stdio: ['pipe', 'ignore', 'inherit'] });
  child.stdin.end(packages.map((p) => `${p} hold\n`).join(''));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`dpkg --set-selections exited with ${code}`);
}

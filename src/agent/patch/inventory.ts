import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { clearsignedBody, parseDeb822 } from './deb822.ts';
import { parseIndexTargets, parsePolicy, parseShowpkgVersions, parseSimulation, type IndexTarget, type SimulatedChange } from './apt-output.ts';
import { lookUpCves, type CveMode } from './cve.ts';
import { runTool, runToolOk } from './exec.ts';
import { openHostRoot, readInRoot, type HostRoot } from './root.ts';
import { compareVersions } from './version.ts';

/** A package dpkg has (at least partly) installed. */
export interface InstalledPackage {
  name: string;
  version: string;
  architecture: string;
  /** Source package and version (dpkg fills them in with the binary's own when they are the same). */
  source: string;
  sourceVersion: string;
  /** dpkg's status: `installed`, or a half-done state (`unpacked`, `half-configured`, …). */
  status: string;
  /** The administrator put the package on hold: apt upgrades it only when named explicitly. */
  held: boolean;
}

/** A release (Release file) that offers a package version. */
export interface ReleaseRef {
  origin: string;
  label: string;
  suite: string;
  codename: string;
  site: string;
  component: string;
  trusted: boolean;
  /** The Release file's `Date` (ISO), or null when the file is missing or has none. */
  date: string | null;
}

/** An installed package with a newer candidate version. */
export interface PendingUpgrade {
  /** As apt names it: `name`, or `name:arch` for a foreign architecture. */
  package: string;
  architecture: string;
  from: string;
  to: string;
  /** One of the releases offering `to` is a security archive. */
  security: boolean;
  releases: ReleaseRef[];
  /**
   * The earliest `Date` of the Release files listing `to`: the candidate was published no later
   * than this, so `now - publishedBy` never overstates how long the fix has been available.
   */
  publishedBy: string | null;
  /** apt's full upgrade would not take it (on hold, or blocked by dependencies). */
  keptBack: boolean;
  cves: string[];
}

/** What the patch agent reports about one host. */
export interface PatchInventory {
  kind: 'patch-inventory';
  takenAt: string;
  os: { id: string; versionId: string; codename: string; prettyName: string } | null;
  packages: InstalledPackage[];
  upgrades: PendingUpgrade[];
  /** Packages the full upgrade would newly install (new dependencies) or remove. */
  newInstalls: string[];
  removals: string[];
  reboot: { required: boolean; packages: string[] };
  /** False when `apt-get update` failed or was not asked for: the upgrades are as of the last refresh. */
  listsRefreshed: boolean;
  warnings: string[];
}

export interface InventoryOptions {
  /** The host root. @defaultValue '/' */
  root?: string;
  /** Run `apt-get update` first. @defaultValue true */
  refresh?: boolean;
  /** Where CVE ids come from (see cve.ts). @defaultValue 'changelog' */
  cve?: CveMode;
  /** Which upgrades get their .deb downloaded for the changelog; the index is read for all. @defaultValue 'security' */
  changelogFor?: 'security' | 'all';
  maxDebBytes?: number;
  /** CVE results kept across inventories, keyed `name=version`. */
  cveCache?: Map<string, string[]>;
  /** Which releases count as security archives. @defaultValue {@link isSecurityRelease} */
  isSecurity?: (r: ReleaseRef) => boolean;
  /** How long apt waits for the dpkg lock before failing. @defaultValue 120 */
  lockTimeoutSeconds?: number;
  /** The clock, as data. @defaultValue () => new Date() */
  now?: () => Date;
}

/**
 * Debian's and Ubuntu's security archives: a suite or codename ending in `-security`
 * (`bookworm-security`, `jammy-security`) or a label naming security (`Debian-Security`, which also
 * covers the old `buster/updates` suites).
 */
export function isSecurityRelease(r: ReleaseRef): boolean {
  return /-security$/.test(r.suite) || /-security$/.test(r.codename) || /security/i.test(r.label);
}

/** dpkg-query's `-f` format: one tab-separated line per package. */
const QUERY_FIELDS = ['Package', 'Version', 'Architecture', 'source:Package', 'source:Version', 'db:Status-Want', 'db:Status-Status'];
const QUERY_FORMAT = `${QUERY_FIELDS.map((f) => `\${${f}}`).join('\t')}\n`;
const GONE = new Set(['not-installed', 'config-files']);

/** The packages installed under the host root, from `dpkg-query` (which also reads dpkg's pending journal in `updates/`). */
export async function listInstalled(host: HostRoot): Promise<InstalledPackage[]> {
  const run = await runToolOk('dpkg-query', [`--admindir=${host.admindir}`, '-W', `-f=${QUERY_FORMAT}`], { env: host.aptEnv });
  const out: InstalledPackage[] = [];
  for (const line of run.stdout.split('\n')) {
    const f = line.split('\t');
    if (f.length < 7 || GONE.has(f[6]!)) continue;
    out.push({ name: f[0]!, version: f[1]!, architecture: f[2]!, source: f[3] || f[0]!, sourceVersion: f[4] || f[1]!, status: f[6]!, held: f[5] === 'hold' });
  }
  return out;
}

/** Takes an inventory of the host under `options.root`. */
export async function takeInventory(options: InventoryOptions = {}): Promise<PatchInventory> {
  const host = await openHostRoot(options.root ?? '/');
  try {
    return await inventoryOf(host, options);
  } finally {
    await host.close();
  }
}

/** The inventory of an opened host root (install-patches reuses the opened root). */
export async function inventoryOf(host: HostRoot, options: InventoryOptions = {}): Promise<PatchInventory> {
  const warnings: string[] = [];
  const lock = ['-o', `DPkg::Lock::Timeout=${options.lockTimeoutSeconds ?? 120}`];
  const packages = await listInstalled(host);
  let listsRefreshed = false;
  if (options.refresh ?? true) {
    const update = await runTool('apt-get', [...lock, '-q', 'update'], { env: host.aptEnv });
    listsRefreshed = update.exitCode === 0 && !/^[WE]: (Failed to fetch|Some index files failed to download)/m.test(update.output);
    if (!listsRefreshed) warnings.push(`apt-get update failed, upgrades are as of the last refresh: ${update.output.slice(-500)}`);
  }
  const sim = parseSimulation((await runToolOk('apt-get', [...lock, '-s', '-q', 'dist-upgrade'], { env: host.aptEnv })).stdout);
  const changes: Array<SimulatedChange & { keptBack: boolean }> = sim.upgrades.map((u) => ({ ...u, keptBack: false }));
  if (sim.keptBack.length > 0) {
    const policy = parsePolicy((await runToolOk('apt-cache', ['policy', ...sim.keptBack], { env: host.aptEnv })).stdout);
    for (const [name, p] of policy) {
      if (p.installed && p.candidate && compareVersions(p.candidate, p.installed) > 0) {
        const installed = packages.find((x) => x.name === name.split(':')[0]);
        changes.push({ package: name, from: p.installed, to: p.candidate, architecture: installed?.architecture ?? '', releases: '', keptBack: true });
      }
    }
  }
  const releasesOf = await releaseIndex(host, changes, warnings);
  const isSecurity = options.isSecurity ?? isSecurityRelease;
  const upgrades: PendingUpgrade[] = changes.map((c) => {
    const releases = releasesOf(c.package, c.to);
    const dates = releases.map((r) => r.date).filter((d): d is string => d !== null);
    return {
      package: c.package,
      architecture: c.architecture,
      from: c.from!,
      to: c.to,
      security: releases.some(isSecurity),
      releases,
      publishedBy: dates.length > 0 ? dates.sort()[0]! : null,
      keptBack: c.keptBack,
      cves: [],
    };
  });
  const mode = options.cve ?? 'changelog';
  if (mode !== 'off') {
    const forChangelog = options.changelogFor === 'all' ? upgrades : upgrades.filter((u) => u.security);
    const cveOptions = {
      ...(options.maxDebBytes !== undefined ? { maxDebBytes: options.maxDebBytes } : {}),
      ...(options.cveCache ? { cache: options.cveCache } : {}),
    };
    const fromChangelog = await lookUpCves(host, forChangelog, { mode, ...cveOptions });
    const rest = upgrades.filter((u) => !forChangelog.includes(u));
    const fromIndex = await lookUpCves(host, rest, { mode: 'index', ...cveOptions });
    warnings.push(...fromChangelog.warnings, ...fromIndex.warnings);
    for (const u of upgrades) u.cves = fromChangelog.cves.get(`${u.package}=${u.to}`) ?? fromIndex.cves.get(`${u.package}=${u.to}`) ?? [];
  }
  return {
    kind: 'patch-inventory',
    takenAt: (options.now ?? (() => new Date()))().toISOString(),
    os: await osRelease(host.root),
    packages,
    upgrades,
    newInstalls: sim.installs.map((i) => i.package),
    removals: sim.removals.map((r) => r.package),
    reboot: await rebootState(host.root),
    listsRefreshed,
    // Bounded like everything an agent reports: the first hundred say enough.
    warnings: warnings.slice(0, 100).map((w) => w.slice(0, 2000)),
  };
}

/**
 * Which releases offer each candidate: `apt-cache showpkg` names the list files a version is in,
 * `apt-get indextargets` names the release (origin, label, suite) of each list file, and the
 * Release file beside the list gives its date.
 */
async function releaseIndex(host: HostRoot, changes: SimulatedChange[], warnings: string[]): Promise<(pkg: string, version: string) => ReleaseRef[]> {
  if (changes.length === 0) return () => [];
  const names = [...new Set(changes.map((c) => c.package))];
  const versions = parseShowpkgVersions((await runToolOk('apt-cache', ['showpkg', ...names], { env: host.aptEnv })).stdout);
  const targets = parseIndexTargets((await runToolOk('apt-get', ['indextargets'], { env: host.aptEnv })).stdout);
  const byFile = new Map<string, ReleaseRef>();
  const dates = new Map<string, Promise<string | null>>();
  for (const t of targets) {
    const releaseFile = releaseFileOf(t);
    if (!dates.has(releaseFile)) dates.set(releaseFile, releaseDate(releaseFile));
    const date = await dates.get(releaseFile)!;
    if (date === null) warnings.push(`no Release date for ${t.filename}`);
    byFile.set(t.filename, {
      origin: t.origin,
      label: t.label,
      suite: t.suite,
      codename: t.codename,
      site: t.site,
      component: t.component,
      trusted: t.trusted,
      date,
    });
  }
  return (pkg, version) => {
    const files = versions.get(pkg)?.get(version) ?? [];
    return files.map((f) => byFile.get(f)).filter((r): r is ReleaseRef => r !== undefined);
  };
}

/** The (In)Release file of a list: the list's file name is the mangled URI of its release's base followed by its MetaKey. */
function releaseFileOf(t: IndexTarget): string {
  const name = basename(t.filename).replace(/\.(lz4|gz|xz|zst|bz2|lzma)$/, '');
  const suffix = t.metaKey.replace(/\//g, '_');
  const prefix = name.endsWith(suffix) ? name.slice(0, name.length - suffix.length) : name;
  return join(dirname(t.filename), prefix);
}

async function releaseDate(prefix: string): Promise<string | null> {
  for (const name of ['InRelease', 'Release']) {
    const text = await readFile(prefix + name, 'utf8').catch(() => null);
    if (text === null) continue;
    const date = parseDeb822(clearsignedBody(text))[0]?.Date;
    const ms = date ? Date.parse(date) : Number.NaN;
    return Number.isNaN(ms) ? null : new Date(ms).toISOString();
  }
  return null;
}

/** `/run/reboot-required` (Debian's and Ubuntu's flag, written by the postinst of kernel, libc and the like) and its `.pkgs` list. */
async function rebootState(root: string): Promise<{ required: boolean; packages: string[] }> {
  const flag = await readInRoot(root, '/var/run/reboot-required');
  const pkgs = await readInRoot(root, '/var/run/reboot-required.pkgs');
  const packages = [
    ...new Set(
      (pkgs ?? '')
        .split('\n')
        .map((l) => l.trim().slice(0, 256))
        .filter(Boolean),
    ),
  ]
    .sort()
    .slice(0, 1000);
  return { required: flag !== null, packages };
}

async function osRelease(root: string): Promise<PatchInventory['os']> {
  const text = (await readInRoot(root, '/etc/os-release')) ?? (await readInRoot(root, '/usr/lib/os-release'));
  if (text === null) return null;
  const fields: Record<string, string> = {};
  for (const m of text.matchAll(/^([A-Z_]+)=("?)(.*)\2$/gm)) fields[m[1]!] = m[3]!;
  return { id: fields.ID ?? '', versionId: fields.VERSION_ID ?? '', codename: fields.VERSION_CODENAME ?? '', prettyName: fields.PRETTY_NAME ?? '' };
}

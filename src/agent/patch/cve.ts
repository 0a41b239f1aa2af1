/**
 * CVE ids of pending upgrades, from what the distribution itself publishes. Two sources:
 *
 * - the candidate's stanza in the Packages index (`apt-cache show name=version`): every field is
 *   searched for `CVE-YYYY-N…`. Debian's and Ubuntu's own indexes name no CVEs, but some vendor
 *   repositories put them in the description or a `CVE`-style field; this costs one apt-cache run.
 * - the candidate's `changelog.Debian.gz` inside its .deb (downloaded with `apt-get download` into
 *   a temp folder, so apt's sources, proxies and hash checks apply; nothing under the root
 *   changes). The entries between the installed and the candidate version are searched: Debian's
 *   and Ubuntu's security uploads name the CVEs they fix there. Limits: a .deb larger than
 *   `maxDebBytes` is skipped (a kernel image is tens of MB); a package whose
 *   `/usr/share/doc/<name>` is a link to another package's folder carries no changelog, so it
 *   gets only what the index says; ids are what the maintainer wrote, not a vulnerability
 *   database's view. Results are keyed `name=version` in the caller's cache so a version is
 *   fetched once.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { cvesFixedBetween, cveIds, parseChangelog } from './changelog.ts';
import { parseDeb822 } from './deb822.ts';
import { parsePrintUris } from './apt-output.ts';
import { runTool } from './exec.ts';
import type { HostRoot } from './root.ts';

export type CveMode = 'changelog' | 'index' | 'off';

export interface CveRequest {
  package: string;
  from: string | null;
  to: string;
}

export interface CveOptions {
  mode: CveMode;
  /** .debs larger than this are not downloaded for their changelog. @defaultValue 32 MiB */
  maxDebBytes?: number;
  /** Results kept across inventories, keyed `name=version`. */
  cache?: Map<string, string[]>;
}

/** CVE ids per `name=version` of the requested upgrades; warnings say what could not be looked at. */
export async function lookUpCves(host: HostRoot, requests: CveRequest[], options: CveOptions): Promise<{ cves: Map<string, string[]>; warnings: string[] }> {
  const cves = new Map<string, string[]>();
  const warnings: string[] = [];
  if (options.mode === 'off' || requests.length === 0) return { cves, warnings };
  const todo = requests.filter((r) => {
    const hit = options.cache?.get(key(r));
    if (hit) cves.set(key(r), hit);
    return !hit;
  });
  if (todo.length === 0) return { cves, warnings };

  const add = (k: string, ids: string[]): void => {
    cves.set(k, [...new Set([...(cves.get(k) ?? []), ...ids])].sort());
  };
  const show = await runTool('apt-cache', ['show', ...todo.map(key)], { env: host.aptEnv });
  for (const s of parseDeb822(show.stdout)) {
    if (!s.Package || !s.Version) continue;
    const ids = cveIds(Object.values(s).join('\n'));
    const r = todo.find((t) => bare(t.package) === s.Package && t.to === s.Version);
    if (r) add(key(r), ids);
  }

  if (options.mode === 'changelog') {
    const max = options.maxDebBytes ?? 32 * 1024 * 1024;
    const dir = await mkdtemp(join(tmpdir(), 'stk-deb-'));
    try {
      const uris = await runTool('apt-get', ['--print-uris', 'download', ...todo.map(key)], { env: host.aptEnv });
      const planned = parsePrintUris(uris.stdout);
      const wanted = todo.filter((r) => {
        const file = planned.find((p) => p.filename.startsWith(debPrefix(r)));
        if (!file) warnings.push(`no download for ${key(r)}: changelog not read`);
        else if (file.sizeBytes > max) warnings.push(`${key(r)} is ${file.sizeBytes} bytes, above ${max}: changelog not read`);
        return file !== undefined && file.sizeBytes <= max;
      });
      if (wanted.length > 0) await runTool('apt-get', ['download', ...wanted.map(key)], { env: host.aptEnv, cwd: dir });
      for (const r of wanted) {
        const file = planned.find((p) => p.filename.startsWith(debPrefix(r)))!;
        const deb = join(dir, file.filename);
        if (!(await stat(deb).catch(() => null))) {
          warnings.push(`${key(r)} could not be downloaded: changelog not read`);
          continue;
        }
        const text = await changelogOf(deb, bare(r.package));
        if (text === null) warnings.push(`${key(r)} ships no changelog.Debian.gz of its own`);
        else add(key(r), cvesFixedBetween(parseChangelog(text), r.from, r.to));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  for (const r of todo) {
    const ids = cves.get(key(r)) ?? [];
    cves.set(key(r), ids);
    options.cache?.set(key(r), ids);
  }
  return { cves, warnings };
}

function key(r: CveRequest): string {
  return `${r.package}=${r.to}`;
}

function bare(pkg: string): string {
  const colon = pkg.indexOf(':');
  return colon === -1 ? pkg : pkg.slice(0, colon);
}

/** apt names a downloaded .deb `<name>_<version, ':' as %3a>_<arch>.deb`. */
function debPrefix(r: CveRequest): string {
  return `${bare(r.package)}_${r.to.replace(/:/g, '%3a')}_`;
}

/**
 * The Debian changelog inside a .deb: `dpkg-deb --fsys-tarfile` piped (by us, not a shell) into
 * `tar -xO` of the member; binNMU changelogs (`changelog.Debian.<arch>.gz`) come along.
 */
async function changelogOf(deb: string, name: string): Promise<string | null> {
  const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' };
  const dpkgDeb = spawn('dpkg-deb', ['--fsys-tarfile', deb], { env, stdio: ['ignore', 'pipe', 'ignore'] });
  const tar = spawn('tar', ['-xO', '--wildcards', '--no-wildcards-match-slash', `./usr/share/doc/${name}/changelog.Debian*.gz`], {
    env,
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const failed = new Promise<null>((resolve) => {
    dpkgDeb.on('error', () => resolve(null));
    tar.on('error', () => resolve(null));
  });
  dpkgDeb.stdout.pipe(tar.stdin);
  // tar stops reading once it is done; dpkg-deb then gets EPIPE, which is not an error here.
  tar.stdin.on('error', () => {});
  const chunks: Buffer[] = [];
  let bytes = 0;
  tar.stdout.on('data', (c: Buffer) => {
    bytes += c.length;
    if (bytes <= 16 * 1024 * 1024) chunks.push(c);
  });
  const done = Promise.all([new Promise((r) => dpkgDeb.on('close', r)), new Promise((r) => tar.on('close', r))]);
  if ((await Promise.race([done, failed])) === null || chunks.length === 0) return null;
  try {
    return gunzipSync(Buffer.concat(chunks), { maxOutputLength: 64 * 1024 * 1024 }).toString('utf8');
  } catch {
    return null;
  }
}

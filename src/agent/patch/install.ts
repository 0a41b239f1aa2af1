/**
 * The `install-patches` command: upgrades all pending security updates, or named packages, with
 * apt-get run non-interactively, one package per run so each has its own exit status and output.
 *
 * Each run asks for an exact version (`name=version`, the candidate found before any change) with
 * `--only-upgrade`, so a name can only ever upgrade a package that is installed: nothing new is
 * installed by name, nothing is downgraded, and apt's name suffixes (`foo-` removes, `foo+`
 * installs) and regular-expression matching never come into play. Names are checked against the
 * Debian pattern before any tool runs, and tools run without a shell.
 */
import { StkError } from '../../errors.ts';
import { parsePolicy, parseSimulation } from './apt-output.ts';
import type { CveMode } from './cve.ts';
import { runTool, runToolOk } from './exec.ts';
import { inventoryOf, listInstalled, type InstalledPackage, type PatchInventory } from './inventory.ts';
import { openHostRoot, readInRoot } from './root.ts';
import { assertPackageName, compareVersions } from './version.ts';

export interface InstallPatchesArgs {
  mode: 'security' | 'packages';
  /** With mode `packages`: the packages to upgrade (installed ones; `name` or `name:arch`). */
  packages?: string[];
  /** Simulate only (`apt-get -s`): nothing under the root changes. */
  dryRun: boolean;
}

export type PackageOutcome = 'upgraded' | 'would-upgrade' | 'up-to-date' | 'not-installed' | 'failed';

/** What happened to one package. */
export interface PackageResult {
  package: string;
  /** Installed version before the job; null when not installed. */
  from: string | null;
  /** The candidate version asked for; null when there was nothing to ask for. */
  target: string | null;
  /** Installed version after the run (for a dry run: the version apt would install). */
  to: string | null;
  outcome: PackageOutcome;
  /** apt-get's exit status; null when no command ran for this package (or it was ended by a signal). */
  exitCode: number | null;
  /** apt-get's output (stdout and stderr as they came), its tail when longer than the bound. */
  output: string;
  outputTruncated: boolean;
  /** Other packages the run changed (or would change): new dependencies, packages upgraded along. */
  alsoChanged: Array<{ package: string; from: string | null; to: string | null }>;
}

export interface InstallPatchesResult {
  mode: InstallPatchesArgs['mode'];
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  listsRefreshed: boolean;
  results: PackageResult[];
  /** Every package asked for ended upgraded, up to date, or (dry run) would upgrade. */
  succeeded: boolean;
  rebootRequired: boolean;
  /** The fresh inventory taken after a real run; null for a dry run or when not asked for. */
  inventory: PatchInventory | null;
}

export interface InstallOptions {
  /** The host root. @defaultValue '/' */
  root?: string;
  /** Run `apt-get update` first. @defaultValue true */
  refresh?: boolean;
  /** Bound of each package's reported output. @defaultValue 64 KiB */
  maxOutputBytes?: number;
  /** Per apt-get run; the run gets SIGTERM after it. @defaultValue 1 hour */
  timeoutMs?: number;
  /** How long apt waits for the dpkg lock. @defaultValue 300 */
  lockTimeoutSeconds?: number;
  /** Take a fresh inventory after a real run. @defaultValue true */
  inventoryAfter?: boolean;
  /** CVE source for that inventory. @defaultValue 'index' */
  cve?: CveMode;
  now?: () => Date;
}

const MAX_PACKAGES = 500;
const ARG_KEYS = new Set(['mode', 'packages', 'dryRun']);

function invalid(field: string, message: string): StkError {
  return new StkError('STK_ERR_VALIDATION', message, { field });
}

/** Checks the arguments of `install-patches`; throws STK_ERR_VALIDATION, or STK_ERR_PATCH_PACKAGE_INVALID for a bad name. */
export function validateInstallArgs(input: unknown): InstallPatchesArgs {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalid('args', 'install-patches takes an object');
  const a = input as Record<string, unknown>;
  for (const k of Object.keys(a)) if (!ARG_KEYS.has(k)) throw invalid(k, `unknown argument ${JSON.stringify(k.slice(0, 32))}`);
  if (a.mode !== 'security' && a.mode !== 'packages') throw invalid('mode', "mode is 'security' or 'packages'");
  if (typeof a.dryRun !== 'boolean') throw invalid('dryRun', 'dryRun must be true or false');
  if (a.mode === 'security') {
    if (a.packages !== undefined) throw invalid('packages', "packages are named only with mode 'packages'");
    return { mode: 'security', dryRun: a.dryRun };
  }
  if (!Array.isArray(a.packages) || a.packages.length === 0) throw invalid('packages', "mode 'packages' needs a non-empty list of packages");
  if (a.packages.length > MAX_PACKAGES) throw invalid('packages', `at most ${MAX_PACKAGES} packages`);
  for (const p of a.packages) assertPackageName(p);
  return { mode: 'packages', packages: [...new Set(a.packages as string[])], dryRun: a.dryRun };
}

function findInstalled(installed: InstalledPackage[], pkg: string): InstalledPackage | undefined {
  const [name, arch] = pkg.split(':');
  return installed.find((p) => p.name === name && (arch === undefined || p.architecture === arch));
}

/** Runs `install-patches` on the host under `options.root`. */
export async function installPatches(input: unknown, options: InstallOptions = {}): Promise<InstallPatchesResult> {
  const args = validateInstallArgs(input);
  const now = options.now ?? (() => new Date());
  const startedAt = now().toISOString();
  const host = await openHostRoot(options.root ?? '/');
  try {
    const lock = ['-o', `DPkg::Lock::Timeout=${options.lockTimeoutSeconds ?? 300}`];
    let listsRefreshed = false;
    if (options.refresh ?? true) listsRefreshed = (await runTool('apt-get', [...lock, '-q', 'update'], { env: host.aptEnv })).exitCode === 0;
    let installed = await listInstalled(host);
    const results: PackageResult[] = [];
    const targets: Array<{ package: string; from: string; to: string }> = [];
    const blank = { exitCode: null, output: '', outputTruncated: false, alsoChanged: [] };

    if (args.mode === 'security') {
      const inv = await inventoryOf(host, { refresh: false, cve: 'off' });
      for (const u of inv.upgrades) if (u.security) targets.push({ package: u.package, from: u.from, to: u.to });
    } else {
      const names = args.packages!.filter((p) => {
        if (findInstalled(installed, p)) return true;
        results.push({ package: p, from: null, target: null, to: null, outcome: 'not-installed', ...blank });
        return false;
      });
      const policy = names.length > 0 ? parsePolicy((await runToolOk('apt-cache', ['policy', ...names], { env: host.aptEnv })).stdout) : new Map();
      for (const p of names) {
        const from = findInstalled(installed, p)!.version;
        const candidate = policy.get(p)?.candidate ?? null;
        if (candidate === null || compareVersions(candidate, from) <= 0)
          results.push({ package: p, from, target: candidate, to: from, outcome: 'up-to-date', ...blank });
        else targets.push({ package: p, from, to: candidate });
      }
    }

    for (const t of targets) {
      if (!args.dryRun && findInstalled(installed, t.package)?.version === t.to) {
        // An earlier run of this job upgraded it as a dependency; its `alsoChanged` says which.
        results.push({ package: t.package, from: t.from, target: t.to, to: t.to, outcome: 'upgraded', ...blank });
        continue;
      }
      const run = await runTool(
        'apt-get',
        [
          ...lock,
          '-y',
          '-q',
          '-o',
          'Dpkg::Options::=--force-confdef',
          '-o',
          'Dpkg::Options::=--force-confold',
          ...(args.dryRun ? ['-s'] : []),
          'install',
          '--only-upgrade',
          `${t.package}=${t.to}`,
        ],
        { env: host.aptEnv, maxOutputBytes: options.maxOutputBytes ?? 64 * 1024, ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) },
      );
      const common = { package: t.package, from: t.from, target: t.to, exitCode: run.exitCode, output: run.output, outputTruncated: run.outputTruncated };
      if (args.dryRun) {
        const sim = parseSimulation(run.stdout);
        const own = sim.upgrades.find((u) => u.package === t.package);
        const alsoChanged: PackageResult['alsoChanged'] = [
          ...[...sim.upgrades, ...sim.installs].filter((u) => u !== own).map((u) => ({ package: u.package, from: u.from, to: u.to })),
          ...sim.removals.map((r) => ({ package: r.package, from: r.from, to: null })),
        ];
        results.push({ ...common, to: own?.to ?? null, outcome: run.exitCode === 0 && own?.to === t.to ? 'would-upgrade' : 'failed', alsoChanged });
        continue;
      }
      const after = await listInstalled(host);
      const to = findInstalled(after, t.package)?.version ?? null;
      results.push({
        ...common,
        to,
        outcome: run.exitCode === 0 && to === t.to ? 'upgraded' : 'failed',
        alsoChanged: changedBetween(installed, after, t.package),
      });
      installed = after;
    }

    if (args.packages) {
      const order = new Map(args.packages.map((p, i) => [p, i]));
      results.sort((a, b) => order.get(a.package)! - order.get(b.package)!);
    }
    const rebootRequired = (await readInRoot(host.root, '/var/run/reboot-required')) !== null;
    const inventory = !args.dryRun && (options.inventoryAfter ?? true) ? await inventoryOf(host, { refresh: false, cve: options.cve ?? 'index', now }) : null;
    return {
      mode: args.mode,
      dryRun: args.dryRun,
      startedAt,
      finishedAt: now().toISOString(),
      listsRefreshed,
      results,
      succeeded: results.every((r) => r.outcome !== 'failed'),
      rebootRequired,
      inventory,
    };
  } finally {
    await host.close();
  }
}

function changedBetween(before: InstalledPackage[], after: InstalledPackage[], except: string): PackageResult['alsoChanged'] {
  const id = (p: InstalledPackage): string => `${p.name}:${p.architecture}`;
  const old = new Map(before.map((p) => [id(p), p]));
  const now = new Map(after.map((p) => [id(p), p]));
  const out: PackageResult['alsoChanged'] = [];
  const exceptName = except.split(':')[0];
  for (const [k, p] of now) {
    const was = old.get(k);
    if (p.name !== exceptName && was?.version !== p.version) out.push({ package: p.name, from: was?.version ?? null, to: p.version });
  }
  for (const [k, p] of old) if (!now.has(k) && p.name !== exceptName) out.push({ package: p.name, from: p.version, to: null });
  return out;
}

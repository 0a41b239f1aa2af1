/**
 * Parsers of what apt-get and apt-cache print. Each takes the text of one run (C locale) and
 * returns plain values; the lines they read are the stable, script-facing ones (`Inst`/`Remv`
 * of a simulation, the `Versions:` block of showpkg, `--print-uris`, deb822 from indextargets).
 */
import { parseDeb822 } from './deb822.ts';

/** One package a simulated apt run would change. `from` is null for a new install. */
export interface SimulatedChange {
  /** As apt names it: `name`, or `name:arch` for a foreign architecture. */
  package: string;
  from: string | null;
  to: string;
  architecture: string;
  /** apt's description of the releases the version comes from, e.g. `Debian-Security:12/stable-security`. */
  releases: string;
}

export interface Simulation {
  upgrades: SimulatedChange[];
  installs: SimulatedChange[];
  removals: Array<{ package: string; from: string }>;
  /** Upgradable packages apt would not touch (held, or blocked by dependencies). */
  keptBack: string[];
}

const INST = /^Inst (\S+) (?:\[([^\]]+)\] )?\((\S+)(?: (.*?))? \[([^\]]+)\]\)/;
const REMV = /^Remv (\S+) \[([^\]]+)\]/;

/** Parses the output of `apt-get -s <install|upgrade|dist-upgrade>`. */
export function parseSimulation(stdout: string): Simulation {
  const sim: Simulation = { upgrades: [], installs: [], removals: [], keptBack: [] };
  const lines = stdout.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const inst = INST.exec(line);
    if (inst) {
      const change: SimulatedChange = { package: inst[1]!, from: inst[2] ?? null, to: inst[3]!, architecture: inst[5]!, releases: inst[4] ?? '' };
      (change.from === null ? sim.installs : sim.upgrades).push(change);
      continue;
    }
    const remv = REMV.exec(line);
    if (remv) {
      sim.removals.push({ package: remv[1]!, from: remv[2]! });
      continue;
    }
    if (line.startsWith('The following packages have been kept back:')) {
      while (i + 1 < lines.length && lines[i + 1]!.startsWith(' ')) sim.keptBack.push(...lines[++i]!.trim().split(/\s+/));
    }
  }
  return sim;
}

/** The index files (apt list files, the dpkg status) each version of each package is in, from `apt-cache showpkg`. */
export function parseShowpkgVersions(stdout: string): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | null = null;
  let inVersions = false;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('Package: ')) {
      current = new Map();
      out.set(line.slice('Package: '.length).trim(), current);
      inVersions = false;
    } else if (line.startsWith('Versions:')) {
      inVersions = true;
    } else if (line.startsWith('Reverse Depends:')) {
      inVersions = false;
    } else if (inVersions && current && line !== '' && line[0] !== ' ') {
      const sp = line.indexOf(' ');
      if (sp === -1) continue;
      const files = [...line.slice(sp).matchAll(/\(([^)]+)\)/g)].map((m) => m[1]!);
      current.set(line.slice(0, sp), files);
    }
  }
  return out;
}

/** One package index apt knows, with the release it belongs to (from `apt-get indextargets`). */
export interface IndexTarget {
  /** The list file on this machine. */
  filename: string;
  metaKey: string;
  origin: string;
  label: string;
  suite: string;
  codename: string;
  site: string;
  component: string;
  trusted: boolean;
}

/** Parses `apt-get indextargets` (deb822), keeping the Packages indexes. */
export function parseIndexTargets(stdout: string): IndexTarget[] {
  return parseDeb822(stdout)
    .filter((s) => s.Identifier === 'Packages' && s.Filename)
    .map((s) => ({
      filename: s.Filename!,
      metaKey: s.MetaKey ?? '',
      origin: s.Origin ?? '',
      label: s.Label ?? '',
      suite: s.Suite ?? '',
      codename: s.Codename ?? '',
      site: s.Site ?? '',
      component: s.Component ?? '',
      trusted: s.Trusted === 'yes',
    }));
}

/** One download apt would make, from `apt-get --print-uris download|install`. */
export interface PrintedUri {
  uri: string;
  filename: string;
  sizeBytes: number;
}

/** Parses `apt-get --print-uris` lines: `'uri' filename size hash`. */
export function parsePrintUris(stdout: string): PrintedUri[] {
  const out: PrintedUri[] = [];
  for (const m of stdout.matchAll(/^'([^']+)' (\S+) (\d+)(?: \S+)?$/gm)) out.push({ uri: m[1]!, filename: m[2]!, sizeBytes: Number(m[3]) });
  return out;
}

/** Installed and candidate version of each package, from `apt-cache policy <names>`; `(none)` becomes null. */
export function parsePolicy(stdout: string): Map<string, { installed: string | null; candidate: string | null }> {
  const out = new Map<string, { installed: string | null; candidate: string | null }>();
  let current: { installed: string | null; candidate: string | null } | null = null;
  for (const line of stdout.split('\n')) {
    const head = /^(\S+):$/.exec(line);
    if (head) {
      current = { installed: null, candidate: null };
      out.set(head[1]!, current);
      continue;
    }
    const field = /^ {2}(Installed|Candidate): (\S+)/.exec(line);
    if (field && current) {
      const value = field[2] === '(none)' ? null : field[2]!;
      if (field[1] === 'Installed') current.installed = value;
      else current.candidate = value;
    }
  }
  return out;
}

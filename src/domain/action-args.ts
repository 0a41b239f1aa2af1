/**
 * The arguments each agent command action takes, checked when the command is dispatched (by the
 * agent-commands decider, so every path — the API, fan-out, an approved four-eyes request — gets
 * the same check) and again by the agent before it acts. Pure: the facts a check needs (the
 * tenant's allowlist, its maintenance window) come in as `ActionFacts`.
 *
 * What the check returns is what the command carries: the arguments normalised, plus what the
 * server adds — `run-scan` carries the allowlist entries its targets are judged by (the agent
 * repeats the check with its own resolver: the DNS-rebinding defence runs where the scan runs),
 * `install-patches` carries the tenant's maintenance window (the agent holds the command until it
 * opens).
 */
import { isPackageName } from '../agent/patch/version.ts';
import { type MaintenanceWindow, validateWindow } from '../agent/patch/window.ts';
import { StkError } from '../errors.ts';
import { parseTarget } from '../scan/targets.ts';
import { MAX_REQUEST_TARGETS } from '../scan/allowlist.ts';
import { compactPorts, DEFAULT_SCAN_PORTS, expandPorts, type PortSpec } from '../scan/ports.ts';
import { precheckTargets } from '../scan/precheck.ts';

/** Facts outside the command that its arguments are judged by. */
export interface ActionFacts {
  /** The tenant's declared scan targets (attack-surface allowlist). */
  allowlist?: readonly string[];
  /** The tenant's maintenance window; null: none (patches install at once). */
  maintenanceWindow?: MaintenanceWindow | null;
}

export type ArgsCheck = { ok: true; args: Record<string, unknown> } | { ok: false; error: StkError };

/** Network behaviour a run-scan may ask for, with the bounds an operator may choose within. */
export const SCAN_OPTION_BOUNDS = {
  concurrency: [1, 256],
  ratePerSecond: [0.1, 1000],
  connectTimeoutMs: [100, 30_000],
  probeTimeoutMs: [100, 30_000],
} as const;
const SCAN_FLAGS = ['services', 'tls', 'cipherEnumeration'] as const;

/**
 * What a scan asks for, normalised: canonical targets, the port list (the common ports when none
 * was named), the options. On the wire (a run-scan's `args`, a scan request) the options are
 * top-level fields beside `targets` and `ports`.
 */
export interface ScanArgs {
  targets: string[];
  ports: PortSpec[];
  options: Partial<Record<keyof typeof SCAN_OPTION_BOUNDS, number> & Record<(typeof SCAN_FLAGS)[number], boolean>>;
}

type Refused = { ok: false; error: StkError };
const invalid = (field: string, message: string): Refused => ({ ok: false, error: new StkError('STK_ERR_VALIDATION', message, { field }) });
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks the shape of a scan request (targets, ports, options) without the allowlist. */
export function checkScanShape(input: unknown): { ok: true; scan: ScanArgs; ports: number[] } | Refused {
  if (!isObject(input)) return invalid('args', 'run-scan takes an object');
  const options: ScanArgs['options'] = {};
  for (const [k, v] of Object.entries(input)) {
    if (k === 'targets' || k === 'ports') continue;
    if (k in SCAN_OPTION_BOUNDS) {
      const [min, max] = SCAN_OPTION_BOUNDS[k as keyof typeof SCAN_OPTION_BOUNDS];
      if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) return invalid(k, `${k} must be a number from ${min} to ${max}`);
      options[k as keyof typeof SCAN_OPTION_BOUNDS] = v;
    } else if ((SCAN_FLAGS as readonly string[]).includes(k)) {
      if (typeof v !== 'boolean') return invalid(k, `${k} must be true or false`);
      options[k as (typeof SCAN_FLAGS)[number]] = v;
    } else return invalid(k, `unknown argument ${JSON.stringify(k.slice(0, 32))}`);
  }
  const targets = input.targets;
  if (!Array.isArray(targets) || targets.length === 0 || targets.length > MAX_REQUEST_TARGETS || !targets.every((t) => typeof t === 'string'))
    return invalid('targets', `targets: 1 to ${MAX_REQUEST_TARGETS} addresses, CIDR blocks or hostnames`);
  const ports = expandPorts((input.ports ?? DEFAULT_SCAN_PORTS) as PortSpec[]);
  if (!ports.ok) return invalid('ports', `ports: ${ports.detail}`);
  const canonical: string[] = [];
  for (const t of targets as string[]) {
    const p = parseTarget(t);
    const text = p.ok ? p.target.text : t;
    if (!canonical.includes(text)) canonical.push(text);
  }
  return { ok: true, scan: { targets: canonical, ports: compactPorts(ports.ports), options }, ports: ports.ports };
}

/**
 * Checks a scan request against the allowlist (no DNS: see precheckTargets) and returns what the
 * command carries: the request and the allowlist entries it is judged by (every address and block,
 * and the names that match its hostnames), so the agent can run the full check offline.
 */
export function checkRunScanArgs(input: unknown, allowlist: readonly string[], o: { refuseInternal?: boolean } = {}): ArgsCheck {
  const shape = checkScanShape(input);
  if (!shape.ok) return shape;
  const pre = precheckTargets(shape.scan.targets, allowlist, o);
  if (!pre.ok)
    return {
      ok: false,
      error: new StkError(pre.code, `scan request refused: ${pre.problems.map((p) => `${p.target}: ${p.reason}`).join('; ')}`, { problems: pre.problems }),
    };
  const names = pre.targets.filter((t) => {
    const p = parseTarget(t);
    return p.ok && p.target.kind === 'hostname';
  });
  const carried = pre.allowlist.entries.filter((e) => {
    const p = parseTarget(e, { wildcard: true });
    if (!p.ok) return false;
    if (p.target.kind === 'ip' || p.target.kind === 'cidr') return true;
    if (p.target.kind === 'hostname') return names.includes(p.target.text);
    const suffix = p.target.suffix;
    return names.some((n) => n.endsWith(suffix));
  });
  return { ok: true, args: { targets: pre.targets, ports: shape.scan.ports, ...shape.scan.options, allowlist: carried } };
}

/** Checks install-patches arguments (as `validateInstallArgs` on the agent) and adds the tenant's window. */
export function checkInstallArgs(input: unknown, window: MaintenanceWindow | null): ArgsCheck {
  if (!isObject(input)) return invalid('args', 'install-patches takes an object');
  for (const k of Object.keys(input)) if (!['mode', 'packages', 'dryRun'].includes(k)) return invalid(k, `unknown argument ${JSON.stringify(k.slice(0, 32))}`);
  if (input.mode !== 'security' && input.mode !== 'packages') return invalid('mode', "mode is 'security' or 'packages'");
  if (typeof input.dryRun !== 'boolean') return invalid('dryRun', 'dryRun must be true or false');
  let w: MaintenanceWindow | null = null;
  if (window) {
    try {
      w = validateWindow(window);
    } catch (err) {
      return { ok: false, error: err as StkError };
    }
  }
  if (input.mode === 'security') {
    if (input.packages !== undefined) return invalid('packages', "packages are named only with mode 'packages'");
    return { ok: true, args: { mode: 'security', dryRun: input.dryRun, window: w } };
  }
  const packages = input.packages;
  if (!Array.isArray(packages) || packages.length === 0 || packages.length > 500) return invalid('packages', "mode 'packages' needs 1 to 500 packages");
  for (const p of packages) {
    if (!isPackageName(p)) {
      const shown = typeof p === 'string' && p.length <= 64 ? p : typeof p;
      return { ok: false, error: new StkError('STK_ERR_PATCH_PACKAGE_INVALID', `not a Debian package name: ${JSON.stringify(shown)}`, { package: shown }) };
    }
  }
  return { ok: true, args: { mode: 'packages', packages: [...new Set(packages as string[])], dryRun: input.dryRun, window: w } };
}

/** The check of each action that has one; other actions carry their arguments as given. */
export function checkActionArgs(action: string, args: Record<string, unknown>, facts: ActionFacts): ArgsCheck {
  if (action === 'run-scan') return checkRunScanArgs(args, facts.allowlist ?? []);
  if (action === 'install-patches') return checkInstallArgs(args, facts.maintenanceWindow ?? null);
  return { ok: true, args };
}

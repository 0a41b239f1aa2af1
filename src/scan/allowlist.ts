import { StkError } from '../errors.ts';
import { type IpRange, compareIp, formatIp, mergeRanges, parseIp, rangeCovered, rangeSize } from './address.ts';
import { refusedBlock } from './ranges.ts';
import { type ResolveOptions, resolveName } from './resolve.ts';
import { type TargetSyntaxReason, parseTarget } from './targets.ts';

/** Most entries one tenant's allowlist may hold. */
export const MAX_ALLOWLIST_ENTRIES = 4096;
/** Most targets one scan request may name. */
export const MAX_REQUEST_TARGETS = 256;
/** Most addresses one hostname may resolve to before the request is refused. */
export const MAX_ADDRESSES_PER_NAME = 64;
/** Default bound on address × port pairs of one scan (2^18). */
export const DEFAULT_MAX_PROBES = 262_144;

/**
 * A tenant's declared external targets, parsed: IP ranges (merged, so a request may span adjacent
 * entries), exact hostnames and `*.domain` wildcards (which match names below the domain, not the
 * domain itself).
 */
export interface Allowlist {
  readonly entries: readonly string[];
  readonly ranges: readonly IpRange[];
  readonly names: ReadonlySet<string>;
  readonly suffixes: readonly string[];
}

export type TargetProblemReason =
  | TargetSyntaxReason
  | 'outside-allowlist'
  | 'refused-block'
  | 'name-not-allowlisted'
  | 'unresolvable'
  | 'too-many-addresses'
  | 'resolves-outside-allowlist'
  | 'resolves-to-refused-block';

/** One reason a request (or an allowlist) was refused, naming the target (or entry) and, for resolved names, the address. */
export interface TargetProblem {
  target: string;
  reason: TargetProblemReason;
  detail: string;
  address?: string;
}

export type AllowlistParse = { ok: true; allowlist: Allowlist } | { ok: false; code: 'STK_ERR_SCAN_TARGET_INVALID'; problems: TargetProblem[] };

/** Parses a tenant's allowlist entries (addresses, CIDR blocks within the size bounds, hostnames, `*.domain`). */
export function parseAllowlist(entries: readonly string[]): AllowlistParse {
  if (!Array.isArray(entries) || entries.length > MAX_ALLOWLIST_ENTRIES) {
    return {
      ok: false,
      code: 'STK_ERR_SCAN_TARGET_INVALID',
      problems: [{ target: '(allowlist)', reason: 'invalid', detail: `at most ${MAX_ALLOWLIST_ENTRIES} entries` }],
    };
  }
  const problems: TargetProblem[] = [];
  const ranges: IpRange[] = [];
  const names = new Set<string>();
  const suffixes: string[] = [];
  const canonical: string[] = [];
  for (const e of entries) {
    const p = parseTarget(e, { wildcard: true });
    if (!p.ok) {
      problems.push({ target: String(e).slice(0, 260), reason: p.reason, detail: p.detail });
      continue;
    }
    const t = p.target;
    canonical.push(t.text);
    if (t.kind === 'ip' || t.kind === 'cidr') ranges.push(t.range);
    else if (t.kind === 'hostname') names.add(t.text);
    else suffixes.push(t.suffix);
  }
  if (problems.length) return { ok: false, code: 'STK_ERR_SCAN_TARGET_INVALID', problems };
  return {
    ok: true,
    allowlist: Object.freeze({
      entries: Object.freeze([...new Set(canonical)]),
      ranges: Object.freeze(mergeRanges(ranges)),
      names,
      suffixes: Object.freeze(suffixes),
    }),
  };
}

/** What an operator (or the server, for declared targets) asks to scan. */
export interface ScanRequest {
  /** Addresses, CIDR blocks and hostnames. */
  targets: readonly string[];
  /** TCP ports, 1–65535. */
  ports: readonly number[];
}

export interface CheckOptions extends ResolveOptions {
  /** Refuse loopback, private, link-local, CGNAT and ULA addresses too (the server's scanner role). @defaultValue false */
  refuseInternal?: boolean;
  /** Most address × port pairs. @defaultValue DEFAULT_MAX_PROBES */
  maxProbes?: number;
}

/** One target of a checked plan: the text as the request named it (canonical) and the addresses it may reach. */
export interface ScanPlanTarget {
  readonly target: string;
  /** The hostname, for TLS SNI and the HTTP Host header; `null` for address and CIDR targets. */
  readonly hostname: string | null;
  /** The addresses to connect to: a CIDR's block, or a hostname's answers pinned at check time. */
  readonly ranges: readonly IpRange[];
}

/** A scan the allowlist check let through. Only checkScanRequest makes one; runScan refuses anything else. */
export interface ScanPlan {
  readonly targets: readonly ScanPlanTarget[];
  readonly ports: readonly number[];
  /** Address × port pairs. */
  readonly probes: number;
}

export type ScanRefusalCode = 'STK_ERR_SCAN_TARGET_INVALID' | 'STK_ERR_SCAN_TARGET_REFUSED' | 'STK_ERR_SCAN_TOO_LARGE' | 'STK_ERR_VALIDATION';
export type ScanCheck = { ok: true; plan: ScanPlan } | { ok: false; code: ScanRefusalCode; problems: TargetProblem[] };

const ISSUED = new WeakSet<ScanPlan>();

/** True when `plan` came from checkScanRequest (runScan's guard). */
export function isCheckedPlan(plan: unknown): plan is ScanPlan {
  return typeof plan === 'object' && plan !== null && ISSUED.has(plan as ScanPlan);
}

/** The error a refused check stands for, for callers that throw (a route, an agent command). */
export function scanCheckError(check: Extract<ScanCheck, { ok: false }>): StkError {
  const first = check.problems[0];
  const what = first ? `${first.target}: ${first.reason}${first.address ? ` (${first.address})` : ''}` : 'refused';
  return new StkError(check.code, `scan request refused: ${what}`, { problems: check.problems });
}

/**
 * Decides whether a scan may run, before anything is sent on the network. The request is refused
 * whole when any target is malformed, lies (even partly) outside the allowlist, touches a block no
 * scan may reach (NEVER_SCANNED, and INTERNAL with `refuseInternal`), or is too large. Hostnames
 * must be allowlisted by name AND every address they resolve to must lie inside the allowlist's
 * address ranges: this is the DNS-rebinding defence, since a name the tenant controls could
 * otherwise be pointed at any address (someone else's network, or the scanner's own). The answers
 * checked here are pinned in the plan, and the scan connects to those addresses only, never
 * resolving again, so a second answer cannot differ from the one that was checked. Names are only
 * resolved once every literal target passed, so a refused request does not even cause a lookup.
 */
export async function checkScanRequest(request: ScanRequest, allowlist: Allowlist | readonly string[], o: CheckOptions = {}): Promise<ScanCheck> {
  let list: Allowlist;
  if (Array.isArray(allowlist)) {
    const parsed = parseAllowlist(allowlist);
    if (!parsed.ok) return { ok: false, code: parsed.code, problems: parsed.problems.map((p) => ({ ...p, detail: `allowlist entry: ${p.detail}` })) };
    list = parsed.allowlist;
  } else list = allowlist as Allowlist;

  const ports = request?.ports;
  if (!Array.isArray(ports) || ports.length === 0 || ports.length > 65_535 || !ports.every((p) => Number.isInteger(p) && p >= 1 && p <= 65_535)) {
    return {
      ok: false,
      code: 'STK_ERR_VALIDATION',
      problems: [{ target: '(ports)', reason: 'invalid', detail: 'ports must be 1 to 65535 integers from 1 to 65535' }],
    };
  }
  const targets = request?.targets;
  if (!Array.isArray(targets) || targets.length === 0 || targets.length > MAX_REQUEST_TARGETS) {
    return {
      ok: false,
      code: 'STK_ERR_SCAN_TARGET_INVALID',
      problems: [{ target: '(targets)', reason: 'invalid', detail: `1 to ${MAX_REQUEST_TARGETS} targets` }],
    };
  }

  const problems: TargetProblem[] = [];
  const literal: ScanPlanTarget[] = [];
  const names: string[] = [];
  const seen = new Set<string>();
  for (const text of targets) {
    const p = parseTarget(text);
    if (!p.ok) {
      problems.push({ target: String(text).slice(0, 260), reason: p.reason, detail: p.detail });
      continue;
    }
    const t = p.target;
    if (seen.has(t.text)) continue;
    seen.add(t.text);
    if (t.kind === 'hostname') {
      if (list.names.has(t.text) || list.suffixes.some((s) => t.text.endsWith(s))) names.push(t.text);
      else problems.push({ target: t.text, reason: 'name-not-allowlisted', detail: 'the hostname is not in the allowlist' });
    } else if (t.kind === 'ip' || t.kind === 'cidr') {
      const blocked = refusedBlock(t.range, o.refuseInternal ?? false);
      if (blocked) problems.push({ target: t.text, reason: 'refused-block', detail: `touches ${blocked}` });
      else if (!rangeCovered(list.ranges as IpRange[], t.range))
        problems.push({ target: t.text, reason: 'outside-allowlist', detail: 'not inside the allowlist' });
      else literal.push({ target: t.text, hostname: null, ranges: [t.range] });
    }
  }
  if (problems.some((p) => p.reason === 'invalid' || p.reason === 'cidr-too-wide' || p.reason === 'host-bits-set' || p.reason === 'wildcard-not-allowed')) {
    return { ok: false, code: 'STK_ERR_SCAN_TARGET_INVALID', problems };
  }
  if (problems.length) return { ok: false, code: 'STK_ERR_SCAN_TARGET_REFUSED', problems };

  const resolved: ScanPlanTarget[] = [];
  await Promise.all(
    names.map(async (name) => {
      const r = await resolveName(name, o);
      if (!r.ok) {
        problems.push({ target: name, reason: 'unresolvable', detail: r.detail });
        return;
      }
      if (r.addresses.length > MAX_ADDRESSES_PER_NAME) {
        problems.push({ target: name, reason: 'too-many-addresses', detail: `${r.addresses.length} addresses, at most ${MAX_ADDRESSES_PER_NAME}` });
        return;
      }
      const ranges: IpRange[] = [];
      for (const address of r.addresses) {
        const ip = parseIp(address)!;
        const range = { family: ip.family, first: ip.value, last: ip.value };
        const blocked = refusedBlock(range, o.refuseInternal ?? false);
        if (blocked) problems.push({ target: name, reason: 'resolves-to-refused-block', detail: `resolves into ${blocked}`, address });
        else if (!rangeCovered(list.ranges as IpRange[], range)) {
          problems.push({ target: name, reason: 'resolves-outside-allowlist', detail: 'an address it resolves to is not inside the allowlist', address });
        } else ranges.push(range);
      }
      ranges.sort((a, b) => compareIp({ family: a.family, value: a.first }, { family: b.family, value: b.first }));
      resolved.push({ target: name, hostname: name, ranges });
    }),
  );
  if (problems.length) return { ok: false, code: 'STK_ERR_SCAN_TARGET_REFUSED', problems: sortProblems(problems) };

  const planTargets = [...literal, ...resolved.sort((a, b) => (a.target < b.target ? -1 : 1))];
  const addresses = planTargets.reduce((n, t) => n + t.ranges.reduce((m, r) => m + Number(rangeSize(r)), 0), 0);
  const uniquePorts = [...new Set(ports)].sort((a, b) => a - b);
  const probes = addresses * uniquePorts.length;
  const maxProbes = o.maxProbes ?? DEFAULT_MAX_PROBES;
  if (probes > maxProbes) {
    return {
      ok: false,
      code: 'STK_ERR_SCAN_TOO_LARGE',
      problems: [{ target: '(request)', reason: 'invalid', detail: `${probes} address × port pairs, at most ${maxProbes}` }],
    };
  }
  const plan: ScanPlan = Object.freeze({
    targets: Object.freeze(planTargets.map((t) => Object.freeze({ ...t, ranges: Object.freeze(t.ranges.map((r) => Object.freeze({ ...r }))) }))),
    ports: Object.freeze(uniquePorts),
    probes,
  });
  ISSUED.add(plan);
  return { ok: true, plan };
}

function sortProblems(problems: TargetProblem[]): TargetProblem[] {
  return problems.sort((a, b) => (a.target === b.target ? (a.address ?? '').localeCompare(b.address ?? '') : a.target < b.target ? -1 : 1));
}

/** The canonical addresses of a plan target, in order (a CIDR block expanded lazily). */
export function* planAddresses(t: ScanPlanTarget): Generator<string> {
  for (const r of t.ranges) for (let v = r.first; v <= r.last; v++) yield formatIp({ family: r.family, value: v });
}

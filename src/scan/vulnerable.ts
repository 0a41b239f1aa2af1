import type { Severity } from '../../commands/alerts/events.ts';
import { StkError } from '../errors.ts';
import data from './vulnerable-banners.json' with { type: 'json' };

/** A version range: from `introduced` (inclusive; "0" = every version) up to `fixed` (exclusive) or `lastAffected` (inclusive), or open-ended. */
export interface VersionRange {
  introduced: string;
  fixed?: string;
  lastAffected?: string;
}

/** One entry of the known-vulnerable list, compiled. */
export interface VulnerableBanner {
  id: string;
  product: string;
  /** Matched against banners and HTTP Server values; its first capture group is the version. */
  pattern: RegExp;
  affected: VersionRange[];
  cves: string[];
  severity: Severity;
  title: string;
}

const SEVERITIES: readonly string[] = ['low', 'medium', 'high', 'critical'];
const PRE_RELEASE = new Set(['alpha', 'beta', 'pre', 'rc', 'dev']);
const ID = /^[a-z0-9][a-z0-9.-]{0,63}$/;
const CVE = /^CVE-\d{4}-\d{4,}$/;
const VERSION = /^[0-9A-Za-z.+~_-]{1,40}$/;

type Token = number | string;

function tokens(v: string): Token[] {
  return (v.toLowerCase().match(/\d+|[a-z]+/g) ?? []).map((t) => (/^\d/.test(t) ? Number(t) : t));
}

/**
 * Orders two version texts: runs of digits compare as numbers, runs of letters as text, a
 * version that is a prefix of another comes first (7.2 < 7.2p1, 1.3.3 < 1.3.3c), except that a
 * pre-release word (alpha, beta, pre, rc, dev) sorts before the release it precedes (1.3.5rc4 < 1.3.5).
 */
export function compareVersions(a: string, b: string): number {
  const x = tokens(a);
  const y = tokens(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = x[i];
    const q = y[i];
    if (p === q) continue;
    if (p === undefined) return typeof q === 'string' && PRE_RELEASE.has(q) ? 1 : -1;
    if (q === undefined) return typeof p === 'string' && PRE_RELEASE.has(p) ? -1 : 1;
    if (typeof p === 'number' && typeof q === 'number') return p - q;
    if (typeof p === 'number') return 1; // 1.0.1 after 1.0rc1: a number outranks a word
    if (typeof q === 'number') return -1;
    return p < q ? -1 : 1;
  }
  return 0;
}

/** True when `version` lies in `range`. */
export function inRange(version: string, r: VersionRange): boolean {
  if (r.introduced !== '0' && compareVersions(version, r.introduced) < 0) return false;
  if (r.fixed !== undefined && compareVersions(version, r.fixed) >= 0) return false;
  if (r.lastAffected !== undefined && compareVersions(version, r.lastAffected) > 0) return false;
  return true;
}

function invalid(index: number, field: string, why: string): StkError {
  return new StkError('STK_ERR_SCAN_DATA_INVALID', `vulnerable banner entry ${index}: ${field} ${why}`, { index, field });
}

/** Validates and compiles a list in the format of vulnerable-banners.json; throws STK_ERR_SCAN_DATA_INVALID naming the entry and field. */
export function compileVulnerableBanners(json: unknown): VulnerableBanner[] {
  const entries = (json as { entries?: unknown })?.entries;
  if (!Array.isArray(entries)) throw invalid(-1, 'entries', 'must be an array');
  const ids = new Set<string>();
  return entries.map((e: Record<string, unknown>, i) => {
    if (typeof e !== 'object' || e === null) throw invalid(i, 'entry', 'must be an object');
    const { id, product, pattern, affected, cves, severity, title } = e;
    if (typeof id !== 'string' || !ID.test(id) || ids.has(id)) throw invalid(i, 'id', 'must be a unique lower-case token');
    ids.add(id);
    if (typeof product !== 'string' || !product || product.length > 100) throw invalid(i, 'product', 'must be a name');
    if (typeof title !== 'string' || !title || title.length > 256) throw invalid(i, 'title', 'must be a text of at most 256 characters');
    if (typeof severity !== 'string' || !SEVERITIES.includes(severity)) throw invalid(i, 'severity', `must be one of ${SEVERITIES.join(', ')}`);
    if (!Array.isArray(cves) || cves.length === 0 || !cves.every((c) => typeof c === 'string' && CVE.test(c))) throw invalid(i, 'cves', 'must list CVE ids');
    let re: RegExp;
    try {
      re = new RegExp(String(pattern));
    } catch {
      throw invalid(i, 'pattern', 'is not a regular expression');
    }
    if (typeof pattern !== 'string' || !/\((?!\?)/.test(pattern)) throw invalid(i, 'pattern', 'needs a capture group for the version');
    if (!Array.isArray(affected) || affected.length === 0) throw invalid(i, 'affected', 'must list version ranges');
    const ranges = affected.map((r: Record<string, unknown>) => {
      const ok = (v: unknown, required: boolean): boolean => (v === undefined ? !required : typeof v === 'string' && VERSION.test(v));
      if (typeof r !== 'object' || r === null || !ok(r.introduced, true) || !ok(r.fixed, false) || !ok(r.lastAffected, false) || (r.fixed && r.lastAffected)) {
        throw invalid(i, 'affected', 'ranges need `introduced` and at most one of `fixed`, `lastAffected`');
      }
      return {
        introduced: r.introduced as string,
        ...(r.fixed !== undefined ? { fixed: r.fixed as string } : {}),
        ...(r.lastAffected !== undefined ? { lastAffected: r.lastAffected as string } : {}),
      };
    });
    return { id, product, pattern: re, affected: ranges, cves: [...(cves as string[])], severity: severity as Severity, title };
  });
}

let builtIn: VulnerableBanner[] | undefined;

/** The list kept in the repository (src/scan/vulnerable-banners.json), compiled once. */
export function defaultVulnerableBanners(): VulnerableBanner[] {
  builtIn ??= compileVulnerableBanners(data);
  return builtIn;
}

/** The entries a banner or Server value matches, with the version it names. */
export function matchBanner(text: string, list: readonly VulnerableBanner[]): Array<{ entry: VulnerableBanner; version: string }> {
  const out: Array<{ entry: VulnerableBanner; version: string }> = [];
  for (const entry of list) {
    const version = entry.pattern.exec(text)?.[1];
    if (version && entry.affected.some((r) => inRange(version, r))) out.push({ entry, version });
  }
  return out;
}

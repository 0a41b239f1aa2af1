import { type Family, type Ip, type IpRange, formatIp, parseIp, prefixRange } from './address.ts';

/**
 * The widest prefixes a target or an allowlist entry may name: /16 for IPv4 and /112 for IPv6,
 * 65,536 addresses either way. Wider blocks are refused, not truncated: a tenant declares its
 * address space in pieces it can name, and one typo (`/8` for `/28`) cannot turn a scan of a
 * rack into a scan of a continent.
 */
export const MIN_PREFIX_LENGTH: Record<Family, number> = { 4: 16, 6: 112 };

/** Longest text accepted as one target before any parsing. */
export const MAX_TARGET_CHARS = 260;

/** A parsed target: one address, one CIDR block, one hostname, or (allowlists only) a `*.domain` wildcard. */
export type Target =
  | { kind: 'ip'; text: string; ip: Ip; range: IpRange }
  | { kind: 'cidr'; text: string; range: IpRange }
  | { kind: 'hostname'; text: string }
  | { kind: 'wildcard'; text: string; suffix: string };

/** Why a text is not a valid target. */
export type TargetSyntaxReason = 'invalid' | 'cidr-too-wide' | 'host-bits-set' | 'wildcard-not-allowed';

export type ParsedTarget = { ok: true; target: Target } | { ok: false; reason: TargetSyntaxReason; detail: string };

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Parses a hostname: LDH labels of 1–63 characters, 253 in all, lower-cased, one trailing dot
 * dropped. Internationalised names must come in their `xn--` form. A name whose last label is all
 * digits is refused: resolvers read `10.1` or `0x7f.1` as addresses (inet_aton), so it would name
 * an address while looking like a name.
 */
export function parseHostname(s: string): string | null {
  let name = s.toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name.length === 0 || name.length > 253) return null;
  const labels = name.split('.');
  if (!labels.every((l) => LABEL.test(l))) return null;
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return null;
  return name;
}

/**
 * Parses one target text strictly: an IPv4 or IPv6 address, a CIDR block no wider than
 * MIN_PREFIX_LENGTH with no host bits set, or a hostname; `*.domain` only when `wildcard` is set
 * (allowlist entries). Returns a value saying why when the text is none of these.
 */
export function parseTarget(text: string, o: { wildcard?: boolean } = {}): ParsedTarget {
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_TARGET_CHARS || /\s/.test(text)) {
    return { ok: false, reason: 'invalid', detail: 'not a non-empty string without spaces of at most 260 characters' };
  }
  const slash = text.indexOf('/');
  if (slash >= 0) {
    const ip = parseIp(text.slice(0, slash));
    const lenText = text.slice(slash + 1);
    if (!ip || !/^(0|[1-9][0-9]{0,2})$/.test(lenText)) return { ok: false, reason: 'invalid', detail: 'not an address/prefix-length' };
    const len = Number(lenText);
    // An IPv4-mapped IPv6 prefix comes back as IPv4; its length counts IPv4 bits only when written that way.
    const written: Family = text.slice(0, slash).includes(':') ? 6 : 4;
    if (written !== ip.family) return { ok: false, reason: 'invalid', detail: 'an IPv4-mapped IPv6 prefix; write the IPv4 block' };
    if (len > (ip.family === 4 ? 32 : 128)) return { ok: false, reason: 'invalid', detail: 'prefix length out of range' };
    if (len < MIN_PREFIX_LENGTH[ip.family]) {
      return { ok: false, reason: 'cidr-too-wide', detail: `IPv${ip.family} blocks may be at most /${MIN_PREFIX_LENGTH[ip.family]}` };
    }
    const range = prefixRange(ip, len);
    if (!range) return { ok: false, reason: 'host-bits-set', detail: 'bits are set below the prefix length' };
    return { ok: true, target: { kind: 'cidr', text: `${formatIp(ip)}/${len}`, range } };
  }
  const ip = parseIp(text);
  if (ip) return { ok: true, target: { kind: 'ip', text: formatIp(ip), ip, range: { family: ip.family, first: ip.value, last: ip.value } } };
  if (text.startsWith('*.')) {
    if (!o.wildcard) return { ok: false, reason: 'wildcard-not-allowed', detail: 'wildcards name allowlist entries, not scan targets' };
    const domain = parseHostname(text.slice(2));
    if (!domain?.includes('.')) return { ok: false, reason: 'invalid', detail: 'a wildcard needs a domain of two labels or more' };
    return { ok: true, target: { kind: 'wildcard', text: `*.${domain}`, suffix: `.${domain}` } };
  }
  const name = parseHostname(text);
  if (!name) return { ok: false, reason: 'invalid', detail: 'not an IP address, CIDR block or hostname' };
  return { ok: true, target: { kind: 'hostname', text: name } };
}

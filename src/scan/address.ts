/**
 * IP addresses as numbers: an IPv4 address is a 32-bit bigint, an IPv6 address a 128-bit one, so
 * CIDR arithmetic, containment and ordering are integer comparisons. Parsing is strict on purpose:
 * the allowlist decides what we may touch on the network, so every spelling that another parser
 * could read differently (octal `010.0.0.1`, short `10.1`, zone ids `fe80::1%eth0`) is refused.
 */

import { formatIPv6Groups } from '../net/ipv6.ts';

export type Family = 4 | 6;

/** One IP address: its family and its value. */
export interface Ip {
  family: Family;
  value: bigint;
}

/** An inclusive range of addresses of one family. */
export interface IpRange {
  family: Family;
  first: bigint;
  last: bigint;
}

const BITS: Record<Family, number> = { 4: 32, 6: 128 };

/** Parses a dotted-quad IPv4 address (four decimal parts, no leading zeros); `null` if it is not one. */
export function parseIpv4(s: string): bigint | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

/** Parses an IPv6 address (RFC 4291 text forms, an embedded dotted quad allowed at the end, no zone id); `null` if it is not one. */
export function parseIpv6(s: string): bigint | null {
  if (s.length > 45 || !/^[0-9a-fA-F:.]+$/.test(s)) return null;
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = (half: string): number[] | null => {
    if (half === '') return [];
    const out: number[] = [];
    const parts = half.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIpv4(p);
        if (v4 === null) return null;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) out.push(Number.parseInt(p, 16));
      else return null;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === null || tail === null) return null;
  // An embedded dotted quad is only valid as the last 32 bits.
  if (halves.length === 2 && halves[0]!.includes('.')) return null;
  const total = head.length + tail.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return null;
  const all = [...head, ...new Array<number>(8 - total).fill(0), ...tail];
  let value = 0n;
  for (const g of all) value = (value << 16n) | BigInt(g);
  return value;
}

/**
 * Parses an IP address of either family. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) comes back
 * as the IPv4 address it names, so it meets the same allowlist and refusal rules as the dotted form.
 */
export function parseIp(s: string): Ip | null {
  const v4 = parseIpv4(s);
  if (v4 !== null) return { family: 4, value: v4 };
  const v6 = parseIpv6(s);
  if (v6 === null) return null;
  if (v6 >> 32n === 0xffffn) return { family: 4, value: v6 & 0xffffffffn };
  return { family: 6, value: v6 };
}

/** The canonical text of an address: dotted quad, or RFC 5952 (lower case, the longest zero run compressed). */
export function formatIp(ip: Ip): string {
  if (ip.family === 4) return [24n, 16n, 8n, 0n].map((s) => String((ip.value >> s) & 0xffn)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => Number((ip.value >> BigInt(112 - 16 * i)) & 0xffffn));
  return formatIPv6Groups(groups);
}

/** The address as it appears in a `host:port` text: IPv6 in brackets. */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The range a prefix covers; `null` when host bits are set below the prefix or the length is out of bounds. */
export function prefixRange(ip: Ip, prefixLength: number): IpRange | null {
  const bits = BITS[ip.family];
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > bits) return null;
  const hostBits = BigInt(bits - prefixLength);
  const hostMask = (1n << hostBits) - 1n;
  if ((ip.value & hostMask) !== 0n) return null;
  return { family: ip.family, first: ip.value, last: ip.value | hostMask };
}

/** Number of addresses in a range. */
export function rangeSize(r: IpRange): bigint {
  return r.last - r.first + 1n;
}

/** Sorts ranges and merges overlapping or adjacent ones, so containment in their union is one lookup. */
export function mergeRanges(ranges: IpRange[]): IpRange[] {
  const sorted = [...ranges].sort((a, b) => a.family - b.family || (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const out: IpRange[] = [];
  for (const r of sorted) {
    const top = out[out.length - 1];
    if (top && top.family === r.family && r.first <= top.last + 1n) {
      if (r.last > top.last) top.last = r.last;
    } else out.push({ ...r });
  }
  return out;
}

/** True when every address of `r` lies in the union of the merged ranges `merged` (from mergeRanges). */
export function rangeCovered(merged: IpRange[], r: IpRange): boolean {
  // A merged list has no adjacent members, so a covered range lies inside one of them.
  return merged.some((m) => m.family === r.family && m.first <= r.first && r.last <= m.last);
}

/** Orders addresses: IPv4 before IPv6, then by value. */
export function compareIp(a: Ip, b: Ip): number {
  if (a.family !== b.family) return a.family - b.family;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

/** Orders two canonical address texts like compareIp; texts that are not addresses sort after, by text. */
export function compareAddressText(a: string, b: string): number {
  const x = parseIp(a);
  const y = parseIp(b);
  if (x && y) return compareIp(x, y);
  if (x) return -1;
  if (y) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

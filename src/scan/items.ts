import { compareAddressText } from './address.ts';
import { canonicalJson } from './canonical.ts';
import type { TlsFacts } from './tls-probe.ts';

export type PortState = 'open' | 'closed' | 'filtered';

/** What an HTTP `HEAD / HTTP/1.0` probe got back. */
export interface HttpFacts {
  /** The status line, printable-escaped (`HTTP/1.1 200 OK`). */
  status: string;
  /** The `Server` header's value, printable-escaped, when there was one. */
  server?: string;
}

/**
 * One item of a scan run: one address and port of one target. `closed` = refused (RST),
 * `filtered` = no answer within the connect timeout or unreachable. Service facts only on open ports.
 */
export interface ScanItem {
  /** The target as the request named it (canonical form: lower-case name, canonical address or block). */
  target: string;
  /** The address connected to (dotted quad, or RFC 5952 IPv6). */
  address: string;
  port: number;
  state: PortState;
  /** What the service said first, unprompted, bounded and printable-escaped. */
  banner?: string;
  http?: HttpFacts;
  tls?: TlsFacts;
}

/** The defined order of a run's items: target (by UTF-16 code units), then address (IPv4 before IPv6, numerically), then port. */
export function compareItems(a: ScanItem, b: ScanItem): number {
  if (a.target !== b.target) return a.target < b.target ? -1 : 1;
  return compareAddressText(a.address, b.address) || a.port - b.port;
}

/** A sorted copy of `items` (the order the run's Merkle tree is built in). */
export function sortItems(items: readonly ScanItem[]): ScanItem[] {
  return [...items].sort(compareItems);
}

/** The bytes of one item that the run's Merkle tree hashes: UTF-8 canonical JSON. */
export function itemBytes(item: ScanItem): Uint8Array {
  return canonicalJson(item);
}

/**
 * Bytes as printable ASCII: 0x20–0x7e kept (the backslash doubled), `\r` `\n` `\t` as such, any
 * other byte as `\xHH`. Bytes are read one by one, not as UTF-8, so the same bytes always give the
 * same text and a banner can never carry a control sequence to a terminal or a page.
 */
export function escapePrintable(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    if (b === 0x5c) out += '\\\\';
    else if (b >= 0x20 && b <= 0x7e) out += String.fromCharCode(b);
    else if (b === 0x0d) out += '\\r';
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x09) out += '\\t';
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}

import { StkError } from '../errors.ts';
import { type IpRange, parseIp, prefixRange } from './address.ts';

function cidr(text: string): IpRange {
  const [a, len] = text.split('/');
  const r = prefixRange(parseIp(a!)!, Number(len));
  if (!r) throw new StkError('STK_ERR_INTERNAL', `bad built-in range ${text}`);
  return r;
}

/**
 * Addresses no scan may ever touch, whatever an allowlist says: "this network" and unspecified
 * addresses, multicast, the reserved 240/4 block with the limited broadcast address. A connect to
 * them either means something else than one host (multicast, broadcast) or nothing at all.
 */
export const NEVER_SCANNED: ReadonlyArray<{ name: string; range: IpRange }> = [
  { name: 'this network (0.0.0.0/8)', range: cidr('0.0.0.0/8') },
  { name: 'multicast (224.0.0.0/4)', range: cidr('224.0.0.0/4') },
  { name: 'reserved and broadcast (240.0.0.0/4)', range: cidr('240.0.0.0/4') },
  { name: 'unspecified (::/128)', range: cidr('::/128') },
  { name: 'multicast (ff00::/8)', range: cidr('ff00::/8') },
];

/**
 * Addresses that name the scanner's own machine or private networks. An agent scanning its own
 * network needs them; the server's scanner role must refuse them (`refuseInternal: true`), or a
 * tenant could declare `127.0.0.1` or `169.254.169.254` and point the server at itself, its
 * neighbours or a cloud metadata service (server-side request forgery by port scan).
 */
export const INTERNAL: ReadonlyArray<{ name: string; range: IpRange }> = [
  { name: 'loopback (127.0.0.0/8)', range: cidr('127.0.0.0/8') },
  { name: 'private (10.0.0.0/8)', range: cidr('10.0.0.0/8') },
  { name: 'private (172.16.0.0/12)', range: cidr('172.16.0.0/12') },
  { name: 'private (192.168.0.0/16)', range: cidr('192.168.0.0/16') },
  { name: 'link-local (169.254.0.0/16)', range: cidr('169.254.0.0/16') },
  { name: 'shared address space (100.64.0.0/10)', range: cidr('100.64.0.0/10') },
  { name: 'IETF protocol assignments (192.0.0.0/24)', range: cidr('192.0.0.0/24') },
  { name: 'benchmarking (198.18.0.0/15)', range: cidr('198.18.0.0/15') },
  { name: 'loopback (::1/128)', range: cidr('::1/128') },
  { name: 'unique local (fc00::/7)', range: cidr('fc00::/7') },
  { name: 'link-local (fe80::/10)', range: cidr('fe80::/10') },
  { name: 'NAT64 (64:ff9b::/96)', range: cidr('64:ff9b::/96') },
];

/** The name of the first refused block `r` touches, if any. */
export function refusedBlock(r: IpRange, refuseInternal: boolean): string | undefined {
  const lists = refuseInternal ? [NEVER_SCANNED, INTERNAL] : [NEVER_SCANNED];
  for (const list of lists) {
    for (const b of list) if (b.range.family === r.family && b.range.first <= r.last && r.first <= b.range.last) return b.name;
  }
  return undefined;
}

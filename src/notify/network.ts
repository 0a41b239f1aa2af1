import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Where outgoing notifications may connect. A tenant chooses the URL, so without a policy a
 * webhook could reach the install's own services or the cloud metadata endpoint. The check runs
 * on the address actually connected to (after DNS), so a name that resolves to a refused address
 * is refused too.
 */
export interface NetworkPolicy {
  /** 127.0.0.0/8 and ::1. Default false; tests and development turn it on. */
  allowLoopback?: boolean;
  /** RFC 1918, CGNAT 100.64.0.0/10 and IPv6 unique-local fc00::/7. Default false; a single-tenant install may turn it on for receivers on its own network. */
  allowPrivate?: boolean;
}

// Never reachable whatever the policy: unspecified, link-local (169.254.169.254 is the metadata
// endpoint of most clouds), multicast, broadcast and reserved ranges.
const always = new BlockList();
always.addSubnet('0.0.0.0', 8, 'ipv4');
always.addSubnet('169.254.0.0', 16, 'ipv4');
always.addSubnet('224.0.0.0', 3, 'ipv4');
always.addAddress('::', 'ipv6');
always.addSubnet('fe80::', 10, 'ipv6');
always.addSubnet('ff00::', 8, 'ipv6');

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

const privateNets = new BlockList();
privateNets.addSubnet('10.0.0.0', 8, 'ipv4');
privateNets.addSubnet('172.16.0.0', 12, 'ipv4');
privateNets.addSubnet('192.168.0.0', 16, 'ipv4');
privateNets.addSubnet('100.64.0.0', 10, 'ipv4');
privateNets.addSubnet('fc00::', 7, 'ipv6');

/** Why `address` may not be connected to under `policy`, or null when it may. */
export function refusedAddress(address: string, policy: NetworkPolicy): string | null {
  let a = address;
  let family = isIP(a);
  // An IPv4-mapped IPv6 address reaches the IPv4 host it embeds.
  const mapped = family === 6 ? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a) : null;
  if (mapped) {
    a = mapped[1]!;
    family = 4;
  }
  if (family === 0) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (always.check(a, type)) return `${address} is in a range never reachable by notifications`;
  if (!policy.allowLoopback && loopback.check(a, type)) return `${address} is a loopback address`;
  if (!policy.allowPrivate && privateNets.check(a, type)) return `${address} is a private address`;
  return null;
}

/** A connection refused by the network policy; transports report it as `address-refused`. */
export class AddressRefusedError extends Error {
  readonly code = 'ESTK_ADDRESS_REFUSED';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for `net`/`http`/`tls` options that resolves names and refuses addresses the policy forbids. */
export function policyLookup(policy: NetworkPolicy) {
  return (hostname: string, options: { all?: boolean; family?: number }, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const list = addresses as LookupAddress[];
      for (const entry of list) {
        const why = refusedAddress(entry.address, policy);
        if (why) return callback(new AddressRefusedError(`${hostname}: ${why}`), []);
      }
      if (options.all) return callback(null, list);
      const first = list[0];
      if (!first) return callback(Object.assign(new Error(`${hostname}: no address`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}

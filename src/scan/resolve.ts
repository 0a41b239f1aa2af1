import { promises as dns } from 'node:dns';
import { formatIp, parseIp } from './address.ts';

/** How hostnames are resolved: the system resolver (getaddrinfo: /etc/hosts, then DNS), or the given DNS servers. */
export interface ResolveOptions {
  /** DNS servers (`ip` or `ip:port`) asked for A and AAAA records instead of the system resolver. */
  dnsServers?: string[];
  /** Time a DNS server has to answer one query. @defaultValue 5000 */
  dnsTimeoutMs?: number;
}

export type Resolution = { ok: true; addresses: string[] } | { ok: false; detail: string };

const NO_ANSWER = new Set(['ENODATA', 'ENOTFOUND', 'NOTFOUND', 'ENONAME']);

/** Resolves `name` to its canonical, de-duplicated addresses (IPv4-mapped answers as IPv4), or says why not. */
export async function resolveName(name: string, o: ResolveOptions = {}): Promise<Resolution> {
  let raw: string[];
  if (o.dnsServers?.length) {
    const resolver = new dns.Resolver({ timeout: o.dnsTimeoutMs ?? 5000, tries: 2 });
    resolver.setServers(o.dnsServers);
    const answers = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
    const failures = answers.filter((a): a is PromiseRejectedResult => a.status === 'rejected').map((a) => (a.reason as NodeJS.ErrnoException).code ?? 'error');
    const hard = failures.filter((c) => !NO_ANSWER.has(c));
    if (hard.length === 2) return { ok: false, detail: `DNS: ${hard.join(', ')}` };
    raw = answers.flatMap((a) => (a.status === 'fulfilled' ? a.value : []));
  } else {
    try {
      raw = (await dns.lookup(name, { all: true, verbatim: true })).map((a) => a.address);
    } catch (err) {
      return { ok: false, detail: `lookup: ${(err as NodeJS.ErrnoException).code ?? 'error'}` };
    }
  }
  const addresses = new Set<string>();
  for (const a of raw) {
    const ip = parseIp(a);
    // A resolver that answers with something that is not an address is not trusted with the rest either.
    if (!ip) return { ok: false, detail: `not an address in the answer: ${JSON.stringify(a).slice(0, 80)}` };
    addresses.add(formatIp(ip));
  }
  if (addresses.size === 0) return { ok: false, detail: 'no A or AAAA records' };
  return { ok: true, addresses: [...addresses] };
}

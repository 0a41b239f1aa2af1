// What the demo's run-scan finds: every address of the customer's declared block on the common
// ports, answered from the book's hosts — open with banners and TLS where a host listens, closed
// where it does not, filtered where no host is. Two runs differ the way a week of work differs.
import { leafHash, merkleRoot } from '../merkle/mod.ts';
import type { ServiceFact } from '../../commands/scans/events.ts';
import { itemBytes, type ScanItem, sortItems } from '../scan/items.ts';
import type { TlsFacts } from '../scan/tls-probe.ts';
import type { CustomerPlan, HostPlan } from './book.ts';

/** The ports the demo's scans ask for. */
export const SCAN_PORTS = [22, 23, 25, 80, 139, 443, 445, 636, 993, 3000, 5432, 8080, 8443];

const MODERN: Omit<TlsFacts, 'certificate'> = {
  versions: ['TLSv1.2', 'TLSv1.3'],
  negotiated: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
  ciphers: [
    { version: 'TLSv1.2', cipher: 'ECDHE-RSA-AES256-GCM-SHA384' },
    { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' },
    { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
    { version: 'TLSv1.3', cipher: 'TLS_CHACHA20_POLY1305_SHA256' },
  ],
};

const LEGACY: Omit<TlsFacts, 'certificate'> = {
  versions: ['TLSv1', 'TLSv1.1', 'TLSv1.2'],
  negotiated: { version: 'TLSv1.2', cipher: 'AES256-SHA' },
  ciphers: [
    { version: 'TLSv1', cipher: 'AES256-SHA', weak: 'cbc-sha1' },
    { version: 'TLSv1', cipher: 'DES-CBC3-SHA', weak: '3des' },
    { version: 'TLSv1.1', cipher: 'AES256-SHA', weak: 'cbc-sha1' },
    { version: 'TLSv1.2', cipher: 'AES256-GCM-SHA384' },
    { version: 'TLSv1.2', cipher: 'DES-CBC3-SHA', weak: '3des' },
  ],
};

/** The addresses of a /28 a scan reaches (network and broadcast addresses left out). */
function addresses(block: string): string[] {
  const [base] = block.split('/') as [string];
  const prefix = base.split('.').slice(0, 3).join('.');
  return Array.from({ length: 14 }, (_, i) => `${prefix}.${i + 1}`);
}

/**
 * The sorted items of run 1 or 2 over `c`'s block. Between the runs the legacy host's telnet was
 * switched off, and a forgotten debug server appeared on the web host.
 */
export function scanItems(c: CustomerPlan, run: 1 | 2): ScanItem[] {
  const target = c.scanBlock;
  const byIp = new Map(c.hosts.filter((h) => !h.decommissioned).map((h) => [h.ip, h]));
  const items: ScanItem[] = [];
  for (const address of addresses(target)) {
    const h = byIp.get(address);
    for (const port of SCAN_PORTS) {
      if (!h) {
        items.push({ target, address, port, state: 'filtered' });
        continue;
      }
      const l = h.listeners.find((x) => x.protocol === 'tcp' && x.port === port);
      const telnetOff = run === 2 && h.role === 'legacy' && port === 23;
      if (l && !telnetOff) {
        items.push({
          target,
          address,
          port,
          state: 'open',
          ...(l.banner ? { banner: l.banner } : {}),
          ...(l.http ? { http: l.http } : {}),
          ...(l.tls ? { tls: { ...(l.tls === 'modern' ? MODERN : LEGACY), ...(l.cert ? { certificate: l.cert } : {}) } } : {}),
        });
      } else if (run === 2 && h.role === 'web' && port === 8080) {
        items.push({ target, address, port, state: 'open', http: { status: 'HTTP/1.0 200 OK', server: 'Werkzeug/2.2.2 Python/3.11.2' } });
      } else items.push({ target, address, port, state: 'closed' });
    }
  }
  return sortItems(items);
}

/** Hex RFC 6962 root of a run's items, as the agent computes it before sealing. */
export function runRoot(items: readonly ScanItem[]): string {
  return Buffer.from(merkleRoot(items.map((i) => leafHash(itemBytes(i))))).toString('hex');
}

/** The host the customer's scans run from: inside the network, not the web server. */
export function scanner(c: CustomerPlan): HostPlan {
  return c.hosts.find((h) => !h.decommissioned && h.role !== 'web') ?? c.hosts[0]!;
}

/** The scanning host's listening services, sent with the run's seal. */
export function servicesOf(h: HostPlan): ServiceFact[] {
  return h.connections
    .filter((x) => x.state === 'LISTEN' || x.state === 'UNCONN')
    .map((x) => ({
      protocol: x.protocol,
      address: x.localAddress,
      port: x.localPort,
      pid: x.pid,
      exe: x.exe,
      name: x.exe ? (x.exe.split('/').pop() ?? null) : null,
      user: x.user,
    }));
}

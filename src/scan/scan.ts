import { StkError } from '../errors.ts';
import { type ScanPlan, isCheckedPlan, planAddresses } from './allowlist.ts';
import { CIPHER_SUITES } from './cipher-suites.ts';
import { Conn, type ConnContext } from './conn.ts';
import { DEFAULT_HTTP_PORTS, httpProbe } from './http.ts';
import { type ScanItem, escapePrintable, sortItems } from './items.ts';
import { TokenBucket, runPool } from './limits.ts';
import { type Endpoint, type ProbeContext, analyseTls, rawHello, speaksTls } from './tls-probe.ts';

/** How a scan behaves on the network. Every bound has a default; out-of-range values are refused (STK_ERR_VALIDATION). */
export interface ScanOptions {
  /** Address × port probes in progress at once; each holds at most one connection at a time. @defaultValue 32 */
  concurrency?: number;
  /** Connections started per second, every probe connection included. @defaultValue 100 */
  ratePerSecond?: number;
  /** Connections that may start at once before the rate applies. @defaultValue 1 */
  burst?: number;
  /** Time a connect has before the port counts as filtered. @defaultValue 3000 */
  connectTimeoutMs?: number;
  /** Look at open ports: banner, TLS, HTTP. Off, a scan is a bare connect scan. @defaultValue true */
  services?: boolean;
  /** Time a service has to speak first after connect. @defaultValue 2000 */
  bannerWindowMs?: number;
  /** Silence after the first banner bytes that ends the banner. @defaultValue 250 */
  bannerIdleMs?: number;
  /** Most banner bytes kept. @defaultValue 512 */
  bannerMaxBytes?: number;
  /** Try TLS on ports that are silent on connect. @defaultValue true */
  tls?: boolean;
  /** Enumerate weak suites per version and the TLS 1.3 suites. @defaultValue true */
  cipherEnumeration?: boolean;
  /** Time one handshake, hello answer or HTTP response may take. @defaultValue 5000 */
  probeTimeoutMs?: number;
  /** Ports that get the `HEAD / HTTP/1.0` probe when silent (over TLS when they speak it). @defaultValue DEFAULT_HTTP_PORTS */
  httpPorts?: readonly number[];
  /** Time the peer has to close after our FIN before the socket is destroyed. @defaultValue 1000 */
  closeWaitMs?: number;
  /** Stops starting probes; what finished is returned with `aborted: true`. */
  signal?: AbortSignal;
  /** Called with each item as it completes (in completion order, not the run's order). */
  onItem?: (item: ScanItem) => void;
}

/** A finished (or aborted) run: its items in the defined order, and what it cost. */
export interface ScanResult {
  items: ScanItem[];
  /** TCP connections started. */
  connections: number;
  aborted: boolean;
}

function bounded(o: ScanOptions, field: keyof ScanOptions, def: number, min: number, max: number): number {
  const v = o[field] ?? def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new StkError('STK_ERR_VALIDATION', `scan option ${field} must be a number from ${min} to ${max}`, { field, limit: max });
  }
  return v;
}

const ALL_SUITES = CIPHER_SUITES.map((s) => s.code);

/**
 * Runs a checked plan: a TCP connect to every address × port, at most `concurrency` at once and
 * `ratePerSecond` connections started; on an open port, the banner the service sends first; if
 * it is silent, a TLS 1.2 ClientHello on the same connection (a TLS answer, even an alert, makes
 * it a TLS port, analysed by analyseTls), and the HTTP probe on HTTP ports. Only the plan's
 * addresses are contacted, and no name is resolved here. Throws STK_ERR_SCAN_PLAN_UNCHECKED for
 * a plan checkScanRequest did not issue.
 */
export async function runScan(plan: ScanPlan, o: ScanOptions = {}): Promise<ScanResult> {
  if (!isCheckedPlan(plan)) throw new StkError('STK_ERR_SCAN_PLAN_UNCHECKED', undefined, {});
  const concurrency = bounded(o, 'concurrency', 32, 1, 1024);
  const ratePerSecond = bounded(o, 'ratePerSecond', 100, 0.1, 1_000_000);
  const burst = bounded(o, 'burst', 1, 1, 10_000);
  const conn: ConnContext = {
    bucket: new TokenBucket(ratePerSecond, burst),
    connectTimeoutMs: bounded(o, 'connectTimeoutMs', 3000, 10, 60_000),
    closeWaitMs: bounded(o, 'closeWaitMs', 1000, 0, 60_000),
    stats: { connections: 0 },
    ...(o.signal ? { signal: o.signal } : {}),
  };
  const pc: ProbeContext = { conn, probeTimeoutMs: bounded(o, 'probeTimeoutMs', 5000, 10, 60_000), cipherEnumeration: o.cipherEnumeration ?? true };
  const service = {
    enabled: o.services ?? true,
    tls: o.tls ?? true,
    bannerWindowMs: bounded(o, 'bannerWindowMs', 2000, 0, 60_000),
    bannerIdleMs: bounded(o, 'bannerIdleMs', 250, 1, 60_000),
    bannerMaxBytes: bounded(o, 'bannerMaxBytes', 512, 1, 16_384),
    httpPorts: new Set(o.httpPorts ?? DEFAULT_HTTP_PORTS),
  };

  function* jobs(): Generator<{ target: string; hostname: string | null; address: string; port: number }> {
    for (const t of plan.targets)
      for (const address of planAddresses(t)) for (const port of plan.ports) yield { target: t.target, hostname: t.hostname, address, port };
  }

  const items: ScanItem[] = [];
  const probe = async (job: { target: string; hostname: string | null; address: string; port: number }): Promise<void> => {
    const base = { target: job.target, address: job.address, port: job.port };
    const ep: Endpoint = { address: job.address, port: job.port, hostname: job.hostname };
    const opened = await Conn.open(conn, job.address, job.port);
    let item: ScanItem;
    if (opened.state !== 'open') item = { ...base, state: opened.state };
    else if (!service.enabled) {
      await opened.conn.close();
      item = { ...base, state: 'open' };
    } else item = { ...base, state: 'open', ...(await lookAtService(opened.conn, ep)) };
    items.push(item);
    o.onItem?.(item);
  };

  async function lookAtService(c: Conn, ep: Endpoint): Promise<Partial<ScanItem>> {
    const first = await c.read({ timeoutMs: service.bannerWindowMs, idleMs: service.bannerIdleMs, maxBytes: service.bannerMaxBytes });
    const isHttp = service.httpPorts.has(ep.port);
    if (first.data.length > 0 || first.ended) {
      await c.close();
      return first.data.length > 0 ? { banner: escapePrintable(first.data) } : {};
    }
    if (!service.tls) {
      if (!isHttp) {
        await c.close();
        return {};
      }
      const http = await httpProbe(pc, ep, { conn: c });
      return http ? { http } : {};
    }
    const detection = await rawHello(pc, ep, { version: 'TLSv1.2', suites: ALL_SUITES, wantCertificate: true, conn: c });
    if (speaksTls(detection)) {
      const tls = await analyseTls(pc, ep, detection);
      const http = isHttp ? await httpProbe(pc, ep, { overTls: true }) : null;
      return { ...(http ? { http } : {}), tls };
    }
    const http = isHttp ? await httpProbe(pc, ep) : null;
    return http ? { http } : {};
  }

  await runPool(jobs(), concurrency, probe, o.signal);
  return { items: sortItems(items), connections: conn.stats.connections, aborted: o.signal?.aborted ?? false };
}

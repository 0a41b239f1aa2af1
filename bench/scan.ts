import { type Server, type Socket, connect, createServer } from 'node:net';
import { pathToFileURL } from 'node:url';
import { checkScanRequest, runScan, type ScanOptions } from '../src/scan/mod.ts';
import { measure, percentile, report } from './util.ts';

const OPEN_PORTS = 500;
const CLOSED_PORTS = 1000;
const CONCURRENCY = 64;
const ROUNDS = 5;
/** High enough that neither limit is what is measured: the engine is. */
const UNLIMITED: ScanOptions = { concurrency: CONCURRENCY, ratePerSecond: 1_000_000, burst: 10_000 };

async function listenAll(n: number, onConnection: (s: Socket) => void): Promise<{ ports: number[]; close(): Promise<void> }> {
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  for (let i = 0; i < n; i++) {
    const server = createServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
      s.once('close', () => sockets.delete(s));
      onConnection(s);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    servers.push(server);
  }
  return {
    ports: servers.map((s) => (s.address() as { port: number }).port),
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    },
  };
}

/** Ports with nothing listening: bound once, then released. */
async function closedPorts(n: number): Promise<number[]> {
  const l = await listenAll(n, () => {});
  await l.close();
  return l.ports;
}

/** The reference: a bare net.connect per port, `inFlight` at once; `read` waits for the first data (banner) before closing. */
function rawConnect(port: number, read: boolean): Promise<void> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.on('error', () => resolve());
    s.once('connect', () => {
      if (!read) {
        s.destroy();
        resolve();
      }
    });
    if (read) {
      s.once('data', () => {
        s.destroy();
        resolve();
      });
      s.once('end', () => {
        s.destroy();
        resolve();
      });
    }
  });
}

async function scanRate(ports: number[], o: ScanOptions): Promise<number> {
  const check = await checkScanRequest({ targets: ['127.0.0.1'], ports }, ['127.0.0.1']);
  if (!check.ok) throw new Error('bench: the loopback scan was refused');
  const t0 = process.hrtime.bigint();
  const r = await runScan(check.plan, o);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.items.length !== ports.length) throw new Error('bench: items missing');
  return ports.length / seconds;
}

/**
 * Ports scanned per second against loopback, beside a bare `net.connect` loop at the same
 * concurrency in the same run: (a) open ports, connect scan only; (b) closed ports; (c) open ports
 * whose service sends a banner and closes, with the banner grab on. Medians of interleaved rounds.
 * The scanner also closes politely (FIN, then the peer's FIN) where the reference just drops the
 * socket: the ratio includes that on purpose, it is what a scan costs.
 */
export async function benchScan(): Promise<void> {
  const silent = await listenAll(OPEN_PORTS, () => {});
  const banner = await listenAll(OPEN_PORTS, (s) => s.end('SSH-2.0-OpenSSH_9.6p1 bench\r\n'));
  const closed = await closedPorts(CLOSED_PORTS);
  try {
    console.log(`  ${OPEN_PORTS} open and ${CLOSED_PORTS} closed loopback ports, ${CONCURRENCY} at once, ${ROUNDS} interleaved rounds (medians)`);
    const figures: Record<string, number[]> = {};
    const add = (k: string, v: number): void => void (figures[k] ??= []).push(v);
    // Warm-up of every path.
    await scanRate(silent.ports, { ...UNLIMITED, services: false });
    await scanRate(closed, { ...UNLIMITED, services: false });
    await measure(OPEN_PORTS, CONCURRENCY, (i) => rawConnect(silent.ports[i]!, false));
    await measure(CLOSED_PORTS, CONCURRENCY, (i) => rawConnect(closed[i]!, false));
    for (let round = 0; round < ROUNDS; round++) {
      add('raw-open', await measure(OPEN_PORTS, CONCURRENCY, (i) => rawConnect(silent.ports[i]!, false)));
      add('scan-open', await scanRate(silent.ports, { ...UNLIMITED, services: false }));
      add('raw-closed', await measure(CLOSED_PORTS, CONCURRENCY, (i) => rawConnect(closed[i]!, false)));
      add('scan-closed', await scanRate(closed, { ...UNLIMITED, services: false }));
      add('raw-banner', await measure(OPEN_PORTS, CONCURRENCY, (i) => rawConnect(banner.ports[i]!, true)));
      add('scan-banner', await scanRate(banner.ports, { ...UNLIMITED, tls: false }));
    }
    const median = (k: string): number => percentile(figures[k]!, 50);
    report('(a) connect scan, open ports', median('scan-open'), 'ports/s', { label: 'raw net.connect', value: median('raw-open') });
    report('(b) connect scan, closed ports', median('scan-closed'), 'ports/s', { label: 'raw net.connect', value: median('raw-closed') });
    report('(c) banner grab, service speaks first and closes', median('scan-banner'), 'ports/s', {
      label: 'raw connect + first read',
      value: median('raw-banner'),
    });
  } finally {
    await silent.close();
    await banner.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchScan();
  process.exit(0);
}

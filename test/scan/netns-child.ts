/**
 * Runs inside a test-made network namespace (test/scan/filtered.test.ts): scans the namespace's
 * own loopback, where nftables drops one port, and prints the items as JSON on stdout.
 */
import { createServer } from 'node:net';
import { checkScanRequest, runScan } from '../../src/scan/mod.ts';

const [openPort, droppedPort, closedPort] = process.argv.slice(2).map(Number) as [number, number, number];
const server = createServer((s) => s.end('open in netns\r\n'));
await new Promise<void>((resolve) => server.listen(openPort, '127.0.0.1', () => resolve()));
const check = await checkScanRequest({ targets: ['127.0.0.1'], ports: [openPort, droppedPort, closedPort] }, ['127.0.0.0/16']);
if (!check.ok) throw new Error(JSON.stringify(check));
const result = await runScan(check.plan, { connectTimeoutMs: 1500, ratePerSecond: 1000, bannerWindowMs: 2000 });
process.stdout.write(JSON.stringify(result.items));
server.close();

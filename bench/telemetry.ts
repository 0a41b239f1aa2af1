import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { jetstream } from '@nats-io/jetstream';
import { HostRoot } from '../src/agent/host-root.ts';
import { ProcessCollector } from '../src/agent/processes.ts';
import { IngressClient } from '../src/agent/run/client.ts';
import { newId } from '../src/ids.ts';
import { itemBytes, rootOfBytes, type TelemetryItem, telemetryRoot } from '../src/telemetry/items.ts';
import { telemetrySubject } from '../src/telemetry/stream.ts';
import { processItem } from '../test/edr/items.ts';
import { createTenant, enroll } from '../test/ingress/fixture.ts';
import { ingressOnNats, report } from './util.ts';

const AGENTS = 20;
const BATCH = 500;
const BATCHES_PER_AGENT = 10;
const ROOT_ITEMS = 10_000;
const SCANS = 5;
const PROCESSES = 1000;

/** Starts `n` sleep processes (none when n ≤ 0) and resolves once the kernel has made them all. */
async function startSleepers(n: number): Promise<ChildProcess[]> {
  const out: ChildProcess[] = [];
  for (let i = 0; i < n; i++) {
    const c = spawn('sleep', ['600'], { stdio: 'ignore' });
    out.push(c);
    await new Promise<void>((res, rej) => {
      c.once('spawn', res);
      c.once('error', rej);
    });
  }
  return out;
}

async function stopAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((res) => {
          if (c.exitCode !== null || c.signalCode !== null) return res();
          c.once('exit', () => res());
          c.kill('SIGKILL');
        }),
    ),
  );
}

/** A process item as an agent sends it: about 450 bytes of canonical JSON. */
const item = (i: number): TelemetryItem =>
  processItem(1000 + (i % 4_000_000), {
    cmdline: `/usr/bin/python3 /opt/app/worker.py --queue jobs-${i % 97} --concurrency 8`,
    sha256: (i % 16).toString(16).repeat(64),
    startedAt: new Date(1_790_000_000_000 + i * 1000).toISOString(),
  });

/**
 * Telemetry: items/s accepted through the mTLS ingress (20 agents, batches of 500 process starts,
 * each batch checked, its Merkle root verified, published and sealed) beside raw JetStream
 * publishes of the same bytes in the same run; the Merkle root of 10,000 items; and the agent's
 * CPU per 1,000 processes scanned from this machine's /proc.
 */
export async function benchTelemetry(): Promise<void> {
  const bench = await ingressOnNats('stk-bench-telemetry-');
  const { log, ingress, nc } = bench;
  try {
    const f = { url: ingress.url, caPem: ingress.ca.certificatePem } as Parameters<typeof enroll>[0];
    const { secret } = await createTenant(log, ['edr']);
    const clients = await Promise.all(Array.from({ length: AGENTS }, async () => new IngressClient((await enroll(f, secret)).state)));
    // Batches (and their roots) are made before the clock starts: that work is the agents'.
    let n = 0;
    const batches = clients.map(() =>
      Array.from({ length: BATCHES_PER_AGENT + 1 }, () => {
        const items = Array.from({ length: BATCH }, () => item(n++));
        return { batchId: newId(), merkleRoot: telemetryRoot(items), items };
      }),
    );
    const send = async (c: IngressClient, b: (typeof batches)[number][number]) => {
      const r = await c.telemetry(b);
      if (r.status !== 202) throw new Error(`telemetry answered ${r.status}: ${JSON.stringify(r.body)}`);
    };
    await Promise.all(clients.map((c, i) => send(c, batches[i]![0]!))); // warm-up: connections, JIT
    const t0 = process.hrtime.bigint();
    await Promise.all(
      clients.map(async (c, i) => {
        for (let b = 1; b <= BATCHES_PER_AGENT; b++) await send(c, batches[i]![b]!);
      }),
    );
    const total = AGENTS * BATCHES_PER_AGENT * BATCH;
    const ingressRate = total / (Number(process.hrtime.bigint() - t0) / 1e9);
    for (const c of clients) c.close();

    // The same bytes, published raw to the same stream (msg-ids too), as many in flight as the ingress had.
    const bytes = batches.flatMap((bs) => bs.slice(1).flatMap((b) => itemBytes(b.items)));
    const js = jetstream(nc);
    const subject = telemetrySubject('bench-raw', 'raw-agent');
    const inFlight = AGENTS * 64;
    let next = 0;
    const r0 = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < bytes.length) {
          const i = next++;
          await js.publish(subject, bytes[i]!, { msgID: `raw.${i}` });
        }
      }),
    );
    const rawRate = bytes.length / (Number(process.hrtime.bigint() - r0) / 1e9);

    // Merkle root of 10,000 items: canonical JSON + leaf hashes + tree, and the tree alone.
    const rootItems = Array.from({ length: ROOT_ITEMS }, (_, i) => item(i));
    const rootBytes = itemBytes(rootItems);
    const time = (fn: () => void, times: number): number => {
      fn();
      const t = process.hrtime.bigint();
      for (let k = 0; k < times; k++) fn();
      return Number(process.hrtime.bigint() - t) / 1e6 / times;
    };
    const rootMs = time(() => telemetryRoot(rootItems), 5);
    const treeMs = time(() => rootOfBytes(rootBytes), 5);

    // The agent's process scan over this machine's /proc, with sleepers started to make it about
    // 1,000 processes: the first scan hashes every distinct executable, later ones hit the cache.
    const sleepers = await startSleepers(PROCESSES - readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length);
    let first: unknown[];
    let scanned = 0;
    let c1: NodeJS.CpuUsage;
    let c3: NodeJS.CpuUsage;
    try {
      const collector = new ProcessCollector({ root: new HostRoot('/') });
      const c0 = process.cpuUsage();
      first = await collector.list();
      c1 = process.cpuUsage(c0);
      const c2 = process.cpuUsage();
      for (let k = 0; k < SCANS; k++) scanned += (await collector.list()).length;
      c3 = process.cpuUsage(c2);
    } finally {
      await stopAll(sleepers);
    }
    const perThousand = (cpu: NodeJS.CpuUsage, processes: number) => ((cpu.user + cpu.system) / 1000 / processes) * 1000;

    console.log(`  ${AGENTS} agents × ${BATCHES_PER_AGENT} batches × ${BATCH} process items; item ~${Math.round(bytes[0]!.length)} bytes of canonical JSON`);
    report('telemetry items through the ingress (mTLS, root checked, sealed)', ingressRate, 'items/s', {
      label: 'raw JetStream publish of the same bytes',
      value: rawRate,
      goal: 0.5,
    });
    report(`Merkle root of ${ROOT_ITEMS.toLocaleString('en-US')} items (canonical JSON + tree)`, rootMs, 'ms');
    report(`  of which the tree over the bytes (leaf and node hashes)`, treeMs, 'ms');
    report(`agent CPU per 1,000 processes, first scan (${first.length} processes, hashing)`, perThousand(c1, first.length), 'ms');
    report(`agent CPU per 1,000 processes, later scans (hash cache warm)`, perThousand(c3, scanned), 'ms');
  } finally {
    await bench.close();
  }
}

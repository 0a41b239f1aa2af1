import { readFile } from 'node:fs/promises';
import { workerIdOf } from '../datadir.ts';
import { openInstallBox } from '../notify/install-box.ts';
import type { TransportOptions } from '../notify/deliver.ts';
import type { Runtime, Started } from '../runtime.ts';
import { loadPack } from './pack.ts';
import { Detector } from './workers.ts';

/** One delivery attempt's bound. */
const TRANSPORT_TIMEOUT_MS = 10_000;

/** How outgoing notifications reach receivers, from the configuration. */
export async function transportOf(rt: Pick<Runtime, 'config'>): Promise<TransportOptions> {
  const d = rt.config.detector;
  return {
    dashboardBaseUrl: d.publicUrl,
    network: { allowLoopback: d.allowLoopback, allowPrivate: d.allowPrivate },
    timeoutMs: TRANSPORT_TIMEOUT_MS,
    ...(d.caFile ? { ca: await readFile(d.caFile, 'utf8') } : {}),
  };
}

/**
 * The detector role: telemetry and events evaluated against each tenant's rules, alerts raised
 * and grouped, notifications delivered through the outbox. Scaled by partition leases like the
 * sealer; counters in /metrics, failed partitions in /healthz.
 */
export async function startDetectorRole(rt: Runtime): Promise<Started> {
  const pack = await loadPack();
  const detector = await Detector.start({
    log: rt.log,
    streams: rt.streams,
    pack,
    box: await openInstallBox(rt.streams, { replicas: rt.config.replicas }),
    transport: await transportOf(rt),
    logger: rt.logger.child({ component: 'detector' }),
    silenceMs: rt.config.detector.silenceMs,
    replicas: rt.config.replicas,
    workerId: rt.config.sealer.workerId ?? (await workerIdOf(rt.config.dataDir, 'detector')),
  });
  const counter = (name: string, help: string, read: () => number): void =>
    rt.metrics.register({ name, help, type: 'counter', collect: () => [{ value: read() }] });
  counter('stk_detector_items_total', 'Telemetry items evaluated by this process', () => detector.counters.items);
  counter('stk_detector_matches_total', 'Rule matches found by this process', () => detector.counters.matches);
  counter('stk_detector_alerts_raised_total', 'Alerts raised by this process', () => detector.counters.raised);
  counter('stk_notify_attempts_total', 'Notification delivery attempts by this process', () => detector.counters.attempts);
  counter('stk_notify_delivered_total', 'Notifications delivered by this process', () => detector.counters.delivered);
  counter('stk_notify_dead_letters_total', 'Notifications given up by this process', () => detector.counters.deadLettered);
  rt.health.register('detector', () => {
    const failed = detector.failed;
    return { ok: failed.length === 0, partitions: detector.partitions, ...(failed.length ? { failedPartitions: failed } : {}) };
  });
  rt.logger.info({ rules: pack.length }, 'detector started');
  return { name: 'detector', close: () => detector.close() };
}

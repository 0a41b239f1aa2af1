import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { type Ingress, startIngress } from '../src/ingress/role.ts';
import { EventLog } from '../src/log/mod.ts';
import { createLogger } from '../src/logger.ts';
import { connectNats } from '../src/nats/connect.ts';
import { natsFixture, tempDir } from '../test/helpers/nats.ts';

export { natsFixture };

/** Runs `task(i)` for i in [0, n) with at most `inFlight` running at once; returns ops/s. */
export async function measure(n: number, inFlight: number, task: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = process.hrtime.bigint();
  const worker = async (): Promise<void> => {
    while (next < n) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, n) }, worker));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return n / seconds;
}

/** Percentile of a sorted-on-demand sample. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Prints one figure beside its reference and the ratio, with the goal when there is one. */
export function report(label: string, value: number, unit: string, ref?: { label: string; value: number; goal?: number }): void {
  const v = `${fmt(value)} ${unit}`;
  if (!ref) {
    console.log(`  ${label.padEnd(58)} ${v}`);
    return;
  }
  const ratio = value / ref.value;
  const goal = ref.goal === undefined ? '' : `  goal ≥ ${ref.goal} ${ratio >= ref.goal ? 'met' : 'NOT met'}`;
  console.log(`  ${label.padEnd(58)} ${v}   vs ${ref.label} ${fmt(ref.value)} ${unit}   ratio ${ratio.toFixed(2)}${goal}`);
}

export function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
}

/**
 * An ingress in this process on a fresh nats-server (loopback, a free port, enrollment unthrottled),
 * for the benches that drive agent requests; `close()` stops all of it and removes its folder.
 */
export async function ingressOnNats(prefix: string): Promise<{ log: EventLog; ingress: Ingress; nc: NatsConnection; dir: string; close(): Promise<void> }> {
  const nats = await natsFixture();
  const dir = await tempDir(prefix);
  const nc = await connectNats({ servers: nats.url });
  const log = await EventLog.connect(nc);
  const ingress = await startIngress({
    log,
    logger: createLogger({ level: 'silent' }),
    pkiDir: join(dir.path, 'pki'),
    host: '127.0.0.1',
    port: 0,
    enrollRateLimit: { max: 1_000_000, timeWindowMs: 60_000 },
  });
  return {
    log,
    ingress,
    nc,
    dir: dir.path,
    async close() {
      await ingress.close();
      await nc.close();
      await nats.stop();
      await dir.cleanup();
    },
  };
}

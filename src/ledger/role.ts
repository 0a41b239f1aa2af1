import { LAG_BUCKETS_S, type Metrics } from '../metrics.ts';
import type { Runtime, Started } from '../runtime.ts';
import { Keyring } from './keys.ts';
import type { Sealer } from './sealer.ts';
import { workerIdOf } from '../datadir.ts';
import { SealerGroup } from './group.ts';

/** Sealing lag beyond which /healthz reports the sealer unhealthy. */
export const SEALER_UNHEALTHY_LAG_SECONDS = 60;

/**
 * The sealer role inside a Stockade process: keyring under `<data>/ledger` (created, mode 0700/0600),
 * lag and counters in /metrics, lag and refused chains in /healthz.
 */
export async function startSealerRole(rt: Runtime): Promise<Started> {
  const lc = rt.config.ledger;
  const keyring = await Keyring.open(lc.keyDir, { create: true });
  // On its own connection where serve made one (the only NATS user allowed to write LEDGER).
  const sealerStreams = (rt.sealerStreams ?? rt.streams).withTimeout(10_000);
  // Sealing is split by partition: this process leases its share and seals those partitions.
  const group = await SealerGroup.start({
    // Blocks wait longer for their acknowledgement than appends: a timeout means signing again.
    streams: sealerStreams,
    keyring,
    logger: rt.logger,
    ledger: lc,
    replicas: rt.config.replicas,
    workerId: rt.config.sealer.workerId ?? (await workerIdOf(rt.config.dataDir, 'sealer')),
    onSealed: sealLagObserver(rt.metrics),
  });
  registerSealerTelemetry(rt, group);
  return {
    name: 'sealer',
    close: async () => {
      await group.close();
      sealerStreams.close();
    },
  };
}

/** What the sealer telemetry reads: one Sealer, or a SealerGroup of one per partition. */
export type SealerTelemetrySource = Pick<Sealer, 'lag' | 'backlog' | 'counters' | 'chains' | 'keyId' | 'superseded' | 'writeFailure'>;

/** The seal-lag histogram: for each block, how long its oldest entry waited to be signed. */
export function sealLagObserver(metrics: Metrics): (lagSeconds: number) => void {
  const h = metrics.histogram(
    'stockade_ledger_seal_lag_seconds',
    'Time from an event being stored to the ledger block that seals it being stored',
    [],
    LAG_BUCKETS_S,
  );
  return (lagSeconds) => h.observe(lagSeconds);
}

export function registerSealerTelemetry(rt: Pick<Runtime, 'metrics' | 'health'>, sealer: SealerTelemetrySource): void {
  const backlog = async (): Promise<number> => sealer.backlog().catch(() => 0);
  rt.metrics.register({
    name: 'stockade_ledger_lag_events',
    help: 'Event records stored but not yet in a signed ledger block',
    type: 'gauge',
    collect: async () => [{ value: sealer.lag().events + (await backlog()) }],
  });
  rt.metrics.register({
    name: 'stockade_ledger_lag_seconds',
    help: 'Age of the oldest event record not yet in a signed ledger block',
    type: 'gauge',
    collect: () => [{ value: sealer.lag().seconds }],
  });
  rt.metrics.register({
    name: 'stockade_ledger_sealed_entries_total',
    help: 'Chain entries sealed by this process',
    type: 'counter',
    collect: () => [{ value: sealer.counters.entries }],
  });
  rt.metrics.register({
    name: 'stockade_ledger_blocks_total',
    help: 'Ledger blocks signed and stored by this process',
    type: 'counter',
    collect: () => [{ value: sealer.counters.blocks }],
  });
  rt.health.register('sealer', async () => {
    const lag = sealer.lag();
    const refused = sealer
      .chains()
      .filter((c) => c.refused)
      .map((c) => c.tenant);
    // A sealer whose blocks are refused (LEDGER deleted, no permission, no quorum) seals nothing,
    // however small its lag looks at first: it is unhealthy from the first refusal on.
    const failure = sealer.writeFailure;
    return {
      ok: refused.length === 0 && !sealer.superseded && !failure && lag.seconds < SEALER_UNHEALTHY_LAG_SECONDS,
      keyId: sealer.keyId,
      lagEvents: lag.events + (await backlog()),
      lagSeconds: lag.seconds,
      ...(refused.length ? { refusedTenants: refused } : {}),
      ...(sealer.superseded ? { superseded: true } : {}),
      ...(failure ? { cannotWrite: { sinceSeconds: Math.round((Date.now() - failure.sinceMs) / 1000), error: failure.message } } : {}),
    };
  });
}

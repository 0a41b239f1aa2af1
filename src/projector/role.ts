import { PROJECTIONS } from '../../projections/index.ts';
import { TELEMETRY_PROJECTIONS } from '../../projections/telemetry.ts';
import { EvidenceStore } from '../evidence/store.ts';
import { openTelemetryProjector } from '../telemetry/projector.ts';
import type { StreamProjector } from './stream-projector.ts';
import type { TelemetryReadSide } from '../telemetry/read-side.ts';
import { ensureTelemetryStream } from '../telemetry/ensure.ts';
import { packagesStreamSpec } from '../patch/packages.ts';
import { openScanReadSide, type ScanReadSide } from '../scan/runs/read-side.ts';
import { newId } from '../ids.ts';
import { readModelLifecycle } from '../lifecycle/readmodels.ts';
import { clearTenantModels } from './reset.ts';
import { LAG_BUCKETS_S } from '../metrics.ts';
import type { Runtime } from '../runtime.ts';
import type { ReadStore } from '../store/store.ts';
import { ensureDefaultTenant } from '../tenancy/bootstrap.ts';
import { Projector } from './projector.ts';

/** This process's read models: the store queries read and the projector that fills it. */
export interface ReadModels {
  store: ReadStore;
  projector: Projector;
  /** The telemetry read models (fed by TELEMETRY), evidence bytes and proofs. */
  telemetry: TelemetryReadSide;
  /** The attack-surface read models fed by SCANS (scan items, endpoints, certificates) and item proofs. */
  scans: ScanReadSide;
  /** Stops every projector of this process. */
  stop(): Promise<void>;
}

/**
 * Opens the read models of this process: one projector per LevelDB (LevelDB belongs to one
 * process, so every process that answers queries runs its own), started before the API answers.
 * Lag goes to /metrics and /healthz.
 */
export async function openReadModels(rt: Pick<Runtime, 'db' | 'log' | 'logger' | 'metrics' | 'health' | 'config' | 'privacy'>): Promise<ReadModels> {
  const meta = rt.db.sublevel<string, unknown>('meta', { valueEncoding: 'json' });
  let instance = (await meta.get('instance')) as string | undefined;
  if (!instance) {
    instance = newId();
    await meta.put('instance', instance);
  }
  const logger = rt.logger.child({ component: 'projector' });
  const applyLag = rt.metrics.histogram(
    'stockade_projector_apply_lag_seconds',
    'Time from an event being stored to the read models showing it',
    [],
    LAG_BUCKETS_S,
  );
  const lifecycle = readModelLifecycle(rt.privacy?.keys ?? null);
  const projector = await Projector.open(rt.db, rt.log, PROJECTIONS, {
    durableName: `projector_${instance}`,
    logger,
    onApplied: (s) => applyLag.observe(s),
    lifecycle,
  });
  await projector.start();
  logger.info({ position: projector.position, models: PROJECTIONS.map((p) => p.model) }, 'projector started');
  let lag = { events: 0, seconds: 0 };
  rt.metrics.register({
    name: 'stockade_projector_lag_events',
    help: 'Events in EVENTS not yet applied to the read models',
    type: 'gauge',
    collect: async () => {
      lag = await projector.lag();
      return [{ value: lag.events }];
    },
  });
  rt.metrics.register({
    name: 'stockade_projector_lag_seconds',
    help: 'Age of the oldest event not yet applied to the read models',
    type: 'gauge',
    collect: () => [{ value: lag.seconds }],
  });
  rt.metrics.register({
    name: 'stockade_projector_position',
    help: 'Stream position every read model reflects',
    type: 'gauge',
    collect: () => [{ value: projector.position }],
  });
  rt.health.register('projector', async () => {
    const l = await projector.lag();
    return {
      ok: projector.lastError === null,
      position: l.position,
      lagEvents: l.events,
      lagSeconds: Number(l.seconds.toFixed(3)),
      ...(projector.lastError ? { error: projector.lastError } : {}),
    };
  });
  let telemetry: StreamProjector | null = null;
  let scans: ScanReadSide | null = null;
  try {
    // Readable before the first request: the API answers for the default tenant from the start.
    await projector.waitFor(await ensureDefaultTenant(rt.log), 10_000);
    const t = rt.config.telemetry;
    await ensureTelemetryStream(rt.log.streams, { replicas: rt.config.replicas, maxAgeMs: t.maxAgeMs, maxBytes: t.maxBytes }, rt.logger);
    const tlogger = rt.logger.child({ component: 'telemetry-projector' });
    telemetry = await openTelemetryProjector(rt.db, rt.log.streams, TELEMETRY_PROJECTIONS, { durableName: `telemetry_${instance}`, logger: tlogger });
    await telemetry.start();
    // An offboarded tenant's telemetry models go with its other read models.
    const store = telemetry.store;
    lifecycle.afterRemove = async (tenant) => {
      await clearTenantModels(store, tenant);
      if (scans) await clearTenantModels(scans.projector.store, tenant);
    };
    scans = await openScanReadSide({
      db: rt.db,
      log: rt.log,
      logger: rt.logger.child({ component: 'scans-projector' }),
      durableName: `scans_${instance}`,
      replicas: rt.config.replicas,
    });
    await rt.log.streams.ensureStreamWithin(packagesStreamSpec({ replicas: rt.config.replicas }));
  } catch (err) {
    await scans?.projector.stop();
    await telemetry?.stop();
    await projector.stop();
    throw err;
  }
  const tp = telemetry;
  rt.health.register('telemetry-projector', () => ({ ok: tp.lastError === null, position: tp.position, ...(tp.lastError ? { error: tp.lastError } : {}) }));
  const sp = scans.projector;
  rt.health.register('scans-projector', () => ({ ok: sp.lastError === null, position: sp.position, ...(sp.lastError ? { error: sp.lastError } : {}) }));
  return {
    store: projector.store,
    projector,
    telemetry: { projector: tp, evidence: new EvidenceStore(rt.log.streams, { replicas: rt.config.replicas, keys: rt.privacy?.keys ?? null }), log: rt.log },
    scans,
    async stop() {
      await sp.stop();
      await tp.stop();
      await projector.stop();
    },
  };
}

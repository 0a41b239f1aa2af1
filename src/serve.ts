import type { NatsConnection } from '@nats-io/transport-node';
import { Level } from 'level';
import { LEVEL_OPTIONS } from './store/store.ts';
import type { Config, Role } from './config/mod.ts';
import { dataPaths, ensureAdminKey, lockDataDir, reapStaleNats, writeNatsPid, writeRunInfo } from './datadir.ts';
import { Health } from './health.ts';
import { buildApiApp } from './http/api.ts';
import { EventLog, Streams } from './log/mod.ts';
import { createLogger, type Logger } from './logger.ts';
import { Metrics, registerJetStreamCalls } from './metrics.ts';
import { connectNats } from './nats/connect.ts';
import { startNatsServer, type NatsServer } from './nats/server.ts';
import { openReadModels } from './projector/role.ts';
import { API_PLUGINS, ROLE_STARTERS, SITE_PLUGINS } from './roles.ts';
import type { Runtime, Started } from './runtime.ts';
import { ensureTelemetryStream } from './telemetry/ensure.ts';

/** A running Stockade process. */
export interface Stockade {
  runtime: Runtime;
  /** Operator API URL when the api role runs. */
  apiUrl?: string;
  ingressUrl?: string;
  natsUrl: string;
  /** The embedded nats-server, when this process started one. */
  embeddedNats?: NatsServer;
  /** Drains every role, closes NATS and LevelDB, stops the embedded nats-server. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts the roles of `config` on one process. With no NATS_URL it starts an embedded
 * nats-server (JetStream, loopback only, store under `<data>/nats`).
 */
export async function startStockade(config: Config, o: { logger?: Logger } = {}): Promise<Stockade> {
  const logger = o.logger ?? createLogger({ level: config.logLevel, json: config.logJson });
  const paths = dataPaths(config.dataDir);
  const lock = await lockDataDir(config.dataDir);
  const closers: Array<{ name: string; close(): Promise<void> | void }> = [{ name: 'lock', close: () => lock.release() }];
  const close = async (): Promise<void> => {
    while (closers.length) {
      const c = closers.pop()!;
      try {
        await c.close();
      } catch (err) {
        logger.warn({ err, component: c.name }, 'error while closing');
      }
    }
  };

  try {
    let embeddedNats: NatsServer | undefined;
    let natsUrls = config.natsUrl;
    if (natsUrls.length === 0) {
      await reapStaleNats(config.dataDir);
      const natsLog = logger.child({ component: 'nats-server' });
      embeddedNats = await startNatsServer({
        storeDir: paths.natsStore,
        serverName: 'embedded',
        onLogLine: (line) => natsLog.debug(line),
      });
      await writeNatsPid(config.dataDir, embeddedNats.pid);
      closers.push({ name: 'nats-server', close: () => embeddedNats!.stop() });
      natsUrls = [embeddedNats.url];
      logger.info({ url: embeddedNats.url, store: paths.natsStore }, 'embedded nats-server started');
    }

    const nc = await connectNats({
      servers: natsUrls,
      name: `stockade-${config.roles.join('+')}`,
      ...(config.natsUser ? { user: config.natsUser, pass: config.natsPass ?? '' } : {}),
    });
    closers.push({ name: 'nats', close: () => nc.drain().catch(() => nc.close()) });
    const natsState = watchConnection(nc, logger);

    const streams = await Streams.open(nc);
    closers.push({ name: 'streams', close: () => streams.close() });
    const metrics = new Metrics();
    registerJetStreamCalls(metrics, streams.calls);
    const appendDuration = metrics.histogram('stockade_log_append_duration_seconds', 'Event log appends, from the call to the stream acknowledgement');
    const log = await EventLog.open(streams, { replicas: config.replicas, onAppend: (s) => appendDuration.observe(s) });
    // TELEMETRY next to EVENTS from the start: its retention comes from this configuration.
    await ensureTelemetryStream(streams, { replicas: config.replicas, maxAgeMs: config.telemetry.maxAgeMs, maxBytes: config.telemetry.maxBytes }, logger);
    const needsDb = config.roles.some((r) => r === 'api' || r === 'projector');
    const db = new Level<string, unknown>(paths.level, LEVEL_OPTIONS);
    if (needsDb) {
      await db.open();
      closers.push({ name: 'leveldb', close: () => db.close() });
    }
    const admin = await ensureAdminKey(config.dataDir);
    if (admin.created) logger.info({ path: admin.path }, 'created the admin API key; read it from this file');
    else logger.info({ path: admin.path }, 'admin API key');

    const health = new Health();
    health.register('nats', () => ({ ok: natsState.connected && !nc.isClosed(), server: nc.getServer(), reconnects: natsState.reconnects }));
    health.register('jetstream', async () => ({ ok: true, ...(await streams.account()) }));
    if (needsDb) health.register('leveldb', () => ({ ok: db.status === 'open', path: paths.level }));

    const runtime: Runtime = {
      config,
      logger,
      streams,
      log,
      db,
      readModels: null,
      metrics,
      health,
      adminKey: config.adminKey ?? admin.key,
    };
    const started: Started[] = [];
    if (needsDb) {
      // Queries read this process's own LevelDB, so the api role needs the projector before it answers.
      runtime.readModels = await openReadModels(runtime);
      const rm = runtime.readModels;
      closers.push({ name: 'projector', close: () => rm.stop() });
    }
    let apiUrl: string | undefined;
    if (config.roles.includes('api')) {
      const app = await buildApiApp(runtime, API_PLUGINS, SITE_PLUGINS);
      apiUrl = await app.listen({ host: config.httpHost, port: config.httpPort });
      closers.push({ name: 'api', close: () => app.close() });
      logger.info({ url: apiUrl }, 'operator API listening');
    }
    if (config.metricsHttp && !config.roles.includes('api')) {
      // /healthz and /metrics only: an ingress, sealer or detector process read by Prometheus.
      const ops = await buildApiApp(runtime);
      const opsUrl = await ops.listen({ host: config.metricsHttp.host, port: config.metricsHttp.port });
      closers.push({ name: 'metrics-http', close: () => ops.close() });
      logger.info({ url: opsUrl }, 'health and metrics listening');
    }
    for (const role of config.roles) {
      const start = ROLE_STARTERS[role as Exclude<Role, 'api'>];
      if (!start) continue;
      const s = await start(runtime);
      started.push(s);
      closers.push({ name: s.name, close: () => s.close() });
    }
    const ingressUrl = started.find((s) => s.name === 'ingress')?.url;
    await writeRunInfo(config.dataDir, {
      pid: process.pid,
      natsUrl: natsUrls.join(','),
      ...(apiUrl ? { apiUrl } : {}),
      ...(ingressUrl ? { ingressUrl } : {}),
      startedAt: new Date().toISOString(),
    });
    let closing: Promise<void> | null = null;
    return {
      runtime,
      ...(apiUrl ? { apiUrl } : {}),
      ...(ingressUrl ? { ingressUrl } : {}),
      natsUrl: natsUrls.join(','),
      ...(embeddedNats ? { embeddedNats } : {}),
      close: () => (closing ??= close()),
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Follows the connection's status so /healthz can report a NATS outage and its recovery. */
function watchConnection(nc: NatsConnection, logger: Logger): { connected: boolean; reconnects: number } {
  const state = { connected: true, reconnects: 0 };
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        state.connected = false;
        logger.warn({ server: s.server }, 'NATS connection lost; reconnecting');
      } else if (s.type === 'reconnect') {
        state.connected = true;
        state.reconnects++;
        logger.info({ server: s.server }, 'NATS connection restored');
      }
    }
  })();
  return state;
}

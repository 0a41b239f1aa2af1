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
import { ensureNatsCredentials, ledgerAuthConfig, passwordEnvironment, type NatsCredentials } from './nats/auth.ts';
import { connectNats, urlWithCredentials } from './nats/connect.ts';
import { adoptUnauthenticatedStore, startNatsServer, type NatsServer } from './nats/server.ts';
import { openPrivacy } from './privacy/mod.ts';
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
  /** How to reach the bus as this process's application user: with an embedded server, the URL carries the app user's credentials (never log it). */
  natsUrl: string;
  /** The embedded nats-server, when this process started one. */
  embeddedNats?: NatsServer;
  /** Drains every role, closes NATS and LevelDB, stops the embedded nats-server. Idempotent. */
  close(): Promise<void>;
}

/**
 * How long one part may take to stop before the stop goes on without it. A part that must tell
 * NATS something on its way out (the sealer's floors, a lease given back, a drain) waits for a
 * server that may be gone: without a bound, a stop during a NATS outage would never end. What such
 * a part could not say costs a re-read at the next start, never a gap (docs/architecture.md, "Processes and roles").
 */
const CLOSE_STEP_MS = 10_000;

/**
 * Starts the roles of `config` on one process. With no NATS_URL it starts an embedded
 * nats-server (JetStream, loopback only, store under `<data>/nats`) with the accounts and
 * permissions of infra/nats/ledger-auth.conf and passwords generated at the first start
 * (`<data>/nats/credentials.json`, 0600): the process connects as `app`, and its sealer role on a
 * connection of its own as `sealer`, the only user that may write LEDGER.
 */
export async function startStockade(config: Config, o: { logger?: Logger } = {}): Promise<Stockade> {
  const logger = o.logger ?? createLogger({ level: config.logLevel, json: config.logJson });
  const paths = dataPaths(config.dataDir);
  const lock = await lockDataDir(config.dataDir);
  const closers: Array<{ name: string; close(): Promise<void> | void }> = [{ name: 'lock', close: () => lock.release() }];
  const close = async (): Promise<void> => {
    while (closers.length) {
      const c = closers.pop()!;
      let timer: NodeJS.Timeout | undefined;
      try {
        const done = await Promise.race([
          Promise.resolve()
            .then(() => c.close())
            .then(() => true),
          new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), CLOSE_STEP_MS))),
        ]);
        if (!done) logger.warn({ component: c.name, waitedMs: CLOSE_STEP_MS }, 'did not stop in time; stopping the rest without it');
      } catch (err) {
        logger.warn({ err, component: c.name }, 'error while closing');
      } finally {
        clearTimeout(timer);
      }
    }
  };

  try {
    let embeddedNats: NatsServer | undefined;
    let natsUrls = config.natsUrl;
    let credentials: NatsCredentials | null = null;
    if (natsUrls.length === 0) {
      await reapStaleNats(config.dataDir);
      credentials = await ensureNatsCredentials(config.dataDir);
      // A store made before the embedded server had accounts holds its streams in the global account.
      if (await adoptUnauthenticatedStore(paths.natsStore, 'STOCKADE'))
        logger.warn({ store: paths.natsStore }, 'moved the streams of an unauthenticated store into the STOCKADE account');
      const natsLog = logger.child({ component: 'nats-server' });
      embeddedNats = await startNatsServer({
        storeDir: paths.natsStore,
        serverName: 'embedded',
        extraConfig: ledgerAuthConfig(),
        env: passwordEnvironment(credentials),
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
      ...(credentials ? { user: 'app', pass: credentials.users.app } : config.natsUser ? { user: config.natsUser, pass: config.natsPass ?? '' } : {}),
    });
    closers.push({ name: 'nats', close: () => nc.drain().catch(() => nc.close()) });
    const natsState = watchConnection(nc, logger);

    const streams = await Streams.open(nc);
    closers.push({ name: 'streams', close: () => streams.close() });
    // The sealer signs and stores blocks on a connection of its own, as the only user allowed to.
    let sealerStreams: Streams | undefined;
    if (credentials && config.roles.includes('sealer')) {
      const snc = await connectNats({ servers: natsUrls, name: 'stockade-sealer', user: 'sealer', pass: credentials.users.sealer });
      closers.push({ name: 'nats-sealer', close: () => snc.drain().catch(() => snc.close()) });
      sealerStreams = await Streams.open(snc);
      const opened = sealerStreams;
      closers.push({ name: 'sealer-streams', close: () => opened.close() });
    }
    const metrics = new Metrics();
    registerJetStreamCalls(metrics, streams.calls);
    const appendDuration = metrics.histogram('stockade_log_append_duration_seconds', 'Event log appends, from the call to the stream acknowledgement');
    // Field encryption for every role that writes or reads events for meaning; a sealer alone never holds a key.
    const privacy =
      config.lifecycle.fieldEncryption && config.roles.some((r) => r !== 'sealer') ? await openPrivacy(streams, { replicas: config.replicas }) : null;
    if (privacy) closers.push({ name: 'privacy', close: () => privacy.close() });
    const log = await EventLog.open(streams, {
      replicas: config.replicas,
      onAppend: (s) => appendDuration.observe(s),
      ...(privacy ? { fields: privacy.cipher } : {}),
    });
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
      ...(sealerStreams ? { sealerStreams } : {}),
      privacy,
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
      natsUrl: credentials ? natsUrls.map((u) => urlWithCredentials(u, 'app', credentials!.users.app)).join(',') : natsUrls.join(','),
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

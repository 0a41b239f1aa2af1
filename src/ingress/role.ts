import type { FastifyInstance } from 'fastify';
import { join } from 'node:path';
import { LagMonitor } from '../backpressure.ts';
import { ConsistencyTokens } from '../api/consistency.ts';
import { dataPaths } from '../datadir.ts';
import { EvidenceStore, type EvidenceKeys } from '../evidence/store.ts';
import type { EventLog } from '../log/mod.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { Health } from '../health.ts';
import type { InstallCa } from '../pki/ca.ts';
import { Issuer } from '../pki/issuer.ts';
import type { Runtime, Started } from '../runtime.ts';
import { buildIngressApp } from './app.ts';
import type { IngressDeps } from './deps.ts';
import type { TenantGate } from './identity.ts';
import { IngressViews } from './views.ts';
import { AgentCertificates } from './certificates.ts';
import { ensureTelemetryStream } from '../telemetry/ensure.ts';
import type { TelemetryStreamOptions } from '../telemetry/stream.ts';

/** Connections the kernel may queue for the ingress before it accepts them. */
const LISTEN_BACKLOG = 4096;

export interface IngressOptions {
  log: EventLog;
  logger: Logger;
  /** Where tenant facts come from. @defaultValue a TenantView on `log`, started and closed with the ingress */
  tenants?: TenantGate;
  /** Folder of the install's CA (`<data>/pki`). */
  pkiDir: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  metrics?: Metrics;
  health?: Health;
  certValidityDays?: number;
  /** Threads that check CSRs and sign certificates; 0 = on the event loop. @defaultValue the machine's parallelism, at most 4 */
  issuerThreads?: number;
  enrollRateLimit?: IngressDeps['enrollRateLimit'];
  now?: () => Date;
  backpressure?: IngressDeps['backpressure'];
  /** @defaultValue the install's, from KV */
  tokens?: ConsistencyTokens;
  /** Retention and replicas of the TELEMETRY stream, created (or brought up to date) at start. */
  telemetryStream?: TelemetryStreamOptions;
  /** The field encryption key store: evidence bytes are stored encrypted under their machine's key. @defaultValue none (stored in the clear) */
  keys?: EvidenceKeys | null;
  /** Largest evidence upload. @defaultValue 64 MiB */
  evidenceMaxBytes?: number;
  /** At most one check of how far the log goes per this many ms, shared by every request. @defaultValue 10 */
  freshnessIntervalMs?: number;
  /** Long-polls held at once; more wait no longer than an answer. @defaultValue 100000 */
  maxWaiting?: number;
  /** Connections open at once; more are refused. @defaultValue no limit */
  maxConnections?: number;
  /** Which requests are logged. @defaultValue 'refusals' */
  accessLog?: 'all' | 'refusals';
}

/** A listening ingress. */
export interface Ingress extends Started {
  url: string;
  app: FastifyInstance;
  ca: InstallCa;
  /** Its in-memory views: agents held, long-polls waiting, checks of the log sent. */
  views: IngressViews;
}

/**
 * Starts the agent ingress: opens (or creates) the install's CA, issues this process's server
 * certificate for `host`, starts the command outbox and listens with HTTPS + client certificates.
 */
export async function startIngress(o: IngressOptions): Promise<Ingress> {
  const issuer = await Issuer.open(o.pkiDir, o.issuerThreads === undefined ? {} : { size: o.issuerThreads });
  const ca = issuer.ca;
  const tls = await ca.issueServerCertificate([o.host]);
  const tokens = o.tokens ?? (await ConsistencyTokens.open(o.log.streams));
  await ensureTelemetryStream(o.log.streams, o.telemetryStream ?? {}, o.logger);
  const views = new IngressViews(o.log, o.logger.child({ component: 'ingress-views' }), {
    ...(o.freshnessIntervalMs !== undefined ? { freshnessIntervalMs: o.freshnessIntervalMs } : {}),
  });
  const tenants = o.tenants ?? views;
  // Before the views start: the feed tells it of renewals other ingresses store.
  const certificates = await AgentCertificates.open(o.log, { replicas: o.telemetryStream?.replicas ?? 1, feed: views.feed });
  let app: FastifyInstance;
  try {
    await views.start();
    app = await buildIngressApp(
      {
        log: o.log,
        issuer,
        tenants,
        certificates,
        outbox: views.outbox,
        settings: views.settings,
        agents: views.agents,
        waiters: views.waiters,
        maxWaiting: o.maxWaiting ?? 100_000,
        ...(o.maxConnections !== undefined ? { maxConnections: o.maxConnections } : {}),
        accessLog: o.accessLog ?? 'refusals',
        evidence: new EvidenceStore(o.log.streams, { replicas: o.telemetryStream?.replicas ?? 1, keys: o.keys ?? null }),
        evidenceMaxBytes: o.evidenceMaxBytes ?? 64 * 1024 * 1024,
        tokens,
        logger: o.logger,
        ...(o.metrics ? { metrics: o.metrics } : {}),
        ...(o.certValidityDays ? { certValidityDays: o.certValidityDays } : {}),
        ...(o.enrollRateLimit ? { enrollRateLimit: o.enrollRateLimit } : {}),
        ...(o.now ? { now: o.now } : {}),
        ...(o.backpressure ? { backpressure: o.backpressure } : {}),
        ready: () => views.feed.readiness(),
      },
      tls,
    );
    // A fleet reconnecting at once (an ingress restart) fills node's default accept queue of 511 in
    // moments, and the kernel then drops connections it cannot queue; the kernel caps this at
    // net.core.somaxconn (4096 on Debian).
    await app.listen({ host: o.host, port: o.port, backlog: LISTEN_BACKLOG });
  } catch (err) {
    await views.close();
    await issuer.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  const url = `https://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;
  o.health?.register('ingress', () => ({ ok: app.server.listening, url }));
  // Not ok while the views are more than a second behind the log (what the agents' /healthz answers 503 for).
  o.health?.register('ingress-views', () => views.feed.readiness());
  return {
    name: 'ingress',
    url,
    app,
    ca,
    views,
    async close() {
      // Long-polls answer first, so closing the server does not wait out their time.
      views.waiters.close();
      await app.close();
      await views.close();
      await issuer.close();
    },
  };
}

/** The `ingress` role of `stockade serve`: its settings are the `ingress` and `backpressure` sections of the configuration. */
export async function startIngressRole(rt: Runtime): Promise<Ingress> {
  const { ingress: o, backpressure } = rt.config;
  const { refreshMs, ...bounds } = backpressure;
  const ingress = await startIngress({
    log: rt.log,
    logger: rt.logger,
    pkiDir: dataPaths(rt.config.dataDir).pki,
    host: rt.config.ingressHost,
    port: rt.config.ingressPort,
    metrics: rt.metrics,
    health: rt.health,
    certValidityDays: o.certValidityDays,
    enrollRateLimit: { max: o.enrollPerMinute, timeWindowMs: 60_000 },
    issuerThreads: o.issuerThreads,
    maxWaiting: o.maxWaiting,
    maxConnections: o.maxConnections,
    accessLog: o.accessLog,
    freshnessIntervalMs: o.freshnessMs,
    backpressure: new LagMonitor(rt.streams, bounds, { refreshMs }),
    tokens: await ConsistencyTokens.open(rt.streams, { replicas: rt.config.replicas }),
    telemetryStream: { replicas: rt.config.replicas, maxAgeMs: rt.config.telemetry.maxAgeMs, maxBytes: rt.config.telemetry.maxBytes },
    evidenceMaxBytes: rt.config.telemetry.evidenceMaxBytes,
    keys: rt.privacy?.keys ?? null,
  });
  rt.logger.info({ url: ingress.url, ca: join(dataPaths(rt.config.dataDir).pki, 'ca.crt') }, 'agent ingress listening');
  return ingress;
}

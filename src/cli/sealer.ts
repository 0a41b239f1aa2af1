import type { Command } from 'commander';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Health } from '../health.ts';
import { registerSealerTelemetry, type SealerTelemetrySource } from '../ledger/role.ts';
import { Metrics, registerJetStreamCalls } from '../metrics.ts';
import { addSettingFlags, loadConfig } from '../config/mod.ts';
import { Keyring } from '../ledger/keys.ts';
import { SealerGroup } from '../ledger/group.ts';
import { createLogger } from '../logger.ts';
import { connectBus } from './bus.ts';

/**
 * `stockade sealer`: the sealer as its own process (separate mode) — the only holder of the
 * signing key, connecting as the NATS user that alone may publish `ledger.>` (infra/).
 */
export function registerSealer(program: Command): void {
  const cmd = program.command('sealer').description('run the ledger sealer as its own process (separate mode; see infra/README.md)');
  addSettingFlags(cmd, 'sealer').action(async (opts: Record<string, string | undefined>) => {
    const config = loadConfig(opts, process.env, 'sealer');
    const logger = createLogger({ level: config.logLevel, json: config.logJson });
    const keyring = await Keyring.open(config.ledger.keyDir, { create: true });
    const bus = await connectBus({
      ...(config.natsUrl.length ? { natsUrl: config.natsUrl.join(',') } : {}),
      data: config.dataDir,
      name: 'stockade-sealer',
      user: 'sealer',
      timeoutMs: 10_000,
    });
    // Several `stockade sealer` processes share the partitions through leases (src/partitions).
    const sealer = await SealerGroup.start({
      streams: bus.streams,
      keyring,
      logger,
      ledger: config.ledger,
      replicas: config.replicas,
      ...(config.sealer.workerId ? { workerId: config.sealer.workerId } : {}),
    });
    const telemetry = config.sealer.http ? await serveTelemetry(sealer, config.sealer.http, bus.streams.calls) : null;
    logger.info({ keyId: keyring.keyId, keyDir: config.ledger.keyDir, nats: bus.server, ...(telemetry ? { http: telemetry.url } : {}) }, 'sealer is running');
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'stopping');
      telemetry?.server.close();
      void sealer
        .close()
        .then(() => bus.close())
        .then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error({ err }, 'error while stopping');
            process.exit(1);
          },
        );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}

/** The separate sealer's own /healthz and /metrics: the same checks and gauges as inside serve. */
async function serveTelemetry(
  sealer: SealerTelemetrySource,
  address: { host: string; port: number },
  calls: { snapshot(): Record<string, number> },
): Promise<{ server: Server; url: string }> {
  const health = new Health();
  const metrics = new Metrics();
  registerJetStreamCalls(metrics, calls);
  registerSealerTelemetry({ health, metrics }, sealer);
  const server = createServer((req, res) => {
    const done = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'content-type': type }).end(body);
    };
    if (req.method === 'GET' && req.url === '/healthz') {
      void health.run().then((h) => done(h.ok ? 200 : 503, 'application/json', JSON.stringify({ status: h.ok ? 'ok' : 'unavailable', checks: h.checks })));
    } else if (req.method === 'GET' && req.url === '/metrics') {
      void metrics.render().then((text) => done(200, 'text/plain; version=0.0.4', text));
    } else done(404, 'application/json', JSON.stringify({ error: { code: 'STK_ERR_NOT_FOUND', message: 'not found' } }));
  });
  const { host } = address;
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(address.port, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return { server, url: `http://${host}:${port}` };
}

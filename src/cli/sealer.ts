import type { Command } from 'commander';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { StkError } from '../errors.ts';
import { Health } from '../health.ts';
import { registerSealerTelemetry, type SealerTelemetrySource } from '../ledger/role.ts';
import { Metrics } from '../metrics.ts';
import { loadLedgerConfig } from '../ledger/config.ts';
import { Keyring } from '../ledger/keys.ts';
import { SealerGroup } from '../ledger/group.ts';
import { createLogger } from '../logger.ts';
import { connectBus } from './bus.ts';

/**
 * `stockade sealer`: the sealer as its own process (separate mode) — the only holder of the
 * signing key, connecting as the NATS user that alone may publish `ledger.>` (infra/).
 */
export function registerSealer(program: Command): void {
  program
    .command('sealer')
    .description('run the ledger sealer as its own process (separate mode; see infra/README.md)')
    .option('--data <dir>', 'folder for the keyring (<data>/ledger) when --key-dir is not given (STOCKADE_DATA)')
    .option('--key-dir <dir>', 'keyring folder (STOCKADE_LEDGER_KEY_DIR)')
    .option('--nats-url <urls>', 'NATS servers (NATS_URL); credentials from STOCKADE_NATS_USER/STOCKADE_NATS_PASS')
    .option('--block-max-entries <n>', 'most entries per block (STOCKADE_LEDGER_BLOCK_MAX_ENTRIES)')
    .option('--block-max-ms <ms>', 'longest an entry waits for its block (STOCKADE_LEDGER_BLOCK_MAX_MS)')
    .option('--checkpoint-ms <ms>', 'time between checkpoints (STOCKADE_LEDGER_CHECKPOINT_MS)')
    .option('--checkpoint-file <path>', 'also write each checkpoint here (STOCKADE_LEDGER_CHECKPOINT_FILE)')
    .option('--witness-url <url>', 'also POST each checkpoint here (STOCKADE_LEDGER_WITNESS_URL)')
    .option(
      '--worker-id <id>',
      "this worker's id for partition leases; a restart with the same id takes its leases back at once (default: a new id per process)",
    )
    .option('--replicas <n>', 'replicas of the LEDGER stream when it is created (STOCKADE_REPLICAS)')
    .option('--http <host:port>', '/healthz and /metrics of this process (STOCKADE_SEALER_HTTP)')
    .option('--log-level <level>', 'pino level (STOCKADE_LOG_LEVEL)')
    .action(
      async (opts: {
        data?: string;
        keyDir?: string;
        natsUrl?: string;
        blockMaxEntries?: string;
        blockMaxMs?: string;
        checkpointMs?: string;
        checkpointFile?: string;
        witnessUrl?: string;
        workerId?: string;
        replicas?: string;
        logLevel?: string;
        http?: string;
      }) => {
        const logger = createLogger({ ...(opts.logLevel ? { level: opts.logLevel } : {}) });
        const dataDir = resolve(opts.data ?? process.env.STOCKADE_DATA ?? './data');
        const lc = loadLedgerConfig(dataDir, opts);
        const keyring = await Keyring.open(lc.keyDir, { create: true });
        const bus = await connectBus({ ...(opts.natsUrl ? { natsUrl: opts.natsUrl } : {}), data: dataDir, name: 'stockade-sealer', timeoutMs: 10_000 });
        // Several `stockade sealer` processes share the partitions through leases (src/partitions).
        const sealer = await SealerGroup.start({
          streams: bus.streams,
          keyring,
          logger,
          ledger: lc,
          replicas: Number(opts.replicas ?? process.env.STOCKADE_REPLICAS ?? 1),
          ...(opts.workerId ? { workerId: opts.workerId } : {}),
        });
        const httpAddr = opts.http ?? process.env.STOCKADE_SEALER_HTTP;
        const telemetry = httpAddr ? await serveTelemetry(sealer, httpAddr) : null;
        logger.info({ keyId: keyring.keyId, keyDir: lc.keyDir, nats: bus.server, ...(telemetry ? { http: telemetry.url } : {}) }, 'sealer is running');
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
      },
    );
}

/** The separate sealer's own /healthz and /metrics: the same checks and gauges as inside serve. */
async function serveTelemetry(sealer: SealerTelemetrySource, address: string): Promise<{ server: Server; url: string }> {
  const m = /^(?:\[?([^\]]*)\]?:)?(\d{1,5})$/.exec(address.trim());
  if (!m || Number(m[2]) > 65535)
    throw new StkError('STK_ERR_CONFIG', `--http must be host:port or a port, got ${JSON.stringify(address)}`, { value: address });
  const health = new Health();
  const metrics = new Metrics();
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
  const host = m[1] || '127.0.0.1';
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(Number(m[2]), host, resolve));
  const port = (server.address() as AddressInfo).port;
  return { server, url: `http://${host}:${port}` };
}

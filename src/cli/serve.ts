import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { startStockade } from '../serve.ts';

/** `stockade serve`: every role (or `--role` a subset) in one process. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run Stockade; with no NATS_URL it starts an embedded nats-server under the data folder')
    .option('--data <dir>', 'data folder (STOCKADE_DATA)', undefined)
    .option('--role <roles>', 'comma-separated roles: api,ingress,projector,sealer (STOCKADE_ROLE)')
    .option('--http <host:port>', 'operator API address (STOCKADE_HTTP)')
    .option('--ingress <host:port>', 'agent ingress address (STOCKADE_INGRESS)')
    .option('--nats-url <urls>', 'external NATS servers, comma-separated (NATS_URL)')
    .option('--replicas <n>', 'stream replicas: 1, or 3 on a cluster (STOCKADE_REPLICAS)')
    .option('--log-level <level>', 'pino level (STOCKADE_LOG_LEVEL)')
    .option('--public-ingress-url <url>', 'https URL agents use to reach the ingress, shown in enroll commands (STOCKADE_PUBLIC_INGRESS_URL)')
    .action(async (opts: { data?: string; role?: string; http?: string; ingress?: string; natsUrl?: string; replicas?: string; logLevel?: string }) => {
      const config = loadConfig(opts);
      const stk = await startStockade(config);
      const log = stk.runtime.logger;
      log.info({ roles: config.roles, data: config.dataDir, api: stk.apiUrl, ingress: stk.ingressUrl, nats: stk.natsUrl }, 'stockade is running');
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'stopping');
        stk.close().then(
          () => {
            log.info('stopped');
            log.flush?.();
            process.exit(0);
          },
          (err: unknown) => {
            log.error({ err }, 'error while stopping');
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
}

import type { Command } from 'commander';
import { addSettingFlags, loadConfig } from '../config/mod.ts';
import { startStockade } from '../serve.ts';
import { withoutPasswords } from '../nats/connect.ts';

/** `stockade serve`: every role (or `--role` a subset) in one process. */
export function registerServe(program: Command): void {
  const cmd = program.command('serve').description('run Stockade; with no NATS_URL it starts an embedded nats-server under the data folder');
  addSettingFlags(cmd, 'serve').action(async (opts: Record<string, string | undefined>) => {
    const config = loadConfig(opts);
    const stk = await startStockade(config);
    const log = stk.runtime.logger;
    log.info(
      { roles: config.roles, data: config.dataDir, api: stk.apiUrl, ingress: stk.ingressUrl, nats: withoutPasswords(stk.natsUrl) },
      'stockade is running',
    );
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

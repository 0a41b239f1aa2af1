import type { Command } from 'commander';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { StkError } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { SIG_TYPE_ED25519, decodeBase64, isValidKeyName, parseVerifierKey, type VerifierKey } from '../transparency/mod.ts';
import { WITNESS_MAX_BODY_BYTES, Witness, buildWitnessApp, loadOrCreateWitnessKey } from '../witness/mod.ts';

interface ServeOpts {
  listen: string;
  state: string;
  key: string;
  log?: string[];
  ledger?: string[];
  name?: string;
  prefix?: string;
  maxBodyBytes?: string;
  logLevel?: string;
}

/** `stockade witness serve`: a C2SP tlog-witness for the logs named by `--log <vkey>` (docs/ledger-format.md, Part II). */
export function registerWitness(program: Command): void {
  const witness = program.command('witness').description('a C2SP tlog-witness that cosigns checkpoints of configured logs');
  witness
    .command('serve')
    .description('serve POST /add-checkpoint; make the witness key on first start and print its vkey')
    .option('--listen <host:port>', 'address to listen on (port 0: any free port)', '127.0.0.1:8090')
    .requiredOption('--state <dir>', 'folder for the last cosigned checkpoint of each log')
    .requiredOption('--key <file>', 'witness key file; created with mode 0600 when missing')
    .option('--log <vkey>', "a log's verifier key <origin>+<hex id>+<base64>; repeatable", (v: string, acc: string[] = []) => [...acc, v])
    .option(
      '--ledger <origin+key>',
      'every tenant log of a Stockade install: <install origin>+<base64(0x01 ‖ ledger public key)>, as `stockade ledger log-key` prints it; repeatable',
      (v: string, acc: string[] = []) => [...acc, v],
    )
    .option('--name <name>', `witness name for a new key (default: ${hostname()}/witness); must match an existing key`)
    .option('--prefix <path>', 'URL prefix of the witness routes, e.g. /witness', '')
    .option('--max-body-bytes <n>', 'largest add-checkpoint body read', String(WITNESS_MAX_BODY_BYTES))
    .option('--log-level <level>', 'pino level (STOCKADE_LOG_LEVEL)')
    .action(async (opts: ServeOpts) => {
      const logger = createLogger({ name: 'stockade-witness', ...(opts.logLevel ? { level: opts.logLevel } : {}) });
      const { host, port } = parseListen(opts.listen);
      const maxBodyBytes = Number(opts.maxBodyBytes);
      if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1024) throw new StkError('STK_ERR_CONFIG', '--max-body-bytes must be an integer ≥ 1024');
      if (opts.prefix && !/^(\/[A-Za-z0-9._~-]+)+$/.test(opts.prefix)) throw new StkError('STK_ERR_CONFIG', '--prefix must be a path like /witness');
      const logs = (opts.log ?? []).map(parseLogKey);
      const ledgers = (opts.ledger ?? []).map(parseLedger);
      if (!logs.length && !ledgers.length) throw new StkError('STK_ERR_CONFIG', 'witness serve needs at least one --log or --ledger');
      const keyPath = resolve(opts.key);
      const { key, created } = await loadOrCreateWitnessKey(keyPath, { name: opts.name, defaultName: `${hostname()}/witness` });
      const w = await Witness.open({ stateDir: resolve(opts.state), key, logs, ledgers, logger });
      const app = await buildWitnessApp({ witness: w, logger, maxBodyBytes, ...(opts.prefix ? { prefix: opts.prefix } : {}) });
      try {
        await app.listen({ host, port });
      } catch (err) {
        w.close();
        throw new StkError('STK_ERR_CONFIG', `cannot listen on ${opts.listen}: ${(err as Error).message}`, {}, { cause: err });
      }
      const addr = app.server.address();
      const bound = typeof addr === 'object' && addr ? `${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : opts.listen;
      if (created) console.log(`witness key created in ${keyPath} (mode 0600)`);
      console.log(`witness vkey ${w.vkey}`);
      console.log(`witness logs ${w.origins.join(' ')}`);
      console.log(`witness listening on http://${bound}${opts.prefix ?? ''}`);
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'stopping');
        void app.close().finally(() => {
          w.close();
          process.exit(0);
        });
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
}

function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):([0-9]{1,5})$/.exec(listen);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535) throw new StkError('STK_ERR_CONFIG', `--listen must be HOST:PORT, got ${JSON.stringify(listen)}`);
  return { host: (m[1] ?? m[2])!, port };
}

/** `<install origin>+<base64(0x01 ‖ 32-byte Ed25519 key)>`: split at the first `+` (origins hold none, base64 may). */
function parseLedger(spec: string): { installOrigin: string; publicKey: Uint8Array } {
  const at = spec.indexOf('+');
  const installOrigin = spec.slice(0, at);
  const bytes = at > 0 ? decodeBase64(spec.slice(at + 1)) : null;
  if (bytes?.length !== 33 || bytes[0] !== SIG_TYPE_ED25519 || !isValidKeyName(`${installOrigin}/tenant/x`)) {
    throw new StkError('STK_ERR_CONFIG', `--ledger ${JSON.stringify(spec)}: must be <install origin>+<base64 of 0x01 and a 32-byte Ed25519 key>`);
  }
  return { installOrigin, publicKey: bytes.subarray(1) };
}

function parseLogKey(vkey: string): VerifierKey {
  const p = parseVerifierKey(vkey);
  if (!p.ok) throw new StkError('STK_ERR_CONFIG', `--log ${JSON.stringify(vkey)}: ${p.reason}`);
  if (p.key.type !== SIG_TYPE_ED25519) throw new StkError('STK_ERR_CONFIG', `--log ${p.key.name}: a log key has signature type 0x01 (Ed25519 note signatures)`);
  return p.key;
}

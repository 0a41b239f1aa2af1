// A temporary Stockade to film when no running install is given: every role and an embedded
// nats-server on free loopback ports, in a temp data folder removed on close.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running install the pipeline can sign in to. */
export interface Install {
  /** Base URL of the operator API; the dashboard is under `/ui`. */
  base: string;
  credential: string;
}

/** A temporary install: also its ingress and CA, for whatever fills it with data. */
export interface TemporaryInstall extends Install {
  ingressUrl: string;
  dataDir: string;
  caPem(): Promise<string>;
  close(): Promise<void>;
}

/** Starts a temporary install; its admin key is the credential. */
export async function startTemporaryInstall(): Promise<TemporaryInstall> {
  // Loaded here: the runtime is only needed when the pipeline starts its own install.
  const [{ loadConfig }, { createLogger }, { freePort }, { startStockade }] = await Promise.all([
    import('../config/mod.ts'),
    import('../logger.ts'),
    import('../nats/server.ts'),
    import('../serve.ts'),
  ]);
  const dataDir = await mkdtemp(join(tmpdir(), 'stk-video-install-'));
  try {
    const config = loadConfig({ data: dataDir, http: `127.0.0.1:${await freePort()}`, ingress: `127.0.0.1:${await freePort()}`, logLevel: 'warn' }, {});
    const stk = await startStockade(config, { logger: createLogger({ level: 'warn' }) });
    return {
      base: stk.apiUrl!,
      credential: stk.runtime.adminKey,
      ingressUrl: stk.ingressUrl!,
      dataDir,
      caPem: () => readFile(join(dataDir, 'pki', 'ca.crt'), 'utf8'),
      async close() {
        await stk.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}

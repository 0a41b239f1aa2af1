import type { NatsConnection } from '@nats-io/transport-node';
import { join } from 'node:path';
import { EventLog } from '../../src/log/mod.ts';
import { readNatsCredentials } from '../../src/nats/auth.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { newId } from '../../src/ids.ts';
import { createLogger } from '../../src/logger.ts';
import { Keyring } from '../../src/ledger/keys.ts';
import { Sealer, type SealerOptions } from '../../src/ledger/sealer.ts';
import { natsFixture, tempDir } from '../helpers/nats.ts';

export const quiet = createLogger({ level: 'silent' });

/** A fresh tenant id for one test. */
export function freshTenant(prefix = 't'): string {
  return `${prefix}-${newId()
    .slice(0, 10)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, 'x')}`;
}

/** A real nats-server, an event log, a keyring in a temp folder, and sealers started on demand. */
export async function ledgerFixture() {
  const nats = await natsFixture();
  const dir = await tempDir('stk-ledger-');
  const nc: NatsConnection = await connectNats({ servers: nats.url });
  const log = await EventLog.connect(nc);
  const keyDir = join(dir.path, 'keys');
  const sealers: Sealer[] = [];
  return {
    nats,
    nc,
    streams: log.streams,
    log,
    dir: dir.path,
    keyDir,
    async keyring() {
      return Keyring.open(keyDir, { create: true });
    },
    async sealer(o: Partial<SealerOptions> = {}): Promise<Sealer> {
      const s = await Sealer.start({
        streams: log.streams,
        keyring: o.keyring ?? (await Keyring.open(keyDir, { create: true })),
        logger: quiet,
        blockMaxEntries: 10,
        blockMaxMs: 50,
        ...o,
      });
      sealers.push(s);
      return s;
    },
    /** Appends `n` single-event commits to `tenant`, spread over a few aggregates; returns the last position. */
    async append(tenant: string, n: number, type = 'alert.raised'): Promise<number> {
      let last = 0;
      const aggs = Array.from({ length: Math.min(n, 3) }, () => newId());
      for (let i = 0; i < n; i++) {
        const r = await log.appendOrThrow({ tenant, aggregateType: 'alert', aggregateId: aggs[i % aggs.length]! }, [{ type, data: { i } }], {
          expectedVersion: 'any',
        });
        last = r.position;
      }
      return last;
    },
    async close() {
      for (const s of sealers) await s.close().catch(() => {});
      log.close();
      await nc.close().catch(() => {});
      await nats.stop();
      await dir.cleanup();
    },
  };
}

export type LedgerFixture = Awaited<ReturnType<typeof ledgerFixture>>;

/**
 * A NATS connection with every right, as an intruder on the box would have: to an install's
 * embedded server (credentials from its data folder), or plain to a server without authentication.
 */
export async function intruderConnection(dataDir: string, natsUrl: string): Promise<NatsConnection> {
  const credentials = await readNatsCredentials(dataDir);
  return connectNats({ servers: natsUrl, ...(credentials ? { user: 'ops', pass: credentials.users.ops } : {}) });
}

/** Resolves as `p` does, or fails the test once `ms` have passed: for steps that must end at all, never for speed. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not end within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

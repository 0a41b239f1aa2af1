import { join } from 'node:path';
import { startIngress, type Ingress } from '../../src/ingress/role.ts';
import { Keyring } from '../../src/ledger/keys.ts';
import { LEDGER_STREAM, ledgerSubject, parseBlock } from '../../src/ledger/format.ts';
import { Sealer } from '../../src/ledger/sealer.ts';
import { createLogger } from '../../src/logger.ts';
import { API_PLUGINS } from '../../src/roles.ts';
import { tenantFilter } from '../../src/log/mod.ts';
import { apiFixture, type ApiFixture } from '../helpers/api.ts';
import { tempDir } from '../helpers/nats.ts';

/**
 * An API process with field encryption (as `serve` runs it), every API plugin, and a sealer on
 * the same bus signing small blocks, so a test can erase, offboard and then verify the ledger.
 */
export interface LifecycleFixture extends ApiFixture {
  sealer: Sealer;
  /** Resolves once the tenant's chain is sealed up to its newest record now (waits on the stream, no sleeps). */
  sealed(tenant: string): Promise<void>;
}

export async function lifecycleFixture(): Promise<LifecycleFixture> {
  const f = await apiFixture({ plugins: API_PLUGINS, privacy: true });
  const keys = await tempDir('stk-lifecycle-keys-');
  let sealer: Sealer;
  try {
    sealer = await Sealer.start({
      streams: f.stk.runtime.streams.withTimeout(10_000),
      keyring: await Keyring.open(join(keys.path, 'k'), { create: true }),
      logger: createLogger({ level: 'silent' }),
      blockMaxEntries: 50,
      blockMaxMs: 20,
      checkpointIntervalMs: 200,
    });
  } catch (err) {
    await f.cleanup();
    await keys.cleanup();
    throw err;
  }
  const streams = f.stk.runtime.streams;
  return {
    ...f,
    sealer,
    async sealed(tenant) {
      const position = await f.stk.runtime.log.lastPositionOf(tenantFilter(tenant));
      // A live read of the tenant's blocks, from the start: it ends at the block that seals `position`.
      const follow = streams.follow(LEDGER_STREAM, { filter: ledgerSubject(tenant) });
      const timer = setTimeout(() => void follow.stop(), 30_000);
      try {
        for await (const m of follow) if (parseBlock(m.data, { tenant }).lastSeq >= position) return;
        throw new Error(`the chain of ${tenant} was not sealed to ${position} within 30 s`);
      } finally {
        clearTimeout(timer);
        await follow.stop();
      }
    },
    async cleanup() {
      await sealer.close();
      await f.cleanup();
      await keys.cleanup();
    },
  };
}

/**
 * The agent ingress on the fixture's bus (its own CA under a temp folder), with an injectable clock.
 * `plain`: evidence stored in the clear, as an ingress without the key store (or one from before evidence encryption) stores it.
 */
export async function ingressOn(f: ApiFixture, now?: () => Date, o: { plain?: boolean } = {}): Promise<{ ingress: Ingress; close(): Promise<void> }> {
  const dir = await tempDir('stk-lifecycle-pki-');
  try {
    const ingress = await startIngress({
      log: f.stk.runtime.log,
      logger: createLogger({ level: 'silent' }),
      pkiDir: join(dir.path, 'pki'),
      host: '127.0.0.1',
      port: 0,
      enrollRateLimit: { max: 100_000, timeWindowMs: 60_000 },
      issuerThreads: 0,
      // Evidence encrypted as `serve` stores it when field encryption is on.
      keys: o.plain ? null : (f.stk.runtime.privacy?.keys ?? null),
      ...(now ? { now } : {}),
    });
    return {
      ingress,
      async close() {
        await ingress.close();
        await dir.cleanup();
      },
    };
  } catch (err) {
    await dir.cleanup();
    throw err;
  }
}

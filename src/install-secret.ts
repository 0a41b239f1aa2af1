import { randomBytes } from 'node:crypto';
import { StkError } from './errors.ts';
import type { Streams } from './log/mod.ts';

/** KV bucket of install-wide secrets every process of an install shares (not the ledger key). */
export const INSTALL_BUCKET = 'stk-install';

/** How long a process waits for a secret another process is making (a cluster's replicas catch up). */
const SETTLE_MS = 15_000;

/**
 * The install-wide secret `name` (32 random bytes, made on first use) from the KV bucket
 * `stk-install`. Processes starting together all try to make it: one create wins, and the others
 * read the winner's — read again until it is there, since on a cluster a read may reach a replica
 * that has not received it yet, and a create may time out after it was made.
 */
export async function installSecret(streams: Streams, name: string, o: { replicas?: number } = {}): Promise<Buffer> {
  const bucket = await streams.bucket(INSTALL_BUCKET, { history: 1, replicas: o.replicas ?? 1 });
  const deadline = Date.now() + SETTLE_MS;
  let lastError: unknown = null;
  for (let delay = 50; ; delay = Math.min(1000, delay * 2)) {
    try {
      const entry = await bucket.get(name);
      if (entry?.value.length) return Buffer.from(entry.value);
      await bucket.create(name, randomBytes(32));
    } catch (err) {
      // Made by another process meanwhile (the create refused), or a read or create that did not answer.
      lastError = err;
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, delay));
  }
  throw new StkError(
    'STK_ERR_UNAVAILABLE',
    `no ${name} in KV bucket ${INSTALL_BUCKET}${lastError ? `: ${(lastError as Error).message}` : ''}`,
    { bucket: INSTALL_BUCKET },
    { cause: lastError },
  );
}

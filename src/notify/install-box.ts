import { randomBytes } from 'node:crypto';
import { INSTALL_BUCKET } from '../api/consistency.ts';
import { StkError } from '../errors.ts';
import type { Streams } from '../log/mod.ts';
import { SecretBox } from './secrets.ts';

/** Name of the install's channel-secret key in the `stk-install` bucket; its id in sealed values. */
const KEY_ID = 'k1';
const KEY_NAME = `notify-box-${KEY_ID}`;

/**
 * The SecretBox that seals and opens the install's channel secrets: its key lives in the KV bucket
 * `stk-install` (made on first use, 256 random bits), which every process of the install shares —
 * the API seals with it, the detector's outbox opens with it. The key never appears in an event,
 * a read model or an answer.
 */
export async function openInstallBox(streams: Streams, o: { replicas?: number } = {}): Promise<SecretBox> {
  const bucket = await streams.bucket(INSTALL_BUCKET, { history: 1, replicas: o.replicas ?? 1 });
  let entry = await bucket.get(KEY_NAME);
  if (!entry?.value.length) {
    // Two processes starting together both try; the create of one wins and the other reads it.
    await bucket.create(KEY_NAME, randomBytes(32)).catch(() => {});
    entry = await bucket.get(KEY_NAME);
  }
  if (!entry?.value.length) throw new StkError('STK_ERR_UNAVAILABLE', `no ${KEY_NAME} in KV bucket ${INSTALL_BUCKET}`, { bucket: INSTALL_BUCKET });
  return new SecretBox({ id: KEY_ID, key: new Uint8Array(entry.value) });
}

import { installSecret } from '../install-secret.ts';
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
  return new SecretBox({ id: KEY_ID, key: new Uint8Array(await installSecret(streams, KEY_NAME, o)) });
}

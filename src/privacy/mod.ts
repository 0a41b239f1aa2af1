import type { Streams } from '../log/mod.ts';
import { FieldCipher } from './cipher.ts';
import { KeyStore } from './keystore.ts';

export { ERASED_TEXT, FieldCipher, SEALED_TEXT } from './cipher.ts';
export { replayDestructions } from './destructions.ts';
export { eraseSubject } from './erase.ts';
export { DATA_KEYS_BUCKET, KeyStore, TENANT_KEYS_BUCKET } from './keystore.ts';

/** Field encryption of one process: the key store and the cipher the event log seals and reveals with. */
export interface Privacy {
  keys: KeyStore;
  cipher: FieldCipher;
  close(): void;
}

/** Opens the key store on the door to JetStream and the cipher over it; pass `cipher` to `EventLog.open` as `fields`. */
export async function openPrivacy(streams: Streams, o: { replicas?: number; now?: () => Date } = {}): Promise<Privacy> {
  const keys = await KeyStore.open(streams, o);
  const cipher = new FieldCipher(keys);
  return { keys, cipher, close: () => keys.close() };
}

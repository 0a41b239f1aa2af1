import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { installSecret } from '../install-secret.ts';
import { StkError } from '../errors.ts';
import type { Streams } from '../log/mod.ts';

const KEY_NAME = 'people-key';
const FORMAT = 'stk-pv1';

/**
 * Seals the credential material that user events carry (password hashes, TOTP secrets, recovery
 * code hashes) with AES-256-GCM under the install's people key, bound to the user id, so the
 * event log and its exports hold nothing an offline attacker can crack or replay. The key lives in
 * the install's KV bucket beside the consistency key; every API process of the install shares it.
 */
export class PeopleVault {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new StkError('STK_ERR_INTERNAL', 'the people key must be 32 bytes');
    this.#key = key;
  }

  /** Reads the install's people key from KV, making it on first use. */
  static async open(streams: Streams, o: { replicas?: number } = {}): Promise<PeopleVault> {
    return new PeopleVault(await installSecret(streams, KEY_NAME, o));
  }

  /** Seals `value` (JSON) for `userId` and purpose `what`. */
  seal(value: unknown, userId: string, what: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.#key, iv);
    c.setAAD(Buffer.from(`${FORMAT}\0${what}\0${userId}`));
    const body = Buffer.concat([c.update(JSON.stringify(value), 'utf8'), c.final(), c.getAuthTag()]);
    return `${FORMAT}.${iv.toString('base64url')}.${body.toString('base64url')}`;
  }

  /** Opens a sealed value of `userId` and `what`; an altered or misplaced value is an internal fault. */
  open<T>(sealed: string, userId: string, what: string): T {
    const [format, ivText, bodyText] = sealed.split('.');
    try {
      if (format !== FORMAT || !ivText || !bodyText) throw new Error('malformed');
      const body = Buffer.from(bodyText, 'base64url');
      const d = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(ivText, 'base64url'));
      d.setAAD(Buffer.from(`${FORMAT}\0${what}\0${userId}`));
      d.setAuthTag(body.subarray(body.length - 16));
      return JSON.parse(Buffer.concat([d.update(body.subarray(0, body.length - 16)), d.final()]).toString('utf8')) as T;
    } catch (err) {
      throw new StkError('STK_ERR_INTERNAL', 'a sealed credential does not open with the install people key', { userId, what }, { cause: err });
    }
  }
}

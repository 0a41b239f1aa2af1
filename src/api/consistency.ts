import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { StkError } from '../errors.ts';
import { installSecret } from '../install-secret.ts';
import { nonce as freshNonce } from '../nonce.ts';
import type { Streams } from '../log/mod.ts';
import type { CursorSeal } from '../store/store.ts';

const KEY_NAME = 'consistency-key';
const PREFIX = 'c1.';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** The form of a token on the wire (query strings are checked against it before anything else). */
export const TOKEN_PATTERN = '^c1\\.[A-Za-z0-9_-]{48}$';

/**
 * Read-your-writes tokens. A command answers with a token; a read that passes it as `waitFor` waits
 * (bounded) until this process's read models show the change. The token stands for a position in
 * the install-wide event log, which a tenant must not see: the gaps between two of its own
 * positions would show how much every other tenant writes, and when. So a token is the position
 * sealed with AES-256-GCM under an install key, with a random nonce (two tokens for the same
 * position differ) and the tenant as associated data (a token is good for its tenant only).
 */
export class ConsistencyTokens implements CursorSeal {
  readonly #key: Buffer;
  /** A key of its own for page cursors, derived from the install key (a cursor never opens as a token). */
  readonly #cursorKey: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new StkError('STK_ERR_INTERNAL', 'the consistency key must be 32 bytes', { bytes: key.length });
    this.#key = key;
    this.#cursorKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'stockade page cursor', 32));
  }

  /** Reads the install's key from KV, making it on first use (every process of the install shares it). */
  static async open(streams: Streams, o: { replicas?: number } = {}): Promise<ConsistencyTokens> {
    return new ConsistencyTokens(await installSecret(streams, KEY_NAME, o));
  }

  /** The token for `position` in `tenant`. */
  issue(tenant: string, position: number): string {
    const plain = Buffer.alloc(8);
    plain.writeBigUInt64BE(BigInt(Math.max(0, Math.trunc(position))));
    return PREFIX + seal(this.#key, tenant, plain);
  }

  /** The position a token of `tenant` stands for; null for anything else (another tenant's, altered, malformed). */
  read(tenant: string, token: string): number | null {
    if (!token.startsWith(PREFIX)) return null;
    const plain = open(this.#key, tenant, token.slice(PREFIX.length));
    return plain?.length === 8 ? Number(plain.readBigUInt64BE()) : null;
  }

  /** A page cursor of `tenant`'s read models (base64url text), sealed for that tenant; it carries the raw bytes, so it stays short. */
  sealCursor(tenant: string, cursor: string): string {
    return CURSOR_PREFIX + seal(this.#cursorKey, tenant, Buffer.from(cursor, 'base64url'));
  }

  openCursor(tenant: string, sealed: string): string | null {
    if (!sealed.startsWith(CURSOR_PREFIX)) return null;
    return open(this.#cursorKey, tenant, sealed.slice(CURSOR_PREFIX.length))?.toString('base64url') ?? null;
  }
}

const CURSOR_PREFIX = 'p1.';

/** AES-256-GCM with a random nonce and the tenant as associated data: nonce, ciphertext, tag in base64url. */
function seal(key: Buffer, tenant: string, plain: Buffer): string {
  const nonce = freshNonce().iv;
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(tenant, 'utf8'));
  const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([nonce, ct, cipher.getAuthTag()]).toString('base64url');
}

/** What `seal` sealed for `tenant`; null for anything else. */
function open(key: Buffer, tenant: string, text: string): Buffer | null {
  const raw = Buffer.from(text, 'base64url');
  if (raw.length <= NONCE_BYTES + TAG_BYTES) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, NONCE_BYTES));
    decipher.setAAD(Buffer.from(tenant, 'utf8'));
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)), decipher.final()]);
  } catch {
    return null;
  }
}

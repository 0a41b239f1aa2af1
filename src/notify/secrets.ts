import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { StkError } from '../errors.ts';
import { assertId } from '../ids.ts';
import type { ChannelConfig, ChatSettings, EmailSettings, Routing, WebhookSettings } from './settings.ts';

const FORMAT = 'stk-sb1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/** A key of a SecretBox: 32 bytes for AES-256-GCM, named so a sealed value says which key opens it. */
export interface BoxKey {
  id: string;
  key: Uint8Array;
}

/**
 * Authenticated encryption of small secrets at rest (AES-256-GCM, a random 96-bit IV per seal).
 * Sealed form: `stk-sb1.<keyId>.<iv>.<ciphertext‖tag>` (base64url parts), so it fits in a JSON
 * event. The `aad` is authenticated but not stored: a sealed value opens only with the same aad,
 * which binds it to its tenant and channel (a copy pasted into another channel does not open).
 * Keys rotate by sealing with `current` while `previous` keys still open older values.
 */
export class SecretBox {
  readonly #current: BoxKey;
  readonly #keys = new Map<string, Buffer>();

  constructor(current: BoxKey, previous: BoxKey[] = []) {
    for (const k of [current, ...previous]) {
      if (!KEY_ID.test(k.id)) throw new StkError('STK_ERR_CONFIG', 'secret box key id must match [A-Za-z0-9_-]{1,32}', { field: 'keyId' });
      if (k.key.length !== KEY_BYTES) throw new StkError('STK_ERR_CONFIG', 'secret box key must be 32 bytes', { field: 'key', keyId: k.id });
      if (this.#keys.has(k.id)) throw new StkError('STK_ERR_CONFIG', 'two secret box keys share an id', { field: 'keyId', keyId: k.id });
      this.#keys.set(k.id, Buffer.from(k.key));
    }
    this.#current = current;
  }

  /** Encrypts `plaintext` under the current key, authenticating `aad` with it. */
  seal(plaintext: string, aad: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#keys.get(this.#current.id)!, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${FORMAT}.${this.#current.id}.${iv.toString('base64url')}.${body.toString('base64url')}`;
  }

  /** Decrypts a sealed value; throws STK_ERR_NOTIFY_SECRET_UNREADABLE when it is malformed, its key is unknown, or it or `aad` was altered. */
  open(sealed: string, aad: string): string {
    const parts = typeof sealed === 'string' ? sealed.split('.') : [];
    const [format, keyId, ivText, bodyText] = parts;
    if (parts.length !== 4 || format !== FORMAT) throw unreadable('malformed sealed value', { keyId: null });
    const key = this.#keys.get(keyId!);
    if (!key) throw unreadable('sealed with a key this box does not hold', { keyId });
    const iv = Buffer.from(ivText!, 'base64url');
    const body = Buffer.from(bodyText!, 'base64url');
    if (iv.length !== IV_BYTES || body.length < TAG_BYTES) throw unreadable('malformed sealed value', { keyId });
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch (err) {
      throw unreadable('sealed value does not authenticate (wrong key, wrong tenant or channel, or altered)', { keyId }, err);
    }
  }
}

function unreadable(message: string, data: Record<string, unknown>, cause?: unknown): StkError {
  return new StkError('STK_ERR_NOTIFY_SECRET_UNREADABLE', message, data, cause === undefined ? undefined : { cause });
}

/** The associated data that binds a channel's sealed secrets to its tenant and channel id. */
export function channelAad(tenant: string, channelId: string): string {
  assertId('tenant', tenant, 'tenant');
  assertId('token', channelId, 'channelId');
  return `stockade/notify-channel/v1\u0000${tenant}\u0000${channelId}`;
}

/** A channel as it is stored (in events and read models): settings without secrets, and the secrets sealed. */
export type StoredChannel = {
  id: string;
  tenant: string;
  name: string;
  enabled: boolean;
  routing: Routing;
  /** `SecretBox` output over the JSON of the kind's secrets. */
  sealed: string;
} & (
  | { kind: 'webhook'; settings: { host: string } }
  | { kind: 'email'; settings: Omit<EmailSettings, 'password'> }
  | { kind: 'chat'; settings: { host: string } }
);

/** A channel as the API shows it: no secret, not even the parts of a URL that may carry one. */
export type ChannelView = {
  id: string;
  name: string;
  enabled: boolean;
  routing: Routing;
} & (
  | { kind: 'webhook'; settings: { host: string; secretSet: true } }
  | { kind: 'email'; settings: Omit<EmailSettings, 'password'> & { passwordSet: true } }
  | { kind: 'chat'; settings: { host: string; urlSet: true } }
);

type Secrets = { kind: 'webhook'; url: string; secret: string } | { kind: 'email'; password: string } | { kind: 'chat'; url: string };

/**
 * Splits a channel into what may be stored in clear and its sealed secrets. Webhook and chat URLs
 * are sealed whole (a path or query often carries a token, and a chat URL is nothing but a token);
 * only their host stays readable, for `redactChannel`.
 */
export function sealChannel(box: SecretBox, tenant: string, id: string, c: ChannelConfig): StoredChannel {
  const aad = channelAad(tenant, id);
  const common = { id, tenant, name: c.name, enabled: c.enabled, routing: c.routing };
  switch (c.kind) {
    case 'webhook':
      return {
        ...common,
        kind: 'webhook',
        settings: { host: new URL(c.settings.url).host },
        sealed: box.seal(secretsJson({ kind: 'webhook', ...c.settings }), aad),
      };
    case 'email': {
      const { password, ...rest } = c.settings;
      return { ...common, kind: 'email', settings: { ...rest, to: [...rest.to] }, sealed: box.seal(secretsJson({ kind: 'email', password }), aad) };
    }
    case 'chat':
      return {
        ...common,
        kind: 'chat',
        settings: { host: new URL(c.settings.url).host },
        sealed: box.seal(secretsJson({ kind: 'chat', url: c.settings.url }), aad),
      };
  }
}

/** The clear settings of a stored channel, for a transport. Throws STK_ERR_NOTIFY_SECRET_UNREADABLE if its secrets do not open. */
export function openChannel(box: SecretBox, s: StoredChannel): ChannelConfig {
  const secrets = JSON.parse(box.open(s.sealed, channelAad(s.tenant, s.id))) as Secrets;
  if (secrets.kind !== s.kind) throw unreadable('sealed secrets are of another channel kind', { expected: s.kind, actual: secrets.kind });
  const common = { name: s.name, enabled: s.enabled, routing: s.routing };
  switch (secrets.kind) {
    case 'webhook':
      return { ...common, kind: 'webhook', settings: { url: secrets.url, secret: secrets.secret } satisfies WebhookSettings };
    case 'email':
      return { ...common, kind: 'email', settings: { ...(s.settings as Omit<EmailSettings, 'password'>), password: secrets.password } satisfies EmailSettings };
    case 'chat':
      return { ...common, kind: 'chat', settings: { url: secrets.url } satisfies ChatSettings };
  }
}

/** What the API may show of a stored channel: never a secret; for URLs the host only. */
export function redactChannel(s: StoredChannel): ChannelView {
  const common = { id: s.id, name: s.name, enabled: s.enabled, routing: s.routing };
  switch (s.kind) {
    case 'webhook':
      return { ...common, kind: 'webhook', settings: { host: s.settings.host, secretSet: true } };
    case 'email': {
      const { host, port, startTls, user, from, to } = s.settings;
      return { ...common, kind: 'email', settings: { host, port, startTls, user, from, to: [...to], passwordSet: true } };
    }
    case 'chat':
      return { ...common, kind: 'chat', settings: { host: s.settings.host, urlSet: true } };
  }
}

function secretsJson(s: Secrets): string {
  return JSON.stringify(s);
}

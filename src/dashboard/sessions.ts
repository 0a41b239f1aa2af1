import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Principal } from '../api/auth.ts';
import { StkError } from '../errors.ts';
import type { Bucket, Streams } from '../log/mod.ts';

/** A session as the server sees it once the cookie has been checked. */
export interface Session {
  /** The credential the session signed in with; presented to the operator API on every call. */
  credential: string;
  principal: Principal;
  expiresAt: string;
  /** The session's CSRF token (derived from the cookie, never stored). */
  csrf: string;
}

/** KV bucket of dashboard sessions, shared by every API process of an install. */
export const SESSION_BUCKET = 'stk-ui-sessions';
/** Lifetime of a session from sign-in; the bucket's TTL removes it after that even if nobody signs out. */
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;

const SID_BYTES = 32;
const SID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

interface Stored {
  v: 1;
  iv: string;
  tag: string;
  ct: string;
}

/**
 * Dashboard sessions in a NATS KV bucket, so any API process behind a load balancer can serve any
 * session and a sign-out on one process holds on all of them.
 *
 * The cookie carries a 256-bit random session id; the bucket is keyed by its SHA-256 and holds the
 * session encrypted with AES-256-GCM under a key derived from the id. The credential therefore never
 * sits in NATS in a form anyone can use: reading the bucket without the cookie yields nothing, and
 * the cookie alone is what a stolen session would be anyway. The CSRF token is an HMAC of the id,
 * so it needs no storage and cannot be computed without the cookie.
 */
export class SessionStore {
  constructor(
    private readonly kv: Bucket,
    private readonly now: () => Date = () => new Date(),
  ) {}

  static async open(streams: Streams, o: { replicas?: number; now?: () => Date } = {}): Promise<SessionStore> {
    try {
      const kv = await streams.bucket(SESSION_BUCKET, { ttlMs: SESSION_TTL_MS, history: 1, replicas: o.replicas ?? 1 });
      return new SessionStore(kv, o.now);
    } catch (err) {
      throw new StkError('STK_ERR_UNAVAILABLE', 'the dashboard session store is unavailable', { bucket: SESSION_BUCKET }, { cause: err });
    }
  }

  /** Stores a new session and returns the id for the cookie (shown to nobody else). */
  async create(credential: string, principal: Principal): Promise<{ sid: string; session: Session }> {
    const sid = randomBytes(SID_BYTES).toString('base64url');
    const expiresAt = new Date(this.now().getTime() + SESSION_TTL_MS).toISOString();
    const plain = Buffer.from(JSON.stringify({ credential, principal, expiresAt }), 'utf8');
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', keyOf(sid), iv);
    cipher.setAAD(Buffer.from(kvKey(sid)));
    const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
    const stored: Stored = { v: 1, iv: iv.toString('base64url'), tag: cipher.getAuthTag().toString('base64url'), ct: ct.toString('base64url') };
    await this.#kv('put', () => this.kv.put(kvKey(sid), JSON.stringify(stored)));
    return { sid, session: { credential, principal, expiresAt, csrf: csrfOf(sid) } };
  }

  /** The live session of a cookie value, or null (unknown, expired, signed out, tampered). */
  async get(sid: string | undefined): Promise<Session | null> {
    if (!sid || !SID_PATTERN.test(sid)) return null;
    const entry = await this.#kv('get', () => this.kv.get(kvKey(sid)));
    if (entry?.operation !== 'PUT' || entry.length === 0) return null;
    let body: { credential: string; principal: Principal; expiresAt: string };
    try {
      const stored = entry.json<Stored>();
      const decipher = createDecipheriv('aes-256-gcm', keyOf(sid), Buffer.from(stored.iv, 'base64url'));
      decipher.setAAD(Buffer.from(kvKey(sid)));
      decipher.setAuthTag(Buffer.from(stored.tag, 'base64url'));
      const plain = Buffer.concat([decipher.update(Buffer.from(stored.ct, 'base64url')), decipher.final()]);
      body = JSON.parse(plain.toString('utf8'));
    } catch {
      return null;
    }
    if (Date.parse(body.expiresAt) <= this.now().getTime()) return null;
    return { ...body, csrf: csrfOf(sid) };
  }

  /** Ends a session everywhere. */
  async destroy(sid: string | undefined): Promise<void> {
    if (!sid || !SID_PATTERN.test(sid)) return;
    await this.#kv('purge', () => this.kv.purge(kvKey(sid)));
  }

  async #kv<T>(what: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw new StkError('STK_ERR_UNAVAILABLE', 'the dashboard session store is unavailable', { bucket: SESSION_BUCKET, op: what }, { cause: err });
    }
  }
}

/** True when `presented` is the CSRF token of `session`; constant-time. */
export function csrfMatches(session: Session, presented: unknown): boolean {
  if (typeof presented !== 'string' || presented.length !== session.csrf.length) return false;
  return timingSafeEqual(Buffer.from(presented), Buffer.from(session.csrf));
}

function kvKey(sid: string): string {
  return `s.${createHash('sha256').update(sid).digest('hex')}`;
}

function keyOf(sid: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(sid, 'base64url'), Buffer.alloc(0), 'stockade-ui-session-key', 32));
}

function csrfOf(sid: string): string {
  return createHmac('sha256', Buffer.from(sid, 'base64url')).update('stockade-ui-csrf').digest('base64url');
}

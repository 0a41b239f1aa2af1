import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Principal } from '../api/auth.ts';
import { StkError } from '../errors.ts';
import type { Bucket, Streams } from '../log/mod.ts';

/** What a session bound to a user carries besides its principal. */
export interface SessionUser {
  userId: string;
  name: string;
  /** The user's session epoch at sign-in: a later epoch (disable, password change…) ends the session. */
  epoch: number;
  /** Signed in by single sign-on: the identity provider's issuer and subject. */
  sso: { issuer: string; subject: string } | null;
  /** MFA is required but not set up yet: the session may only reach the user's own MFA set-up. */
  mfaPending: boolean;
}

/** A session as the server sees it once the cookie has been checked. */
export interface Session {
  /** The credential the session signed in with; presented to the operator API on every call. */
  credential: string;
  principal: Principal;
  expiresAt: string;
  /** The session's CSRF token (derived from the cookie, never stored). */
  csrf: string;
  /** The session's public id (the hash its entry is stored under): lists show it, a user ends a session by it. */
  id: string;
  createdAt: string;
  lastSeenAt: string;
  user?: SessionUser;
}

/** A user's session as their own list shows it. */
export interface SessionInfo {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  ip: string;
  userAgent: string;
  sso: boolean;
}

/** KV bucket of dashboard sessions, shared by every API process of an install. */
export const SESSION_BUCKET = 'stk-ui-sessions';
/** Lifetime of a session from sign-in; the bucket's TTL removes it after that even if nobody signs out. */
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;
/** A session's last-seen time is written at most this often (not on every request). */
export const SESSION_TOUCH_MS = 60_000;

/** Prefix of the credential a user's session presents to the operator API (in-process only). */
export const SESSION_CREDENTIAL_PREFIX = 'stk_ses_';

const SID_BYTES = 32;
const SID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

interface Stored {
  v: 1;
  iv: string;
  tag: string;
  ct: string;
}

interface Body {
  credential: string;
  principal: Principal;
  expiresAt: string;
  createdAt?: string;
  lastSeenAt?: string;
  user?: SessionUser;
}

/** Timeouts of sessions bound to users; admin-key and token sessions keep the absolute lifetime only. */
export interface SessionLimits {
  idleMs: number;
  absoluteMs: number;
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
 *
 * A session bound to a user also has an index entry `u.<userId>.<hash>` (times, address, browser;
 * nothing secret), so the user can list their sessions and end one, and disabling the user can
 * remove them all. Idle and absolute timeouts apply to users' sessions.
 */
export class SessionStore {
  constructor(
    private readonly kv: Bucket,
    private readonly now: () => Date = () => new Date(),
    private readonly limits: () => SessionLimits | null = () => null,
  ) {}

  static async open(streams: Streams, o: { replicas?: number; now?: () => Date; limits?: () => SessionLimits | null } = {}): Promise<SessionStore> {
    try {
      const kv = await streams.bucket(SESSION_BUCKET, { ttlMs: SESSION_TTL_MS, history: 1, replicas: o.replicas ?? 1 });
      return new SessionStore(kv, o.now, o.limits);
    } catch (err) {
      throw new StkError('STK_ERR_UNAVAILABLE', 'the dashboard session store is unavailable', { bucket: SESSION_BUCKET }, { cause: err });
    }
  }

  /**
   * Stores a new session and returns the id for the cookie (shown to nobody else). A user's
   * session (`o.user`) presents `stk_ses_<id>` to the API, which checks the user on every call.
   */
  async create(
    credential: string,
    principal: Principal,
    o: { user?: SessionUser; ip?: string; userAgent?: string } = {},
  ): Promise<{ sid: string; session: Session }> {
    const sid = randomBytes(SID_BYTES).toString('base64url');
    const now = this.now();
    const lifetime = o.user ? Math.min(this.limits()?.absoluteMs ?? SESSION_TTL_MS, SESSION_TTL_MS) : SESSION_TTL_MS;
    const body: Body = {
      credential: o.user ? `${SESSION_CREDENTIAL_PREFIX}${sid}` : credential,
      principal,
      expiresAt: new Date(now.getTime() + lifetime).toISOString(),
      createdAt: now.toISOString(),
      lastSeenAt: now.toISOString(),
      ...(o.user ? { user: o.user } : {}),
    };
    await this.#write(sid, body);
    if (o.user) await this.#index(sid, body, { ip: o.ip ?? '', userAgent: o.userAgent ?? '' });
    return { sid, session: this.#session(sid, body) };
  }

  /** The live session of a cookie value, or null (unknown, expired, idle too long, signed out, tampered). */
  async get(sid: string | undefined): Promise<Session | null> {
    if (!sid || !SID_PATTERN.test(sid)) return null;
    const entry = await this.#kv('get', () => this.kv.get(kvKey(sid)));
    if (entry?.operation !== 'PUT' || entry.length === 0) return null;
    let body: Body;
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
    const now = this.now().getTime();
    if (Date.parse(body.expiresAt) <= now) return null;
    if (body.user) {
      const idleMs = this.limits()?.idleMs;
      const last = Date.parse(body.lastSeenAt ?? body.createdAt ?? body.expiresAt);
      if (idleMs !== undefined && now - last > idleMs) {
        await this.destroy(sid);
        return null;
      }
      // The last-seen time is rewritten once a minute at most, not on every request.
      if (now - last >= SESSION_TOUCH_MS) {
        body = { ...body, lastSeenAt: new Date(now).toISOString() };
        await this.#write(sid, body);
        await this.#touchIndex(sid, body);
      }
    }
    return this.#session(sid, body);
  }

  /** Ends a session everywhere. */
  async destroy(sid: string | undefined): Promise<void> {
    if (!sid || !SID_PATTERN.test(sid)) return;
    const key = kvKey(sid);
    const s = await this.get(sid).catch(() => null);
    await this.#kv('purge', () => this.kv.purge(key));
    if (s?.user) await this.#kv('purge', () => this.kv.purge(indexKey(s.user!.userId, key.slice(2))));
  }

  /** The sessions of a user, newest first (expired ones are left out). */
  async listForUser(userId: string): Promise<SessionInfo[]> {
    const out: SessionInfo[] = [];
    const keys: string[] = [];
    for await (const k of await this.#kv('keys', () => this.kv.keys(`u.${userId}.*`))) keys.push(k);
    const now = this.now().getTime();
    for (const k of keys) {
      const e = await this.#kv('get', () => this.kv.get(k));
      if (e?.operation !== 'PUT' || e.length === 0) continue;
      const info = e.json<SessionInfo>();
      if (Date.parse(info.expiresAt) <= now) continue;
      const idleMs = this.limits()?.idleMs;
      if (idleMs !== undefined && now - Date.parse(info.lastSeenAt) > idleMs + SESSION_TOUCH_MS) continue;
      // The index outlives a purge that was interrupted: only sessions whose entry exists count.
      const main = await this.#kv('get', () => this.kv.get(`s.${info.id}`));
      if (main?.operation === 'PUT' && main.length > 0) out.push(info);
    }
    return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /** Ends one session of a user by its public id; false when the user has no such session. */
  async destroyById(userId: string, id: string): Promise<boolean> {
    if (!/^[0-9a-f]{64}$/.test(id)) return false;
    const idx = await this.#kv('get', () => this.kv.get(indexKey(userId, id)));
    if (idx?.operation !== 'PUT' || idx.length === 0) return false;
    await this.#kv('purge', () => this.kv.purge(`s.${id}`));
    await this.#kv('purge', () => this.kv.purge(indexKey(userId, id)));
    return true;
  }

  /** Ends every session of a user (the user's epoch does the same on every process at once; this tidies up). */
  async destroyAllForUser(userId: string): Promise<number> {
    const keys: string[] = [];
    for await (const k of await this.#kv('keys', () => this.kv.keys(`u.${userId}.*`))) keys.push(k);
    for (const k of keys) {
      const id = k.slice(k.lastIndexOf('.') + 1);
      await this.#kv('purge', () => this.kv.purge(`s.${id}`));
      await this.#kv('purge', () => this.kv.purge(k));
    }
    return keys.length;
  }

  #session(sid: string, body: Body): Session {
    const created = body.createdAt ?? new Date(Date.parse(body.expiresAt) - SESSION_TTL_MS).toISOString();
    return {
      credential: body.credential,
      principal: body.principal,
      expiresAt: body.expiresAt,
      csrf: csrfOf(sid),
      id: kvKey(sid).slice(2),
      createdAt: created,
      lastSeenAt: body.lastSeenAt ?? created,
      ...(body.user ? { user: body.user } : {}),
    };
  }

  async #write(sid: string, body: Body): Promise<void> {
    const plain = Buffer.from(JSON.stringify(body), 'utf8');
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', keyOf(sid), iv);
    cipher.setAAD(Buffer.from(kvKey(sid)));
    const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
    const stored: Stored = { v: 1, iv: iv.toString('base64url'), tag: cipher.getAuthTag().toString('base64url'), ct: ct.toString('base64url') };
    await this.#kv('put', () => this.kv.put(kvKey(sid), JSON.stringify(stored)));
  }

  async #index(sid: string, body: Body, meta: { ip: string; userAgent: string }): Promise<void> {
    const id = kvKey(sid).slice(2);
    const info: SessionInfo = {
      id,
      createdAt: body.createdAt!,
      lastSeenAt: body.lastSeenAt!,
      expiresAt: body.expiresAt,
      ip: meta.ip.slice(0, 64),
      userAgent: meta.userAgent.slice(0, 200),
      sso: body.user?.sso !== null && body.user?.sso !== undefined,
    };
    await this.#kv('put', () => this.kv.put(indexKey(body.user!.userId, id), JSON.stringify(info)));
  }

  async #touchIndex(sid: string, body: Body): Promise<void> {
    const key = indexKey(body.user!.userId, kvKey(sid).slice(2));
    const e = await this.#kv('get', () => this.kv.get(key));
    if (e?.operation !== 'PUT' || e.length === 0) return;
    await this.#kv('put', () => this.kv.put(key, JSON.stringify({ ...e.json<SessionInfo>(), lastSeenAt: body.lastSeenAt })));
  }

  async #kv<T>(what: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw new StkError('STK_ERR_UNAVAILABLE', 'the dashboard session store is unavailable', { bucket: SESSION_BUCKET, op: what }, { cause: err });
    }
  }
}

/** The cookie value inside a session credential presented to the API (`stk_ses_<sid>`), or null. */
export function sidOfCredential(credential: string): string | null {
  if (!credential.startsWith(SESSION_CREDENTIAL_PREFIX)) return null;
  const sid = credential.slice(SESSION_CREDENTIAL_PREFIX.length);
  return SID_PATTERN.test(sid) ? sid : null;
}

/** True when `presented` is the CSRF token of `session`; constant-time. */
export function csrfMatches(session: Session, presented: unknown): boolean {
  if (typeof presented !== 'string' || presented.length !== session.csrf.length) return false;
  return timingSafeEqual(Buffer.from(presented), Buffer.from(session.csrf));
}

function kvKey(sid: string): string {
  return `s.${createHash('sha256').update(sid).digest('hex')}`;
}

function indexKey(userId: string, id: string): string {
  return `u.${userId}.${id}`;
}

function keyOf(sid: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(sid, 'base64url'), Buffer.alloc(0), 'stockade-ui-session-key', 32));
}

function csrfOf(sid: string): string {
  return createHmac('sha256', Buffer.from(sid, 'base64url')).update('stockade-ui-csrf').digest('base64url');
}

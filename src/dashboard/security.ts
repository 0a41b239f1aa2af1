import type { FastifyReply, FastifyRequest } from 'fastify';
import { StkError } from '../errors.ts';
import { csrfMatches, SESSION_TTL_MS, type Session } from './sessions.ts';

/** Name of the session cookie; scoped to the dashboard's path. */
export const SESSION_COOKIE = 'stk_session';
/** Header carrying the session's CSRF token on every state-changing request. */
export const CSRF_HEADER = 'x-csrf-token';
export const UI_PREFIX = '/ui';

/**
 * Strict policy: scripts and styles only from our own files (no inline script, no style
 * attributes), no framing, forms and fetches to this origin only.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** Headers of every dashboard response (also written by hand on hijacked streams). */
export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
};

/** The session id from the Cookie header, if any. */
export function sessionCookie(req: FastifyRequest): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Set-Cookie value for a new session, or for clearing it (`sid` null). */
export function sessionSetCookie(req: FastifyRequest, sid: string | null): string {
  const attrs = [`${SESSION_COOKIE}=${sid ?? ''}`, `Path=${UI_PREFIX}`, 'HttpOnly', 'SameSite=Strict'];
  // Secure only over TLS: a browser drops a Secure cookie set over plain http on 127.0.0.1.
  if (req.protocol === 'https') attrs.push('Secure');
  attrs.push(sid ? `Max-Age=${Math.floor(SESSION_TTL_MS / 1000)}` : 'Max-Age=0');
  return attrs.join('; ');
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * Refuses a cross-site state change. SameSite=Strict already keeps the cookie off cross-site
 * requests; the per-session token covers what SameSite does not (a same-site but other-origin page,
 * an old browser), and the Origin check refuses a sign-in posted from another site.
 */
export function assertSameOrigin(req: FastifyRequest): void {
  if (SAFE_METHODS.has(req.method)) return;
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') {
    throw new StkError('STK_ERR_FORBIDDEN', 'cross-site request refused', { context: 'origin' });
  }
  const origin = req.headers.origin;
  if (typeof origin === 'string' && origin !== 'null') {
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      throw new StkError('STK_ERR_FORBIDDEN', 'cross-site request refused', { context: 'origin' });
    }
    if (host !== req.headers.host) throw new StkError('STK_ERR_FORBIDDEN', 'cross-site request refused', { context: 'origin' });
  } else if (origin === 'null') {
    throw new StkError('STK_ERR_FORBIDDEN', 'cross-site request refused', { context: 'origin' });
  }
}

/** A state-changing request of a session must carry the session's CSRF token. */
export function assertCsrf(req: FastifyRequest, session: Session): void {
  if (SAFE_METHODS.has(req.method)) return;
  assertSameOrigin(req);
  if (!csrfMatches(session, req.headers[CSRF_HEADER])) {
    throw new StkError('STK_ERR_FORBIDDEN', 'missing or wrong CSRF token', { context: 'csrf' });
  }
}

/** Responses that carry tenant data must not be kept by caches or the back/forward cache of another user. */
export function noStore(reply: FastifyReply): void {
  reply.header('cache-control', 'no-store');
}

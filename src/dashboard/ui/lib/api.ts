import { saveDrafts } from './drafts.ts';
import { ApiError } from './errors.ts';

/**
 * The dashboard's one client of the operator API. Requests go to `/ui/api/<path>`, where the
 * server adds the session's credential; state changes carry the session's CSRF token. Every
 * failure becomes an `ApiError` with a catalogue code; a 401 ends the page's session (half-typed
 * forms are kept) and goes to sign-in, which returns here.
 */
let csrf = '';

/** Set once from the session. */
export function setCsrf(token: string): void {
  csrf = token;
}

/** The CSRF token, for the few calls made outside this client (the ledger verification stream). */
export function csrfToken(): string {
  return csrf;
}

export type Query = Record<string, string | number | boolean | null | undefined>;

/** A query string of the values that are set. */
export function queryString(query: Query = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

let leaving = false;

/** This tab is signing out on purpose: a session found ended meanwhile is no news to announce. */
export function markLeaving(): void {
  leaving = true;
}

/** Whether this tab is signing out on purpose. */
export function isLeaving(): boolean {
  return leaving;
}

/** Goes to sign-in and back here afterwards; what was typed into forms is kept for then. */
export function sessionEnded(): never {
  if (!leaving) {
    saveDrafts();
    const here = location.pathname + location.search;
    location.assign(`/ui/login?next=${encodeURIComponent(here)}`);
  }
  throw new ApiError(401, 'STK_ERR_AUTH_REQUIRED', 'signed out');
}

/** fetch with the session; throws ApiError for anything but a 2xx. */
export async function request<T = unknown>(method: string, url: string, o: { body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  const headers: Record<string, string> = {};
  if (method !== 'GET') headers['x-csrf-token'] = csrf;
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      credentials: 'same-origin',
      ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'STK_ERR_UNAVAILABLE', 'no answer');
  }
  if (res.status === 204) return null as T;
  const json = (await res.json().catch(() => null)) as {
    error?: { code?: string; message?: string; data?: Record<string, unknown>; requestId?: string };
  } | null;
  // A wrong or used MFA code answers 401 too, with its own code: that is no end of the session.
  const code = json?.error?.code;
  if (res.status === 401 && code !== 'STK_ERR_MFA_INVALID' && code !== 'STK_ERR_MFA_REPLAYED') sessionEnded();
  if (!res.ok) {
    const e = json?.error;
    throw new ApiError(
      res.status,
      e?.code ?? (res.status >= 500 ? 'STK_ERR_UNAVAILABLE' : 'STK_ERR_INTERNAL'),
      e?.message ?? null,
      e?.data ?? {},
      e?.requestId ?? null,
    );
  }
  return json as T;
}

/** Path of a tenant's resource: `/tenants/<tenant>/<rest…>`, every part encoded. */
export function tpath(tenant: string, ...rest: string[]): string {
  return ['/tenants', tenant, ...rest].map((p, i) => (i === 0 ? p : encodeURIComponent(p))).join('/');
}

/** The operator API under /api/v1, through the dashboard. */
export const api = {
  get: <T = unknown>(path: string, query: Query = {}, signal?: AbortSignal) =>
    request<T>('GET', `/ui/api${path}${queryString(query)}`, signal ? { signal } : {}),
  post: <T = unknown>(path: string, body: unknown = {}) => request<T>('POST', `/ui/api${path}`, { body }),
  put: <T = unknown>(path: string, body: unknown = {}) => request<T>('PUT', `/ui/api${path}`, { body }),
  patch: <T = unknown>(path: string, body: unknown = {}) => request<T>('PATCH', `/ui/api${path}`, { body }),
  del: <T = unknown>(path: string) => request<T>('DELETE', `/ui/api${path}`),
  /** The address of a download (export) through the session: a plain GET the browser saves. */
  href: (path: string, query: Query = {}) => `/ui/api${path}${queryString(query)}`,
};

/** A page of a list route. */
export interface ListPage<T> {
  items: T[];
  nextCursor: string | null;
  total?: number;
  totalExact?: boolean;
  consistencyToken: string;
}

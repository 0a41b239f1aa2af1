// The dashboard's client of the operator API. Requests go to /ui/api/…, where the server adds the
// session's credential; state changes carry the session's CSRF token.

let csrf = '';
export function setCsrf(token) {
  csrf = token;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `request failed (${status})`);
    this.status = status;
    this.code = body?.error?.code ?? 'STK_ERR_INTERNAL';
  }
}

/** fetch with the session; 401 means the session is gone, so back to sign-in. */
export async function request(method, url, body) {
  const headers = {};
  if (method !== 'GET') headers['x-csrf-token'] = csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method, headers, credentials: 'same-origin', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  if (res.status === 401) {
    location.assign('/ui/login');
    throw new ApiError(401, { error: { code: 'STK_ERR_AUTH_REQUIRED', message: 'signed out' } });
  }
  if (res.status === 204) return null;
  const json = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

/** The operator API under /api/v1, through the dashboard. */
export const api = {
  get: (path, query = {}) => {
    const q = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== ''));
    return request('GET', `/ui/api${path}${q.size ? `?${q}` : ''}`);
  },
  post: (path, body = {}) => request('POST', `/ui/api${path}`, body),
  put: (path, body = {}) => request('PUT', `/ui/api${path}`, body),
  patch: (path, body = {}) => request('PATCH', `/ui/api${path}`, body),
};

/** Path of a tenant's resource: /tenants/<tenant>/<rest>. */
export function tpath(tenant, ...rest) {
  return ['/tenants', tenant, ...rest].map((p, i) => (i === 0 ? p : encodeURIComponent(p))).join('/');
}

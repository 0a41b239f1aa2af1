// The operator API as the demo's people use it: the admin key for what only an admin does, and for
// each person an API token of their own, made the way a person makes one (sign in with the
// password, then `POST /me/tokens` in that session), so the audit trail names them.
import { type ErrorCode, StkError } from '../errors.ts';

/** One answer of the operator API. */
export interface ApiAnswer<T> {
  status: number;
  body: T;
}

/** A JSON client of `/api/v1` with one Bearer credential. Refusals throw StkError with the API's code. */
export class OperatorApi {
  constructor(
    readonly base: string,
    readonly credential: string,
    /** Who this is, for messages. */
    readonly who: string,
  ) {}

  /** Calls the API and answers status and body whatever the status (network faults throw). */
  // biome-ignore lint/suspicious/noExplicitAny: a JSON answer, typed by the caller
  async send<T = any>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> {
    let res: Response;
    try {
      res = await fetch(`${this.base}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${this.credential}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (err) {
      throw new StkError(
        'STK_ERR_UNAVAILABLE',
        `the operator API at ${this.base} did not answer (${(err as Error).message})`,
        { url: this.base },
        { cause: err },
      );
    }
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed as T };
  }

  /** Calls the API; any status of 300 or more throws the API's error (code, message, data). */
  // biome-ignore lint/suspicious/noExplicitAny: a JSON answer, typed by the caller
  async call<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const r = await this.send<T>(method, path, body);
      if (r.status < 300) return r.body;
      // A busy install asks to come back (rate limits, a projection catching up): the same request again.
      if ((r.status === 429 || r.status === 503) && attempt < 8 && method === 'GET') {
        await new Promise((res) => setTimeout(res, 250 * 2 ** Math.min(attempt, 4)));
        continue;
      }
      throw errorOf(r, `${this.who}: ${method} ${path}`);
    }
  }
}

/** The StkError a refused answer carries (its code, message and data). */
export function errorOf(r: ApiAnswer<unknown>, what: string): StkError {
  const e = (r.body as { error?: { code?: string; message?: string; data?: Record<string, unknown> } } | null)?.error;
  if (e?.code) return new StkError(e.code as ErrorCode, `${what} answered ${r.status}: ${e.message ?? ''}`, { ...(e.data ?? {}), status: r.status });
  return new StkError('STK_ERR_INTERNAL', `${what} answered ${r.status}`, { status: r.status });
}

/**
 * Signs a person in with their password on the dashboard (`POST /ui/session/password`) and makes
 * them an API token in that session (`POST /ui/api/me/tokens`): the token acts with their roles.
 */
export async function personApi(base: string, person: { name: string; email: string }, password: string, label: string): Promise<OperatorApi> {
  const signIn = await fetch(`${base}/ui/session/password`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: person.email, password }),
  });
  const answer = (await signIn.json().catch(() => null)) as { csrf?: string; mfaPending?: boolean; error?: { code?: string; message?: string } } | null;
  if (signIn.status !== 201 || !answer?.csrf)
    throw errorOf({ status: signIn.status, body: answer }, `signing in as ${person.email} (the demo password: was it changed?)`);
  if (answer.mfaPending)
    throw new StkError(
      'STK_ERR_MFA_REQUIRED',
      `${person.email} must set up MFA before making tokens: the install's sign-in policy requires MFA; the demo cannot use it`,
    );
  const cookie = signIn.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .join('; ');
  const made = await fetch(`${base}/ui/api/me/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': answer.csrf },
    body: JSON.stringify({ label, expiresInDays: 30 }),
  });
  const token = (await made.json().catch(() => null)) as { token?: string } | null;
  if (made.status !== 201 || !token?.token) throw errorOf({ status: made.status, body: token }, `making an API token for ${person.email}`);
  // The token is all the demo needs: the session ends now rather than stay open for hours.
  await fetch(`${base}/ui/session`, { method: 'DELETE', headers: { cookie, 'x-csrf-token': answer.csrf } }).catch(() => undefined);
  return new OperatorApi(base, token.token, person.name);
}

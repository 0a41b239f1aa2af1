/** When to try the ingress again after a failed request: `Retry-After` when it says, else capped exponential back-off. */

/** Options of the back-off. */
export interface BackoffOptions {
  /** First delay. @defaultValue 1000 */
  baseMs?: number;
  /** Cap of the exponential delay. @defaultValue 300000 (5 min) */
  maxMs?: number;
  /** Cap on what a `Retry-After` may ask, so a bad header cannot silence the agent for a day. @defaultValue 3600000 */
  maxRetryAfterMs?: number;
  /** [0, 1) source for jitter. @defaultValue Math.random */
  random?: () => number;
}

/**
 * The delay `Retry-After` asks for (delta-seconds or an HTTP date, RFC 9110 §10.2.3) at `nowMs`;
 * null when the header is absent or unreadable. A date in the past means now (0).
 */
export function parseRetryAfterMs(header: string | null | undefined, nowMs: number): number | null {
  if (header === null || header === undefined) return null;
  const v = header.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // An HTTP date names its day and month; Date.parse alone would take '-5' as the year 5 BC.
  if (
    !/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(v) &&
    !/^[A-Za-z]+, \d{2}-[A-Za-z]{3}-\d{2} /.test(v) &&
    !/^[A-Za-z]{3} [A-Za-z]{3} /.test(v)
  )
    return null;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

/**
 * Tracks consecutive failures of one kind of request and answers how long to wait before the
 * next try: a 429 or 503 with `Retry-After` waits what the server asked (capped at
 * `maxRetryAfterMs`); anything else waits base·2^(failures-1), capped at `maxMs`, with "equal
 * jitter" (half fixed, half random) so a fleet of agents that lost the ingress together does not
 * come back together. A success resets it.
 */
export class Backoff {
  readonly baseMs: number;
  readonly maxMs: number;
  readonly maxRetryAfterMs: number;
  readonly #random: () => number;
  #failures = 0;

  constructor(o: BackoffOptions = {}) {
    this.baseMs = o.baseMs ?? 1000;
    this.maxMs = o.maxMs ?? 300_000;
    this.maxRetryAfterMs = o.maxRetryAfterMs ?? 3_600_000;
    this.#random = o.random ?? Math.random;
  }

  /** Failures since the last success. */
  get failures(): number {
    return this.#failures;
  }

  /** Records a failure and returns the delay before the next try. `status` 0 means no answer (network error). */
  fail(o: { status: number; retryAfter?: string | null; nowMs?: number }): number {
    this.#failures++;
    if (o.status === 429 || o.status === 503) {
      const asked = parseRetryAfterMs(o.retryAfter, o.nowMs ?? Date.now());
      if (asked !== null) return Math.min(asked, this.maxRetryAfterMs);
    }
    const exp = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.#failures - 1, 52));
    return Math.round(exp / 2 + this.#random() * (exp / 2));
  }

  /** Records a success: the next failure starts again from `baseMs`. */
  succeed(): void {
    this.#failures = 0;
  }
}

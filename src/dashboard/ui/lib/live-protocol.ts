/** Messages between dashboard tabs and the live SharedWorker (`live-worker.ts`). */
export type LiveState = 'off' | 'connecting' | 'on' | 'ended';

/**
 * `session` is an opaque per-session value (the page's CSRF token, derived from the session cookie):
 * a tab of a newer sign-in makes the worker open its stream again, with the new cookie.
 */
export type ToWorker = { t: 'want'; tenants: string[]; session: string } | { t: 'ping' } | { t: 'bye' } | { t: 'reconnect' };

export type FromWorker =
  | { t: 'status'; state: LiveState }
  | { t: 'change'; tenant: string; kind: string; type: string; id: string; consistencyToken: string }
  | { t: 'resync'; tenant: string; consistencyToken: string };

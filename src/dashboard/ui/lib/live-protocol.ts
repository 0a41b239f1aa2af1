/** Messages between dashboard tabs and the live SharedWorker (`live-worker.ts`). */
export type LiveState = 'off' | 'connecting' | 'on' | 'ended';

export type ToWorker = { t: 'want'; tenants: string[] } | { t: 'ping' } | { t: 'bye' } | { t: 'reconnect' };

export type FromWorker =
  | { t: 'status'; state: LiveState }
  | { t: 'change'; tenant: string; kind: string; type: string; id: string; consistencyToken: string }
  | { t: 'resync'; tenant: string; consistencyToken: string };

import { useEffect, useRef, useState } from 'preact/hooks';
import { csrfToken } from './api.ts';
import type { FromWorker, LiveState, ToWorker } from './live-protocol.ts';

/**
 * The one live-update hub of a tab. Changes come from the browser's shared live stream
 * (`live-worker.ts`; a per-tab stream where SharedWorker is missing). Pages subscribe to kinds
 * (`alert`, `agent`, `incident`, `finding`, `scan`, `evidence`, `command`, `tenant`) with `useLive`;
 * a burst reaches a subscriber as one call with every change of the burst and the newest token, so
 * a page re-reads once with `waitFor` and merges what it shows.
 */
export interface Change {
  tenant: string;
  kind: string;
  type: string;
  id: string;
  consistencyToken: string;
}

type Sub = { kinds: Set<string> | null; fn: (changes: Change[], token: string) => void; pending: Change[]; timer: ReturnType<typeof setTimeout> | null };

/** How long a subscriber's burst is gathered before it hears of it. */
const COALESCE_MS = 300;
const PING_MS = 15_000;

let port: { postMessage(m: ToWorker): void } | null = null;
let tenant: string | null = null;
/** Customers a page follows besides the shell's one (the all-customers overview follows several). */
let extra: string[] = [];
let state: LiveState = 'off';
const subs = new Set<Sub>();
const stateListeners = new Set<(s: LiveState) => void>();

function deliver(c: Change): void {
  if (c.tenant !== tenant && !extra.includes(c.tenant)) return;
  for (const s of subs) {
    if (s.kinds && !s.kinds.has(c.kind)) continue;
    s.pending.push(c);
    s.timer ??= setTimeout(() => {
      const batch = s.pending;
      s.pending = [];
      s.timer = null;
      if (batch.length) s.fn(batch, batch[batch.length - 1]!.consistencyToken);
    }, COALESCE_MS);
  }
}

function onMessage(m: FromWorker): void {
  if (m.t === 'status') {
    state = m.state;
    document.body.dataset.live = state === 'on' ? 'on' : 'off';
    for (const l of [...stateListeners]) l(state);
  } else if (m.t === 'change') {
    deliver(m);
  } else if (m.t === 'resync') {
    // Every subscriber reads again (a gap in the stream may have hidden anything).
    deliver({ tenant: m.tenant, kind: '*', type: 'resync', id: '', consistencyToken: m.consistencyToken });
  }
}

/** A stream of this tab's own, for browsers without SharedWorker; the same messages as the worker's. */
function ownStream(): { postMessage(m: ToWorker): void } {
  let es: EventSource | null = null;
  return {
    postMessage(m) {
      if (m.t !== 'want' && m.t !== 'reconnect') return;
      es?.close();
      es = null;
      const tenants = m.t === 'want' ? m.tenants : wanted();
      if (!tenants.length) return onMessage({ t: 'status', state: 'off' });
      const q = new URLSearchParams();
      for (const t of tenants) q.append('tenant', t);
      const mine = new EventSource(`/ui/live?${q}`);
      es = mine;
      onMessage({ t: 'status', state: 'connecting' });
      mine.addEventListener('ready', (ev) => {
        onMessage({ t: 'status', state: 'on' });
        const { tokens } = JSON.parse((ev as MessageEvent<string>).data) as { tokens: Record<string, string> };
        for (const [t, consistencyToken] of Object.entries(tokens)) onMessage({ t: 'resync', tenant: t, consistencyToken });
      });
      mine.addEventListener('change', (ev) => onMessage({ t: 'change', ...(JSON.parse((ev as MessageEvent<string>).data) as Change) }));
      mine.addEventListener('error', () => onMessage({ t: 'status', state: mine.readyState === EventSource.CLOSED ? 'ended' : 'connecting' }));
    },
  };
}

/** Starts the hub for this tab (once). */
export function startLive(): void {
  if (port) return;
  if (typeof SharedWorker === 'function') {
    const worker = new SharedWorker('/ui/assets/live-worker.js', { name: 'stockade-live' });
    worker.port.addEventListener('message', (ev: MessageEvent<FromWorker>) => onMessage(ev.data));
    worker.port.start();
    port = worker.port;
    setInterval(() => port?.postMessage({ t: 'ping' }), PING_MS);
    addEventListener('pagehide', () => port?.postMessage({ t: 'bye' }));
    addEventListener('pageshow', (ev) => {
      if ((ev as PageTransitionEvent).persisted) port?.postMessage({ t: 'want', tenants: wanted(), session: csrfToken() });
    });
  } else {
    port = ownStream();
  }
}

/** The customers this tab follows: the shell's, and those a page asked for. */
function wanted(): string[] {
  return [...new Set([...(tenant ? [tenant] : []), ...extra])];
}

/** Follows one customer's changes (or none); called by the shell when the customer changes. */
export function watchTenant(next: string | null): void {
  if (next === tenant) return;
  tenant = next;
  port?.postMessage({ t: 'want', tenants: wanted(), session: csrfToken() });
}

/** Customers one stream can follow (the server's `LIVE_MAX_TENANTS`). */
export const LIVE_MAX_TENANTS = 16;

/**
 * Follows several customers while the calling component is mounted (the all-customers overview);
 * at most LIVE_MAX_TENANTS. Their changes reach `useLive` subscribers like the shell customer's.
 */
export function useWatchTenants(tenants: string[]): void {
  const key = tenants.slice(0, LIVE_MAX_TENANTS).join(',');
  useEffect(() => {
    extra = key ? key.split(',') : [];
    port?.postMessage({ t: 'want', tenants: wanted(), session: csrfToken() });
    return () => {
      extra = [];
      port?.postMessage({ t: 'want', tenants: wanted(), session: csrfToken() });
    };
  }, [key]);
}

/** After a new sign-in in this browser: the shared stream must present the new session. */
export function reconnectLive(): void {
  port?.postMessage({ t: 'reconnect' });
}

/** The stream's state, re-rendering on change. */
export function useLiveState(): LiveState {
  const [s, setS] = useState(state);
  useEffect(() => {
    stateListeners.add(setS);
    setS(state);
    return () => {
      stateListeners.delete(setS);
    };
  }, []);
  return s;
}

/** Listens to the raw changes of the current customer (no coalescing): for counters and notices. */
export function onChanges(kinds: string[] | null, fn: (changes: Change[], token: string) => void): () => void {
  const s: Sub = { kinds: kinds ? new Set([...kinds, '*']) : null, fn, pending: [], timer: null };
  subs.add(s);
  return () => {
    if (s.timer) clearTimeout(s.timer);
    subs.delete(s);
  };
}

/**
 * Calls `fn` with each burst of changes of these kinds for the current customer (and after a gap in
 * the stream, with a `resync` change). The latest `fn` is used, so it may close over fresh state.
 */
export function useLive(kinds: string[], fn: (changes: Change[], token: string) => void): void {
  const latest = useRef(fn);
  latest.current = fn;
  const key = kinds.join(',');
  useEffect(() => onChanges(key.split(','), (c, t) => latest.current(c, t)), [key]);
}

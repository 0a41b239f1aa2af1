/**
 * One live stream per browser, whatever the number of tabs. Every dashboard tab of this origin
 * connects to this SharedWorker and says which customers it shows; the worker holds one
 * server-sent-event stream (`/ui/live?tenant=…`) for all of them and hands each change to the
 * tabs that show its customer. Six tabs used to hold six streams, which is every HTTP/1.1
 * connection a browser allows to one host: the sixth tab never loaded.
 */
import type { FromWorker, ToWorker } from './lib/live-protocol.ts';

interface Tab {
  tenants: Set<string>;
  seenAt: number;
}

/** A tab not heard from for this long is gone (closing a tab does not tell its worker). */
const TAB_SILENT_MS = 45_000;

// The DOM library has no SharedWorkerGlobalScope (and the webworker one clashes with it): the one event used here.
const scope = self as unknown as { addEventListener(type: 'connect', fn: (ev: MessageEvent) => void): void };
const tabs = new Map<MessagePort, Tab>();
let source: EventSource | null = null;
let streamTenants = '';
let state: 'off' | 'connecting' | 'on' | 'ended' = 'off';
/** The session the stream was opened under (see ToWorker). */
let streamSession = '';

function post(port: MessagePort, m: FromWorker): void {
  port.postMessage(m);
}

function broadcast(m: FromWorker, tenant?: string): void {
  for (const [port, tab] of tabs) if (tenant === undefined || tab.tenants.has(tenant)) post(port, m);
}

function setState(next: typeof state): void {
  state = next;
  broadcast({ t: 'status', state });
}

function wanted(): string {
  const all = new Set<string>();
  for (const tab of tabs.values()) for (const t of tab.tenants) all.add(t);
  return [...all].sort().join(',');
}

/** Opens the stream for the customers the tabs show, replacing one for another set. */
function connect(force = false): void {
  const want = wanted();
  if (!force && want === streamTenants && source) return;
  source?.close();
  source = null;
  streamTenants = want;
  if (!want) {
    setState('off');
    return;
  }
  const q = new URLSearchParams();
  for (const t of want.split(',')) q.append('tenant', t);
  const es = new EventSource(`/ui/live?${q}`);
  source = es;
  setState('connecting');
  es.addEventListener('ready', (ev) => {
    if (source !== es) return;
    const { tokens } = JSON.parse((ev as MessageEvent<string>).data) as { tokens: Record<string, string> };
    setState('on');
    // Whatever happened while the stream was down: the pages read again.
    for (const [tenant, consistencyToken] of Object.entries(tokens)) broadcast({ t: 'resync', tenant, consistencyToken }, tenant);
  });
  es.addEventListener('change', (ev) => {
    if (source !== es) return;
    const c = JSON.parse((ev as MessageEvent<string>).data) as { tenant: string; kind: string; type: string; id: string; consistencyToken: string };
    broadcast({ t: 'change', tenant: c.tenant, kind: c.kind, type: c.type, id: c.id, consistencyToken: c.consistencyToken }, c.tenant);
  });
  es.addEventListener('error', () => {
    if (source !== es) return;
    // The browser retries a dropped stream by itself, but not a refused one (the session ended,
    // too many streams): the tabs find out which, and say so.
    if (es.readyState === EventSource.CLOSED) {
      source = null;
      streamTenants = '';
      setState('ended');
    } else setState('connecting');
  });
}

function sweep(): void {
  const now = Date.now();
  let gone = false;
  for (const [port, tab] of tabs) {
    if (now - tab.seenAt > TAB_SILENT_MS) {
      tabs.delete(port);
      gone = true;
    }
  }
  if (gone) connect();
}
setInterval(sweep, TAB_SILENT_MS / 3);

scope.addEventListener('connect', (ev) => {
  const port = ev.ports[0]!;
  tabs.set(port, { tenants: new Set(), seenAt: Date.now() });
  port.addEventListener('message', (m: MessageEvent<ToWorker>) => {
    const tab = tabs.get(port);
    const msg = m.data;
    if (msg.t === 'bye') {
      tabs.delete(port);
      connect();
      return;
    }
    if (!tab) {
      // Swept while its page was frozen in the background: it is back.
      tabs.set(port, { tenants: new Set(msg.t === 'want' ? msg.tenants : []), seenAt: Date.now() });
      if (msg.t === 'want' && msg.session !== streamSession) {
        streamSession = msg.session;
        connect(true);
      } else connect();
      return;
    }
    tab.seenAt = Date.now();
    if (msg.t === 'want') {
      tab.tenants = new Set(msg.tenants);
      post(port, { t: 'status', state });
      const newer = msg.session !== streamSession;
      streamSession = msg.session;
      connect(newer);
    } else if (msg.t === 'reconnect') {
      // A new sign-in: the stream must present the new session.
      connect(true);
    }
  });
  port.start();
});

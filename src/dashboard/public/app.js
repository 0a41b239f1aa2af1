// The dashboard shell: session, customer switcher, navigation, routing, live updates.
import { api, request, setCsrf } from './api.js';
import { fill, h, toast } from './dom.js';
import { PAGES } from './pages/index.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const switcher = document.getElementById('switcher');
const liveBadge = document.getElementById('live');

const state = {
  session: null,
  tenants: [],
  /** The customer every page follows, and its profile (products). */
  tenant: null,
  tenantDoc: null,
  live: null,
  /** Bumped on every navigation, so a page that finishes loading late never draws over the next one. */
  generation: 0,
  page: null,
};

/** Which pages a tenant's products allow: a product that is off has no page. */
function pageAllowed(name, doc) {
  const needs = state.session.areaProducts[name];
  return !needs || needs.some((p) => doc.products.includes(p));
}

function parse(pathname) {
  const parts = pathname
    .replace(/^\/ui\/?/, '')
    .split('/')
    .filter(Boolean)
    .map(decodeURIComponent);
  if (parts[0] === 'customers') return { page: 'customers' };
  if (parts[0] === 't' && parts[1]) return { tenant: parts[1], page: parts[2] ?? 'overview', id: parts[3] };
  return { page: 'home' };
}

export function navigate(path, o = {}) {
  if (o.replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  void route();
}

async function route() {
  const gen = ++state.generation;
  const where = parse(location.pathname);
  const s = state.session;
  if (where.page === 'home') {
    return navigate(s.principal.kind === 'admin' ? '/ui/customers' : `/ui/t/${s.principal.tenant}/overview`, { replace: true });
  }
  // Nothing of the previous customer stays on screen while the next one loads.
  delete main.dataset.ready;
  fill(main, h('p.muted', {}, 'Loading…'));
  if (where.tenant !== state.tenant) {
    state.tenant = where.tenant ?? null;
    state.tenantDoc = null;
    connectLive();
  }
  if (state.tenant && !state.tenantDoc) {
    try {
      state.tenantDoc = await api.get(`/tenants/${encodeURIComponent(state.tenant)}`);
    } catch {
      state.tenantDoc = null;
    }
    if (gen !== state.generation) return;
  }
  drawChrome(where.page);
  if (where.page === 'customers' && s.principal.kind !== 'admin') return notFound();
  if (state.tenant && (!state.tenantDoc || !PAGES[where.page] || !pageAllowed(where.page, state.tenantDoc))) return notFound();
  const page = PAGES[where.page];
  if (!page) return notFound();
  document.title = `${page.title}${state.tenantDoc ? ` · ${state.tenantDoc.name}` : ''} · Stockade`;
  main.dataset.page = where.page;
  const ctx = {
    session: s,
    tenant: state.tenant,
    tenantDoc: state.tenantDoc,
    id: where.id,
    main,
    navigate,
    canWrite: s.principal.kind === 'admin' || s.principal.role === 'operator',
    isAdmin: s.principal.kind === 'admin',
    stale: () => gen !== state.generation,
    /** Re-reads the customer's profile (after a product toggle) and redraws the navigation. */
    refreshTenant: async () => {
      if (state.tenant) state.tenantDoc = await api.get(`/tenants/${encodeURIComponent(state.tenant)}`);
      await loadTenants();
      drawChrome(where.page);
    },
    reload: () => route(),
  };
  state.page = null;
  try {
    const handle = await page.render(ctx);
    if (gen === state.generation) state.page = handle ?? null;
  } catch (err) {
    if (gen === state.generation) fill(main, h('h1', {}, page.title), h('p.error', { role: 'alert' }, err.message ?? String(err)));
  }
  if (gen === state.generation) main.dataset.ready = String(gen);
}

function notFound() {
  document.title = 'Not found · Stockade';
  main.dataset.page = 'not-found';
  fill(main, h('h1', {}, 'Not found'), h('p', {}, 'There is no such page, or it is not available to you.'));
}

function drawChrome(current) {
  const s = state.session;
  const isAdmin = s.principal.kind === 'admin';
  document.getElementById('switcher-wrap').hidden = !isAdmin;
  if (isAdmin) {
    fill(
      switcher,
      h('option', { value: '' }, '— choose a customer —'),
      state.tenants.map((t) =>
        h('option', { value: t.id, selected: t.id === state.tenant ? true : undefined }, `${t.name} (${t.id})${t.suspended ? ' — suspended' : ''}`),
      ),
    );
    switcher.value = state.tenant ?? '';
  }
  fill(document.getElementById('tenant-name'), !isAdmin && state.tenantDoc ? state.tenantDoc.name : '');
  fill(document.getElementById('who'), isAdmin ? 'admin' : `${s.principal.role} · ${s.principal.tenant}`);
  const links = [];
  if (isAdmin) links.push(['Customers', '/ui/customers', current === 'customers']);
  if (state.tenant && state.tenantDoc) {
    for (const name of s.pages) {
      if (!pageAllowed(name, state.tenantDoc)) continue;
      links.push([PAGES[name].title, `/ui/t/${state.tenant}/${name}`, current === name]);
    }
  }
  fill(
    nav,
    h(
      'ul',
      {},
      links.map(([label, href, on]) => h('li', {}, h('a', { href, 'data-link': '', 'aria-current': on ? 'page' : undefined }, label))),
    ),
  );
}

async function loadTenants() {
  if (state.session.principal.kind !== 'admin') return;
  const out = await api.get('/tenants');
  state.tenants = out.items;
}

/** One server-sent-event stream, for the current customer only; replaced when the customer changes. */
function connectLive() {
  state.live?.close();
  state.live = null;
  document.body.dataset.live = 'off';
  fill(liveBadge, '');
  if (!state.tenant) return;
  const tenant = state.tenant;
  const es = new EventSource(`/ui/live/${encodeURIComponent(tenant)}`);
  state.live = es;
  es.addEventListener('ready', () => {
    document.body.dataset.live = 'on';
    fill(liveBadge, h('span.dot', { 'aria-hidden': 'true' }), 'Live');
  });
  es.addEventListener('error', () => {
    document.body.dataset.live = 'off';
    fill(liveBadge, 'Reconnecting…');
    // The browser retries a dropped stream by itself, but not a refused one: a session that has
    // ended (signed out elsewhere, expired, token revoked) goes back to sign-in.
    if (es.readyState === EventSource.CLOSED) {
      void fetch('/ui/session', { credentials: 'same-origin' }).then((r) => {
        if (r.status === 401) location.assign('/ui/login');
        else fill(liveBadge, 'Live updates off — reload to resume');
      });
    }
  });
  for (const kind of ['alert', 'agent', 'incident', 'command']) {
    es.addEventListener(kind, (ev) => {
      if (state.live !== es) return;
      const change = JSON.parse(ev.data);
      if (change.type === 'alert.raised') toast('New alert', 'alert');
      coalesce(kind, change);
    });
  }
}

/**
 * A burst of changes (a batch of alerts, heartbeats of many agents) redraws a page once: the page
 * hears of the latest change of each kind, and re-reads waiting for its consistency token.
 */
const pendingLive = new Map();
function coalesce(kind, change) {
  const first = !pendingLive.has(kind);
  pendingLive.set(kind, change);
  if (!first) return;
  setTimeout(() => {
    const latest = pendingLive.get(kind);
    pendingLive.delete(kind);
    Promise.resolve(state.page?.onLive?.(kind, latest)).catch((err) => toast(err.message ?? String(err), 'error'));
  }, 250);
}

document.addEventListener('click', (ev) => {
  const a = ev.target instanceof Element ? ev.target.closest('a[data-link]') : null;
  if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) return;
  ev.preventDefault();
  navigate(a.getAttribute('href'));
});
window.addEventListener('popstate', () => void route());

switcher.addEventListener('change', () => {
  const next = switcher.value;
  if (!next) return navigate('/ui/customers');
  const where = parse(location.pathname);
  const doc = state.tenants.find((t) => t.id === next);
  const page = where.tenant && where.page && doc && pageAllowed(where.page, doc) ? where.page : 'overview';
  navigate(`/ui/t/${encodeURIComponent(next)}/${page}`);
});

document.getElementById('signout').addEventListener('click', async () => {
  state.live?.close();
  await request('DELETE', '/ui/session').catch(() => {});
  location.assign('/ui/login');
});

async function start() {
  const res = await fetch('/ui/session', { credentials: 'same-origin' });
  if (res.status !== 200) return location.assign('/ui/login');
  state.session = await res.json();
  setCsrf(state.session.csrf);
  await loadTenants();
  await route();
}

void start();

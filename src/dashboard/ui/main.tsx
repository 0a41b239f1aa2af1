import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { type PageSpec, pageAllowed, pagePermitted, pageSpec, PAGE_SPECS } from '../page-list.ts';
import { DialogHost } from './components/dialog.tsx';
import { api, isLeaving, markLeaving, request, setCsrf, sessionEnded, tpath } from './lib/api.ts';
import { homeOf, installPageOpen } from './lib/home.ts';
import { restoreDrafts } from './lib/drafts.ts';
import { plural } from './lib/format.ts';
import { onChanges, reconnectLive, startLive, useLiveState, watchTenant } from './lib/live.ts';
import { Notices, notifyGroup } from './lib/notices.tsx';
import { canOn, type PageProps, type SessionInfo, type TenantDoc } from './lib/page.ts';
import { ReadyContext } from './lib/page.ts';
import { interceptLinks, navigate, navigation, tenantHref, useWhere, type Where } from './lib/router.ts';
import { PAGES } from './pages/index.ts';

/**
 * The dashboard's shell: session, customer switcher, menu, router, live hub, notices and dialogs.
 * Pages are components registered in `pages/index.ts` (see src/dashboard/README.md).
 */
function App({ session }: { session: SessionInfo }) {
  const where = useWhere();
  // Whoever may see more than one customer gets the switcher and the customers list.
  const isAdmin = session.principal.kind !== 'token';
  const [tenants, setTenants] = useState<TenantDoc[]>([]);
  const [doc, setDoc] = useState<{ id: string; doc: TenantDoc | null } | null>(null);
  const [readyKey, setReadyKey] = useState('');
  const [menuOpen, setMenuOpen] = useState(false);
  const tenant = where.scope === 'tenant' ? where.tenant : null;
  const pageKey = `${where.scope}/${tenant ?? ''}/${where.page}/${where.id ?? ''}`;

  const loadTenants = async () => {
    if (!isAdmin) return;
    try {
      setTenants((await api.get<{ items: TenantDoc[] }>('/tenants')).items);
    } catch {
      // A role without the customers list keeps the switcher empty; the pages it may see still work.
    }
  };
  const loadDoc = async (t: string, waitFor?: string) => {
    try {
      const d = await api.get<TenantDoc>(tpath(t), waitFor ? { waitFor } : {});
      setDoc({ id: t, doc: d });
    } catch {
      setDoc({ id: t, doc: null });
    }
  };

  useEffect(() => {
    void loadTenants();
  }, []);
  useEffect(() => {
    watchTenant(tenant);
    if (tenant) void loadDoc(tenant);
  }, [tenant]);
  // The customer itself changes elsewhere (a product off, a suspension): the menu follows at once.
  useEffect(
    () =>
      onChanges(['tenant'], (_c, token) => {
        if (tenant) void loadDoc(tenant, token);
        void loadTenants().catch(() => {});
      }),
    [tenant],
  );
  // New alerts: one notice for a burst, counted, never one per alert.
  useEffect(
    () =>
      onChanges(['alert'], (changes) => {
        const raised = changes.filter((c) => c.type === 'alert.raised').length;
        if (raised) notifyGroup('alerts', raised, (n) => `${plural(n, 'new alert')}`);
      }),
    [],
  );
  useEffect(() => {
    setMenuOpen(false);
  }, [pageKey]);

  // The live stream was refused: when that is because the session ended (signed out elsewhere, a
  // session ended from another browser), this tab goes to sign-in too, and comes back here after.
  const live = useLiveState();
  useEffect(() => {
    if (live !== 'ended') return;
    if (isLeaving()) return;
    void fetch('/ui/session', { credentials: 'same-origin' }).then((r) => {
      if (r.status === 401 && !isLeaving()) sessionEnded();
    });
  }, [live]);

  if (where.scope === 'home') {
    queueMicrotask(() => navigate(homeOf(session), 'replace'));
    return null;
  }
  // A person who must set up MFA first sees nothing else (the API refuses everything else anyway).
  const mfaPending = session.principal.kind === 'user' && session.principal.mfaPending;
  if (mfaPending && !(where.scope === 'install' && where.page === 'account')) {
    queueMicrotask(() => navigate('/ui/account', 'replace'));
    return null;
  }
  const tenantDoc = tenant && doc?.id === tenant ? doc.doc : null;
  const loadingDoc = tenant !== null && doc?.id !== tenant;
  const spec = pageSpec(where.scope === 'tenant' ? 'tenant' : 'install', where.page);
  const Page = spec ? (PAGES[`${spec.scope}:${spec.name}`] ?? PAGES[spec.name]) : undefined;
  const perms = new Set([...session.access.install, ...session.access.everywhere, ...(tenant ? (session.access.tenants[tenant] ?? []) : [])]);
  const can = (permission: string) => perms.has(permission);
  const allowed =
    spec !== undefined &&
    Page !== undefined &&
    (spec.scope === 'install' ? installPageOpen(session, spec) : tenantDoc !== null && pageAllowed(spec, tenantDoc.products) && pagePermitted(spec, can)) &&
    (where.id === null || spec.detail);
  const canWrite = [...perms].some((x) => /\.(triage|manage|dispatch|revoke|custody|suspend|decide)$/.test(x));
  const props: PageProps = {
    session,
    tenant: tenant ?? '',
    tenantDoc,
    id: where.id,
    canWrite,
    isAdmin,
    can,
    refreshTenant: async (waitFor) => {
      if (tenant) await loadDoc(tenant, waitFor);
      await loadTenants();
    },
  };
  const title = spec?.title ?? 'Not found';
  document.title = `${title}${tenantDoc ? ` · ${tenantDoc.name}` : ''} · Stockade`;
  const markReady = () => {
    if (readyKey === pageKey) return;
    setReadyKey(pageKey);
    // User timing: when the page's data was drawn (bench/dashboard.ts reads it; so can a profiler).
    performance.mark('stk-page-ready');
    restoreDrafts();
    // After following a link, focus goes to the new page's heading (a screen reader starts there).
    if (navigation() === 'link') document.getElementById('page-heading')?.focus();
  };

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <Header session={session} tenants={tenants} where={where} tenantDoc={tenantDoc} menuOpen={menuOpen} onMenu={() => setMenuOpen(!menuOpen)} />
      {session.breakGlass ? (
        <p class="break-glass" role="note">
          Signed in with the admin key, the break-glass credential: every use of it is recorded in the audit log.
        </p>
      ) : null}
      <Nav session={session} where={where} tenantDoc={tenantDoc} open={menuOpen} />
      <main id="main" tabIndex={-1} data-page={loadingDoc ? 'loading' : allowed ? spec!.name : 'not-found'} data-ready={readyKey === pageKey ? '1' : undefined}>
        {loadingDoc ? (
          <p class="muted">Loading…</p>
        ) : allowed ? (
          <ReadyContext.Provider value={markReady}>
            <Page key={pageKey} {...props} />
          </ReadyContext.Provider>
        ) : (
          <NotFound />
        )}
      </main>
      <Notices />
      <DialogHost />
    </>
  );
}

function NotFound() {
  return (
    <>
      <h1 tabIndex={-1} id="page-heading">
        Not found
      </h1>
      <p>There is no such page, or it is not available to you.</p>
    </>
  );
}

function Header(p: { session: SessionInfo; tenants: TenantDoc[]; where: Where; tenantDoc: TenantDoc | null; menuOpen: boolean; onMenu(): void }) {
  const isAdmin = p.session.principal.kind !== 'token' && !(p.session.principal.kind === 'user' && p.session.principal.mfaPending);
  const live = useLiveState();
  const principal = p.session.principal;
  const who = principal.kind === 'admin' ? 'admin' : principal.kind === 'token' ? `${principal.role} · ${principal.tenant}` : principal.name;
  return (
    <header class="top">
      <button type="button" class="menu-button" aria-expanded={p.menuOpen ? 'true' : 'false'} aria-controls="nav" onClick={p.onMenu}>
        Menu
      </button>
      <a class="brand" href="/ui/">
        Stockade
      </a>
      {isAdmin ? <Switcher tenants={p.tenants} where={p.where} /> : null}
      {!isAdmin && p.tenantDoc ? (
        <span class="tenant-name" id="tenant-name" title={p.tenantDoc.name}>
          {p.tenantDoc.name}
        </span>
      ) : (
        <span class="tenant-name" id="tenant-name" />
      )}
      <span class="live" id="live" role="status">
        {p.where.tenant ? (
          live === 'on' ? (
            <>
              <span class="dot" aria-hidden="true" />
              Live
            </>
          ) : live === 'ended' ? (
            'Live updates off — reload to resume'
          ) : live === 'connecting' ? (
            'Connecting…'
          ) : null
        ) : null}
      </span>
      {principal.kind === 'user' ? (
        <a class="who" id="who" href="/ui/account" title={`${who}: my account`} aria-current={p.where.page === 'account' ? 'page' : undefined}>
          {who}
        </a>
      ) : (
        <span class="who" id="who" title={who}>
          {who}
        </span>
      )}
      <button
        type="button"
        class="signout"
        onClick={async () => {
          markLeaving();
          await request('DELETE', '/ui/session').catch(() => {});
          reconnectLive();
          location.assign('/ui/login');
        }}
      >
        Sign out
      </button>
    </header>
  );
}

/**
 * The customer switcher. A pick with the mouse switches at once; arrow keys only move through the
 * list (a native select changes its value on every arrow key), and Enter switches — so looking
 * through customers by keyboard does not load each of them.
 */
function Switcher({ tenants, where }: { tenants: TenantDoc[]; where: Where }) {
  const current = where.tenant ?? '';
  const [pending, setPending] = useState<string | null>(null);
  const keyed = useRef(false);
  const go = (next: string) => {
    setPending(null);
    if (next === current) return;
    if (!next) return navigate('/ui/customers');
    const doc = tenants.find((t) => t.id === next);
    const spec = where.scope === 'tenant' ? pageSpec('tenant', where.page) : undefined;
    const page = spec && doc && pageAllowed(spec, doc.products) ? spec.name : 'overview';
    navigate(tenantHref(next, page));
  };
  return (
    <div class="switcher">
      <label for="switcher">Customer</label>
      <select
        id="switcher"
        name="customer"
        value={pending ?? current}
        aria-describedby={pending !== null ? 'switcher-hint' : undefined}
        onKeyDown={(ev) => {
          if (ev.key === 'Enter') {
            ev.preventDefault();
            go((ev.currentTarget as HTMLSelectElement).value);
          } else if (ev.key !== 'Tab' && ev.key !== 'Escape') keyed.current = true;
          if (ev.key === 'Escape') setPending(null);
        }}
        onChange={(ev) => {
          const v = (ev.currentTarget as HTMLSelectElement).value;
          if (keyed.current) {
            keyed.current = false;
            setPending(v);
          } else go(v);
        }}
        onBlur={() => {
          keyed.current = false;
          setPending(null);
        }}
      >
        <option value="">— choose a customer —</option>
        {tenants.map((t) => (
          <option key={t.id} value={t.id}>
            {`${t.name} (${t.id})${t.suspended ? ' — suspended' : ''}`}
          </option>
        ))}
      </select>
      {pending !== null && pending !== current ? (
        <span class="switcher-hint" id="switcher-hint" role="status">
          Press Enter to switch
        </span>
      ) : null}
    </div>
  );
}

function Nav({ session, where, tenantDoc, open }: { session: SessionInfo; where: Where; tenantDoc: TenantDoc | null; open: boolean }) {
  const links: Array<[string, string, boolean]> = [];
  const inMenu = (spec: PageSpec) => spec.menu !== false;
  for (const spec of PAGE_SPECS) {
    if (spec.scope !== 'install' || !inMenu(spec) || !installPageOpen(session, spec)) continue;
    links.push([spec.title, `/ui/${spec.name}`, where.scope === 'install' && where.page === spec.name]);
  }
  if (where.tenant && tenantDoc) {
    const held = (x: string) => canOn(session, where.tenant, x);
    const tenantLinks: Array<[string, string, boolean]> = [];
    for (const spec of PAGE_SPECS) {
      if (spec.scope !== 'tenant' || !inMenu(spec) || !pageAllowed(spec, tenantDoc.products) || !pagePermitted(spec, held)) continue;
      tenantLinks.push([spec.title, tenantHref(where.tenant, spec.name), where.page === spec.name]);
    }
    return (
      <nav id="nav" aria-label="Pages" class={open ? 'open' : undefined}>
        {links.length ? (
          <>
            <NavList links={links} />
            <h2 class="nav-tenant" title={tenantDoc.name}>
              {tenantDoc.name}
            </h2>
          </>
        ) : null}
        <NavList links={tenantLinks} />
      </nav>
    );
  }
  return (
    <nav id="nav" aria-label="Pages" class={open ? 'open' : undefined}>
      <NavList links={links} />
    </nav>
  );
}

function NavList({ links }: { links: Array<[string, string, boolean]> }) {
  return (
    <ul>
      {links.map(([label, href, on]) => (
        <li key={href}>
          <a href={href} aria-current={on ? 'page' : undefined}>
            {label}
          </a>
        </li>
      ))}
    </ul>
  );
}

async function start(): Promise<void> {
  const res = await fetch('/ui/session', { credentials: 'same-origin' });
  if (res.status !== 200) return sessionEnded();
  const session = (await res.json()) as SessionInfo;
  setCsrf(session.csrf);
  interceptLinks();
  startLive();
  const root = document.getElementById('app')!;
  root.replaceChildren();
  render(<App session={session} />, root);
}

void start();

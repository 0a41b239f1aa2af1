import { useEffect, useState } from 'preact/hooks';

/**
 * The one router: the address is the state. Page, customer, item and every filter, sort and page
 * size live in the URL (`/ui/t/<tenant>/<page>[/<id>]?status=open&sort=severity`), so reload, Back
 * and deep links show the same thing. Changing a filter pushes a history entry; Back undoes it.
 */
export interface Where {
  scope: 'tenant' | 'install' | 'home';
  tenant: string | null;
  page: string;
  id: string | null;
  query: URLSearchParams;
}

/** Parses a dashboard address. */
export function parse(pathname: string, search = ''): Where {
  const parts = pathname
    .replace(/^\/ui\/?/, '')
    .split('/')
    .filter(Boolean)
    .map((p) => decodeURIComponent(p));
  const query = new URLSearchParams(search);
  if (parts[0] === 't' && parts[1]) return { scope: 'tenant', tenant: parts[1], page: parts[2] ?? 'overview', id: parts[3] ?? null, query };
  if (parts[0]) return { scope: 'install', tenant: null, page: parts[0], id: parts[1] ?? null, query };
  return { scope: 'home', tenant: null, page: 'home', id: null, query };
}

type Listener = (how: Navigation) => void;
const listeners = new Set<Listener>();

/** How the address changed: a link followed in the page (focus moves to the new heading), Back/Forward, or a filter. */
export type Navigation = 'link' | 'pop' | 'filter' | 'replace';
let lastNavigation: Navigation = 'replace';

/** The way the current address was reached. */
export function navigation(): Navigation {
  return lastNavigation;
}

/** Goes to a dashboard address without reloading the page. */
export function navigate(href: string, how: Navigation = 'link'): void {
  if (href === location.pathname + location.search) return;
  if (how === 'replace') history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  lastNavigation = how;
  for (const l of [...listeners]) l(how);
}

addEventListener('popstate', () => {
  lastNavigation = 'pop';
  for (const l of [...listeners]) l('pop');
});

/** The current address, re-rendering the component when it changes. */
export function useWhere(): Where {
  const [, setTick] = useState(0);
  useEffect(() => {
    const l = () => setTick((n) => n + 1);
    listeners.add(l);
    return () => {
      listeners.delete(l);
    };
  }, []);
  return parse(location.pathname, location.search);
}

/** Values of some query parameters, with defaults for the absent ones. */
export function readQuery<K extends string>(defaults: Record<K, string>): Record<K, string> {
  const q = new URLSearchParams(location.search);
  const out = { ...defaults };
  for (const k of Object.keys(defaults) as K[]) {
    const v = q.get(k);
    if (v !== null) out[k] = v;
  }
  return out;
}

/**
 * Sets query parameters of the current page (a value equal to its default is left out of the
 * address, so a plain link and the defaults are one address); pushes a history entry.
 */
export function setQuery(changes: Record<string, string>, defaults: Record<string, string> = {}, how: Navigation = 'filter'): void {
  const q = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(changes)) {
    if (v === '' || v === defaults[k]) q.delete(k);
    else q.set(k, v);
  }
  // An explicit "any" for a filter that has a default other than any.
  for (const [k, v] of Object.entries(changes)) if (v === '' && defaults[k] !== undefined && defaults[k] !== '') q.set(k, '');
  const s = q.toString();
  navigate(location.pathname + (s ? `?${s}` : ''), how);
}

/** Follows in-page links (`<a href="/ui/…">`) without a reload; modified clicks open tabs as usual. */
export function interceptLinks(): void {
  document.addEventListener('click', (ev) => {
    const a = ev.target instanceof Element ? ev.target.closest('a[href^="/ui/"]') : null;
    if (!a || a.hasAttribute('download') || a.getAttribute('target') || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.altKey || ev.button !== 0) return;
    const href = a.getAttribute('href')!;
    if (href.startsWith('/ui/api/') || href.startsWith('/ui/ca.crt')) return;
    ev.preventDefault();
    navigate(href, 'link');
  });
}

/** Address of a customer's page. */
export function tenantHref(tenant: string, page: string, id?: string, query?: Record<string, string>): string {
  const q = query ? new URLSearchParams(Object.entries(query).filter(([, v]) => v !== '')).toString() : '';
  return `/ui/t/${encodeURIComponent(tenant)}/${page}${id ? `/${encodeURIComponent(id)}` : ''}${q ? `?${q}` : ''}`;
}

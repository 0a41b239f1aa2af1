import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, type ListPage, tpath } from '../lib/api.ts';
import { count, fromLocalInput, plural, toLocalInput } from '../lib/format.ts';
import { useLive } from '../lib/live.ts';
import { notifyError } from '../lib/notices.tsx';
import { useReadyCallback } from '../lib/page.ts';
import { readQuery, setQuery, useWhere } from '../lib/router.ts';
import { ScrollBox } from './bits.tsx';

/** A column: its header, its cell, and the sort it stands for (if the API sorts by it). */
export interface Column<T> {
  label: string;
  cell: (row: T) => ComponentChildren;
  class?: string;
}

/** A filter of the list: a query parameter of the list route. */
export interface Filter {
  name: string;
  label: string;
  kind?: 'select' | 'search' | 'from' | 'to' | 'text';
  options?: Array<string | [string, string]>;
}

/** What bulk actions see of the selection. */
export interface Selection<T> {
  ids: string[];
  rows: T[];
  /** "All matching the filter" rather than ticked rows. */
  allMatching: boolean;
  total: number;
  /** The list's filters as query parameters (for collecting every matching id). */
  query: Record<string, string>;
  clear(): void;
  /** Reads the list again, waiting for a change (after a bulk action). */
  refresh(token?: string): Promise<void>;
}

export interface DataListProps<T extends { id: string }> {
  tenant: string;
  /** The list route under the tenant (`alerts`, `notifications/deliveries`); its `/export` sibling downloads the filtered list. */
  area: string;
  caption: string;
  /** Singular and plural nouns for counts. */
  noun: [string, string];
  /** The columns; a function gets `refresh(token)` for row actions that change the row. */
  columns: Array<Column<T>> | ((refresh: (token?: string) => void) => Array<Column<T>>);
  filters?: Filter[];
  /** Defaults of the filters (a list may open on `status=open`). */
  defaults?: Record<string, string>;
  /** Filters fixed by the page (an agent's alerts), not shown and not in the address. */
  fixed?: Record<string, string>;
  /** Sorts the route offers: `[value, label]`; the first is the default. */
  sorts?: Array<[string, string]>;
  /** Live kinds that may change what the list shows. */
  live?: string[];
  /** Rows can be ticked for bulk actions; the label of each row's box. */
  select?: (row: T) => string;
  bulk?: (s: Selection<T>) => ComponentChildren;
  empty: string;
  /** Keep the list's state in the address (the page's main list) or in the component (a list inside a detail page). */
  inAddress?: boolean;
  exportable?: boolean;
  /** Page size when the address does not say. */
  pageSize?: number;
}

const PAGE_SIZES = ['25', '50', '100', '200'];

/**
 * The list every page uses: filters, sorting, search, time range and page size in the address;
 * server-side paging with exact totals; a busy state that never shows the old rows under a new
 * filter; live updates that re-read the page shown and merge it (rows, scroll and ticked rows stay;
 * a ticked row that left the list is unticked, so a selection is always visible or cleared); bulk
 * selection up to "all matching the filter"; CSV/JSON export of exactly what is filtered.
 */
export function DataList<T extends { id: string }>(p: DataListProps<T>) {
  useWhere();
  const names = (p.filters ?? []).map((f) => f.name);
  const defaults: Record<string, string> = {
    ...Object.fromEntries(names.map((n) => [n, ''])),
    ...(p.defaults ?? {}),
    sort: p.sorts?.[0]?.[0] ?? '',
    limit: String(p.pageSize ?? 50),
  };
  const [local, setLocal] = useState<Record<string, string>>(defaults);
  const values = p.inAddress === false ? local : readQuery(defaults);
  const change = (c: Record<string, string>) => (p.inAddress === false ? setLocal({ ...values, ...c }) : setQuery(c, defaults));

  const query: Record<string, string> = { ...p.fixed };
  for (const [k, v] of Object.entries(values)) if (v !== '' && k !== 'limit') query[k] = v;
  const limit = PAGE_SIZES.includes(values.limit!) ? values.limit! : '50';
  const key = JSON.stringify([p.tenant, p.area, query, limit]);

  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  const cursor = cursors[cursors.length - 1] ?? null;
  const [page, setPage] = useState<ListPage<T> | null>(null);
  const [busy, setBusy] = useState(true);
  const [failed, setFailed] = useState(false);
  const [ticked, setTicked] = useState<Set<string>>(new Set());
  const [allMatching, setAllMatching] = useState(false);
  const gen = useRef(0);
  const shownKey = useRef('');
  // The newest change this list was told of (its own writes, live changes): every later read waits
  // for it too, so a filter changed right after a write cannot answer from before the write.
  const seen = useRef<string | undefined>(undefined);

  // What the list asks now. A row action's refresh is a closure of an earlier render: it must read
  // the question of this moment, not the one of its render (a filter changed meanwhile).
  const asked = useRef({ query, limit, cursor });
  asked.current = { query, limit, cursor };

  const load = async (o: { waitFor?: string; keep?: boolean } = {}) => {
    const { query, limit, cursor } = asked.current;
    const mine = ++gen.current;
    if (o.waitFor) seen.current = o.waitFor;
    const waitFor = o.waitFor ?? seen.current;
    const ctl = new AbortController();
    if (!o.keep) {
      // A new question: nothing of the previous answer stays on screen as if it answered it.
      setBusy(true);
      setPage(null);
      setFailed(false);
    }
    try {
      const next = await api.get<ListPage<T>>(
        tpath(p.tenant, ...p.area.split('/')),
        { ...query, limit, ...(cursor ? { cursor } : {}), ...(waitFor ? { waitFor } : {}) },
        ctl.signal,
      );
      if (mine !== gen.current) return;
      setPage(next);
      setBusy(false);
      // A ticked row that left the list is unticked: nothing hidden is ever acted on.
      setTicked((t) => {
        const present = new Set(next.items.map((r) => r.id));
        const kept = new Set([...t].filter((id) => present.has(id)));
        return kept.size === t.size ? t : kept;
      });
    } catch (err) {
      if (mine !== gen.current) return;
      setBusy(false);
      if (!o.keep) setFailed(true);
      notifyError(err, () => void load(o));
    }
  };

  // A new question (filters, sort, size): first page, selection cleared.
  useEffect(() => {
    if (shownKey.current !== key) {
      shownKey.current = key;
      setTicked(new Set());
      setAllMatching(false);
      if (cursors.length > 1) {
        setCursors([null]);
        return;
      }
    }
    void load();
  }, [key, cursor]);

  useLive(p.live ?? [], (_changes, token) => {
    // Also while a new question loads: this read replaces it (the newest read wins) and waits for the change.
    void load({ waitFor: token, keep: true });
  });
  const ready = useReadyCallback();
  useEffect(() => {
    if (busy) return;
    // After the render that drew the rows (user timing, read by bench/dashboard.ts).
    performance.mark('stk-list-drawn');
    if (p.inAddress !== false) ready();
  }, [busy]);
  const columns = typeof p.columns === 'function' ? p.columns((token) => void load({ ...(token ? { waitFor: token } : {}), keep: true })) : p.columns;

  const rows = page?.items ?? [];
  const total = page?.total ?? rows.length;
  const exact = page?.totalExact !== false;
  const selection: Selection<T> = useMemo(
    () => ({
      ids: allMatching ? [] : [...ticked],
      rows: rows.filter((r) => ticked.has(r.id)),
      allMatching,
      total,
      query,
      clear: () => {
        setTicked(new Set());
        setAllMatching(false);
      },
      refresh: (token?: string) => load({ ...(token ? { waitFor: token } : {}), keep: true }),
    }),
    [ticked, allMatching, page],
  );
  const selectedCount = allMatching ? total : ticked.size;
  const allOnPage = rows.length > 0 && rows.every((r) => ticked.has(r.id));
  const idp = `${p.area.replace(/\//g, '-')}${p.inAddress === false ? '-embedded' : ''}`;

  const filterControls = (p.filters ?? []).map((f) => {
    const id = `filter-${idp}-${f.name}`;
    if (f.kind === 'search' || f.kind === 'text') {
      return (
        <form
          key={f.name}
          class="field inline search"
          aria-label={f.label}
          onSubmit={(ev) => {
            ev.preventDefault();
            const v = ((ev.currentTarget as HTMLFormElement).elements.namedItem(f.name) as HTMLInputElement).value.trim();
            change({ [f.name]: v });
          }}
        >
          <label for={id}>{f.label}</label>
          <input id={id} key={values[f.name] ?? ''} name={f.name} type="search" maxLength={200} defaultValue={values[f.name] ?? ''} />
          <button type="submit">Go</button>
        </form>
      );
    }
    if (f.kind === 'from' || f.kind === 'to') {
      return (
        <div class="field inline" key={f.name}>
          <label for={id}>{f.label}</label>
          <input
            id={id}
            name={f.name}
            type="datetime-local"
            value={toLocalInput(values[f.name] ?? '')}
            onChange={(ev) => change({ [f.name]: fromLocalInput((ev.currentTarget as HTMLInputElement).value) })}
          />
        </div>
      );
    }
    return (
      <div class="field inline" key={f.name}>
        <label for={id}>{f.label}</label>
        <select id={id} name={f.name} value={values[f.name] ?? ''} onChange={(ev) => change({ [f.name]: (ev.currentTarget as HTMLSelectElement).value })}>
          <option value="">any</option>
          {(f.options ?? []).map((o) => {
            const [v, t] = Array.isArray(o) ? o : [o, o];
            return (
              <option key={v} value={v}>
                {t}
              </option>
            );
          })}
        </select>
      </div>
    );
  });

  return (
    <div class="data-list" data-list={p.area}>
      <fieldset class="filters">
        <legend class="sr">Filters of {p.caption.toLowerCase()}</legend>
        {filterControls}
        {p.sorts && p.sorts.length > 1 ? (
          <div class="field inline">
            <label for={`sort-${idp}`}>Sort by</label>
            <select id={`sort-${idp}`} name="sort" value={values.sort} onChange={(ev) => change({ sort: (ev.currentTarget as HTMLSelectElement).value })}>
              {p.sorts.map(([v, t]) => (
                <option key={v} value={v}>
                  {t}
                </option>
              ))}
            </select>
          </div>
        ) : null}
        <div class="field inline">
          <label for={`limit-${idp}`}>Rows per page</label>
          <select id={`limit-${idp}`} name="limit" value={limit} onChange={(ev) => change({ limit: (ev.currentTarget as HTMLSelectElement).value })}>
            {PAGE_SIZES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
      </fieldset>
      <div class="list-bar">
        <p class="total" aria-live="off">
          {busy
            ? 'Loading…'
            : page?.total === undefined
              ? // Lists without a total (telemetry, newest first): what is shown, and whether more follow.
                `${plural(rows.length, p.noun[0], p.noun[1])} shown${page?.nextCursor ? ', more on the next page' : ''}`
              : `${exact ? '' : 'more than '}${plural(total, p.noun[0], p.noun[1])}`}
        </p>
        {p.exportable !== false ? (
          <p class="export">
            Export:{' '}
            <a href={api.href(tpath(p.tenant, ...p.area.split('/'), 'export'), { ...query, format: 'csv' })} download>
              CSV
            </a>{' '}
            <a href={api.href(tpath(p.tenant, ...p.area.split('/'), 'export'), { ...query, format: 'json' })} download>
              JSON
            </a>
          </p>
        ) : null}
      </div>
      {p.select && selectedCount > 0 ? (
        <fieldset class="bulk">
          <legend class="sr">Selected items</legend>
          <span class="selected" data-selection>
            {count(selectedCount)} selected
          </span>
          {!allMatching && allOnPage && total > rows.length ? (
            <button type="button" class="link" onClick={() => setAllMatching(true)}>
              Select all {count(total)} matching the filter
            </button>
          ) : null}
          {p.bulk?.(selection)}
          <button type="button" class="link" onClick={() => selection.clear()}>
            Clear selection
          </button>
        </fieldset>
      ) : null}
      <ScrollBox label={p.caption} busy={busy}>
        <table data-table={p.area}>
          <caption class="sr">{p.caption}</caption>
          <thead>
            <tr>
              {p.select ? (
                <th scope="col" class="pick">
                  <input
                    type="checkbox"
                    aria-label={`Select every ${p.noun[0]} on this page`}
                    checked={allOnPage}
                    disabled={rows.length === 0}
                    onChange={(ev) => {
                      setAllMatching(false);
                      setTicked((ev.currentTarget as HTMLInputElement).checked ? new Set(rows.map((r) => r.id)) : new Set());
                    }}
                  />
                </th>
              ) : null}
              {columns.map((c) => (
                <th scope="col" key={c.label} class={c.class}>
                  {c.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {busy ? (
              <tr class="placeholder">
                <td colSpan={columns.length + (p.select ? 1 : 0)}>Loading…</td>
              </tr>
            ) : rows.length === 0 ? (
              <tr class="placeholder">
                <td colSpan={columns.length + (p.select ? 1 : 0)} class="empty">
                  {failed ? 'Could not load this list.' : p.empty}
                </td>
              </tr>
            ) : (
              rows.map((r) => (
                <tr key={r.id} data-id={r.id} class={ticked.has(r.id) || allMatching ? 'ticked' : undefined}>
                  {p.select ? (
                    <td class="pick">
                      <input
                        type="checkbox"
                        aria-label={p.select(r)}
                        checked={allMatching || ticked.has(r.id)}
                        disabled={allMatching}
                        onChange={(ev) => {
                          const on = (ev.currentTarget as HTMLInputElement).checked;
                          setTicked((t) => {
                            const n = new Set(t);
                            if (on) n.add(r.id);
                            else n.delete(r.id);
                            return n;
                          });
                        }}
                      />
                    </td>
                  ) : null}
                  {columns.map((c) => (
                    <td key={c.label} class={c.class}>
                      {c.cell(r)}
                    </td>
                  ))}
                </tr>
              ))
            )}
          </tbody>
        </table>
      </ScrollBox>
      <div class="pager">
        <button type="button" disabled={cursors.length <= 1 || busy} onClick={() => setCursors((c) => c.slice(0, -1))}>
          Previous page
        </button>
        <span class="muted">Page {cursors.length}</span>
        <button type="button" disabled={!page?.nextCursor || busy} onClick={() => page?.nextCursor && setCursors((c) => [...c, page.nextCursor])}>
          Next page
        </button>
      </div>
    </div>
  );
}

/**
 * Every id matching a list's filters, a page at a time (for "all matching" actions the API has no
 * change by filter for), up to `max`; `more` says that ids past `max` were left out, so the caller
 * can say exactly what it did.
 */
export async function collectIds(tenant: string, area: string, query: Record<string, string>, max = 10_000): Promise<{ ids: string[]; more: boolean }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page: ListPage<{ id: string }> = await api.get(tpath(tenant, ...area.split('/')), { ...query, limit: 200, ...(cursor ? { cursor } : {}) });
    for (const r of page.items) ids.push(r.id);
    cursor = page.nextCursor;
  } while (cursor && ids.length < max);
  return { ids: ids.slice(0, max), more: cursor !== null || ids.length > max };
}

import { useEffect, useRef, useState } from 'preact/hooks';
import { Ago, Badge, PageHeading, ScrollBox } from '../components/bits.tsx';
import { api } from '../lib/api.ts';
import { count, fmtTime, plural } from '../lib/format.ts';
import { LIVE_MAX_TENANTS, useLive, useLiveState, useWatchTenants } from '../lib/live.ts';
import { notifyError } from '../lib/notices.tsx';
import { type PageProps, useReady } from '../lib/page.ts';
import { readQuery, setQuery, tenantHref, useWhere } from '../lib/router.ts';

/** One customer's line of `GET /overview`. */
export interface CustomerLine {
  tenant: string;
  name: string;
  suspended: boolean;
  products: string[];
  agents: { online: number; offline: number; revoked: number };
  alerts: {
    open: Record<string, number>;
    unacknowledged: number;
    oldestUnacknowledged: { id: string; severity: string; title: string; raisedAt: string } | null;
  };
  /** Hosts with a patch inventory, those compliant, those needing a reboot (`GET /overview`). */
  patch?: { hosts: number; compliant: number; needingReboot: number; withOverdueUpdates: number };
  certificates: { agentsExpiringSoon: number; earliestNotAfter: string | null };
  sealing: { height: number; sealedAt: string | null; upToDate: boolean };
  link: string;
}

const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
const SORTS: Array<[string, string]> = [
  ['name', 'Name'],
  ['critical', 'Most critical alerts'],
  ['unacknowledged', 'Most unacknowledged alerts'],
  ['oldest', 'Oldest unacknowledged alert'],
  ['offline', 'Most agents offline'],
  ['tenant', 'Customer id'],
];
const DEFAULTS = { sort: 'name', q: '' };
/** Without a live stream (more customers than one stream follows), the page reads again this often. */
const REFRESH_MS = 30_000;

/** Which column a sort orders by. */
const SORT_OF_COLUMN: Record<string, string> = {
  Customer: 'name',
  Agents: 'offline',
  'Open alerts': 'critical',
  Unacknowledged: 'unacknowledged',
  Oldest: 'oldest',
};

/**
 * The all-customers overview (the home page of MSP roles): every customer the session may see, one
 * line each, read through each customer's own store by the API. Sort and search live in the address.
 * Live: the customers' changes arrive on the browser's one stream (up to 16 customers; beyond that
 * the page reads again every 30 s).
 */
export function MspOverviewPage(_p: PageProps) {
  useWhere();
  const values = readQuery(DEFAULTS);
  const [lines, setLines] = useState<CustomerLine[] | null>(null);
  const [busy, setBusy] = useState(true);
  const gen = useRef(0);
  const load = async (keep = false) => {
    const mine = ++gen.current;
    if (!keep) setBusy(true);
    try {
      const out = await api.get<{ items: CustomerLine[] }>('/overview', { sort: values.sort, q: values.q });
      if (mine !== gen.current) return;
      setLines(out.items);
    } catch (err) {
      if (mine === gen.current) notifyError(err, () => void load(keep));
    } finally {
      if (mine === gen.current) setBusy(false);
    }
  };
  useEffect(() => {
    void load();
  }, [values.sort, values.q]);
  const ids = (lines ?? []).map((l) => l.tenant);
  useWatchTenants(ids);
  useLive(['alert', 'agent', 'finding', 'tenant'], () => void load(true));
  const followsAll = ids.length <= LIVE_MAX_TENANTS;
  useEffect(() => {
    if (followsAll) return;
    const t = setInterval(() => void load(true), REFRESH_MS);
    return () => clearInterval(t);
  }, [followsAll, values.sort, values.q]);
  const live = useLiveState();
  useReady(lines !== null && !busy);
  const totals = (lines ?? []).reduce(
    (t, l) => ({ offline: t.offline + l.agents.offline, critical: t.critical + (l.alerts.open.critical ?? 0), unacked: t.unacked + l.alerts.unacknowledged }),
    { offline: 0, critical: 0, unacked: 0 },
  );
  const sortBy = (sort: string) => setQuery({ sort }, DEFAULTS);
  return (
    <>
      <PageHeading>All customers</PageHeading>
      <div class="list-bar">
        <p class="total">
          {lines === null
            ? 'Loading…'
            : `${plural(lines.length, 'customer')} · ${plural(totals.critical, 'critical alert')} open · ${plural(totals.unacked, 'alert')} unacknowledged · ${plural(totals.offline, 'agent')} offline`}
        </p>
        <p class="muted small" role="status">
          {followsAll ? (live === 'on' ? 'Live' : '') : 'Read again every 30 s (too many customers to follow live)'}
        </p>
      </div>
      <fieldset class="filters">
        <legend class="sr">Search and order of the customers</legend>
        <form
          class="field inline search"
          aria-label="Search customers"
          onSubmit={(ev) => {
            ev.preventDefault();
            setQuery({ q: ((ev.currentTarget as HTMLFormElement).elements.namedItem('q') as HTMLInputElement).value.trim() }, DEFAULTS);
          }}
        >
          <label for="msp-q">Search</label>
          <input id="msp-q" key={values.q} name="q" type="search" maxLength={100} defaultValue={values.q} />
          <button type="submit">Go</button>
        </form>
        <div class="field inline">
          <label for="msp-sort">Sort by</label>
          <select id="msp-sort" name="sort" value={values.sort} onChange={(ev) => sortBy((ev.currentTarget as HTMLSelectElement).value)}>
            {SORTS.map(([v, t]) => (
              <option key={v} value={v}>
                {t}
              </option>
            ))}
          </select>
        </div>
      </fieldset>
      <ScrollBox label="Customers at a glance" busy={busy}>
        <table data-table="msp-overview">
          <caption class="sr">Every customer you can see</caption>
          <thead>
            <tr>
              {['Customer', 'Agents', 'Open alerts', 'Unacknowledged', 'Oldest', 'Patches', 'Certificates', 'Sealing'].map((h) => {
                const sort = SORT_OF_COLUMN[h];
                const on = sort !== undefined && values.sort === sort;
                return (
                  <th scope="col" key={h} aria-sort={on ? (sort === 'name' || sort === 'oldest' ? 'ascending' : 'descending') : undefined}>
                    {sort ? (
                      <button type="button" class="link th-sort" onClick={() => sortBy(sort)}>
                        {h === 'Oldest' ? 'Oldest unacknowledged' : h}
                      </button>
                    ) : (
                      h
                    )}
                  </th>
                );
              })}
            </tr>
          </thead>
          <tbody>
            {lines === null || busy ? (
              <tr class="placeholder">
                <td colSpan={8}>Loading…</td>
              </tr>
            ) : lines.length === 0 ? (
              <tr class="placeholder">
                <td colSpan={8} class="empty">
                  {values.q ? 'No customer matches the search.' : 'No customers to show.'}
                </td>
              </tr>
            ) : (
              lines.map((l) => (
                <tr key={l.tenant} data-id={l.tenant}>
                  <td class="customer">
                    <a href={tenantHref(l.tenant, 'overview')}>{l.name}</a> <span class="muted">({l.tenant})</span>
                    {l.suspended ? (
                      <>
                        {' '}
                        <Badge value="suspended" />
                      </>
                    ) : null}
                  </td>
                  <td data-cell="agents">
                    <a href={tenantHref(l.tenant, 'agents')} title={`${l.agents.online} online, ${l.agents.offline} offline, ${l.agents.revoked} revoked`}>
                      {count(l.agents.online)} online
                    </a>
                    {l.agents.offline ? (
                      <>
                        {' · '}
                        <span class="warn">{count(l.agents.offline)} offline</span>
                      </>
                    ) : null}
                  </td>
                  <td data-cell="alerts">
                    {SEVERITIES.every((x) => !l.alerts.open[x]) ? (
                      <span class="muted">none</span>
                    ) : (
                      <a class="sev-counts" href={tenantHref(l.tenant, 'alerts')}>
                        {SEVERITIES.map((s) => (
                          <span key={s} class={`sev s-${s}${l.alerts.open[s] ? '' : ' zero'}`} title={`${l.alerts.open[s] ?? 0} ${s}`}>
                            <span class="sr">{s} </span>
                            {count(l.alerts.open[s] ?? 0)}
                          </span>
                        ))}
                      </a>
                    )}
                  </td>
                  <td data-cell="unacknowledged">{count(l.alerts.unacknowledged)}</td>
                  <td data-cell="oldest">
                    {l.alerts.oldestUnacknowledged ? (
                      <a href={tenantHref(l.tenant, 'alerts', l.alerts.oldestUnacknowledged.id)} title={l.alerts.oldestUnacknowledged.title}>
                        <Ago at={l.alerts.oldestUnacknowledged.raisedAt} />
                      </a>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td data-cell="patches">{l.patch ? <PatchCell tenant={l.tenant} patch={l.patch} /> : '—'}</td>
                  <td data-cell="certificates">
                    {l.certificates.agentsExpiringSoon ? (
                      <span class="warn" title={`earliest ${fmtTime(l.certificates.earliestNotAfter)}`}>
                        {plural(l.certificates.agentsExpiringSoon, 'expiring')}
                      </span>
                    ) : l.certificates.earliestNotAfter ? (
                      <span title={`earliest ${fmtTime(l.certificates.earliestNotAfter)}`}>ok</span>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td data-cell="sealing">
                    <a href={tenantHref(l.tenant, 'ledger')} title={l.sealing.sealedAt ? `last sealed ${fmtTime(l.sealing.sealedAt)}` : 'nothing sealed yet'}>
                      {l.sealing.upToDate ? 'sealed' : 'sealing…'}
                    </a>{' '}
                    <span class="muted">h {count(l.sealing.height)}</span>
                  </td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </ScrollBox>
    </>
  );
}

/** Patch compliance of one customer: compliant hosts of the hosts with an inventory, and how many wait for a reboot. */
function PatchCell({ tenant, patch }: { tenant: string; patch: NonNullable<CustomerLine['patch']> }) {
  if (patch.hosts === 0) return <span class="muted">no inventory yet</span>;
  const pct = Math.floor((patch.compliant / patch.hosts) * 100);
  return (
    <span
      title={`${patch.compliant} of ${patch.hosts} hosts compliant, ${patch.withOverdueUpdates} with overdue updates, ${patch.needingReboot} needing a reboot`}
    >
      <a href={tenantHref(tenant, 'findings', undefined, { product: 'patch', state: 'open' })} class={patch.compliant < patch.hosts ? 'warn' : undefined}>
        {`${count(patch.compliant)}/${count(patch.hosts)} compliant (${pct}%)`}
      </a>
      {patch.needingReboot ? (
        <>
          {' · '}
          <span class="warn">{`${count(patch.needingReboot)} need${patch.needingReboot === 1 ? 's' : ''} a reboot`}</span>
        </>
      ) : null}
    </span>
  );
}

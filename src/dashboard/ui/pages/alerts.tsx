import { useEffect, useState } from 'preact/hooks';
import { Ago, Badge, Facts, Host, Id, PageHeading, ScrollPre, Section, Who } from '../components/bits.tsx';
import { DataList, type Selection } from '../components/data-list.tsx';
import { ask, type LookupResult } from '../components/dialog.tsx';
import { useAction } from '../lib/act.ts';
import { api, type ListPage, tpath } from '../lib/api.ts';
import { count, fmtTime, plural } from '../lib/format.ts';
import { useLive } from '../lib/live.ts';
import { notify } from '../lib/notices.tsx';
import { type PageProps, useReady } from '../lib/page.ts';
import { navigate, tenantHref } from '../lib/router.ts';
import { AlertDetection, type Detection } from './alert-detection.tsx';

export const SEVERITIES = ['low', 'medium', 'high', 'critical'];

export interface Alert {
  id: string;
  agentId: string;
  hostname: string | null;
  product: string;
  rule: string;
  severity: string;
  title: string;
  details: Record<string, unknown>;
  status: 'open' | 'acknowledged' | 'resolved';
  observedAt: string;
  raisedAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  acknowledgedByName?: string | null;
  acknowledgedByEmail?: string;
  resolvedAt: string | null;
  resolvedBy: string | null;
  resolvedByName?: string | null;
  resolvedByEmail?: string;
  resolution: string | null;
  incidentId: string | null;
  /** Occurrences of a detector alert's group (1 for an alert an agent reported). */
  count?: number;
}

interface BulkResult {
  results: Array<{ id: string; outcome: 'changed' | 'unchanged' | 'refused'; code?: string }>;
  consistencyToken: string;
}

/** Runs a bulk change over ids in batches of 100 (one API call per batch); the last token. */
export async function inBatches(ids: string[], call: (batch: string[]) => Promise<{ consistencyToken: string; results?: BulkResult['results'] }>) {
  let token = '';
  let changed = 0;
  let refused = 0;
  for (let i = 0; i < ids.length; i += 100) {
    const out = await call(ids.slice(i, i + 100));
    token = out.consistencyToken;
    for (const r of out.results ?? []) {
      if (r.outcome === 'changed') changed++;
      else if (r.outcome === 'refused') refused++;
    }
  }
  return { token, changed, refused };
}

/** What the list selects, as a bulk change's `filter` (the list's query without its order). */
export function filterOf<T extends { id: string }>(s: Selection<T>): Record<string, string> {
  const { sort: _sort, ...filter } = s.query;
  return filter;
}

/** What a change by filter answers. */
export interface BulkCount {
  matched: number;
  changed: number;
  unchanged: number;
  refused: number;
  consistencyToken: string;
}

/** The sentence after a bulk change: what changed, and of how many, so nothing done goes unsaid. */
export function bulkSentence(r: { matched: number; changed: number; unchanged: number; refused: number }, noun: string, done: string): string {
  const rest = r.matched - r.changed;
  return `${plural(r.changed, noun)} ${done}${rest ? ` of ${r.matched} matching (${r.unchanged ? `${r.unchanged} already so` : ''}${r.unchanged && r.refused ? ', ' : ''}${r.refused ? `${r.refused} not possible in their state` : ''})` : ''}`;
}

/** Acknowledge / Resolve buttons of one alert. */
function AlertActions({ tenant, alert, after }: { tenant: string; alert: Alert; after: (token: string) => void }) {
  const ack = useAction(
    async () => {
      const out = await api.post<{ consistencyToken: string }>(tpath(tenant, 'alerts', alert.id, 'ack'));
      after(out.consistencyToken);
    },
    { done: 'Alert acknowledged' },
  );
  const resolve = useAction(async () => {
    const v = await ask(`Resolve "${alert.title}"`, [{ name: 'reason', label: 'Resolution', required: true, maxLength: 1000 }], { confirm: 'Resolve' });
    if (!v) return;
    const out = await api.post<{ consistencyToken: string }>(tpath(tenant, 'alerts', alert.id, 'resolve'), { reason: v.reason });
    notify('Alert resolved');
    after(out.consistencyToken);
  });
  return (
    <div class="row-actions">
      {alert.status === 'open' ? (
        <button type="button" disabled={ack.busy} onClick={() => void ack.run()}>
          Acknowledge
        </button>
      ) : null}
      {alert.status !== 'resolved' ? (
        <button type="button" disabled={resolve.busy} onClick={() => void resolve.run()}>
          Resolve
        </button>
      ) : null}
    </div>
  );
}

/** The bulk actions on alerts: acknowledge, resolve, open an incident, add to an incident. */
function AlertBulk({ tenant, s }: { tenant: string; s: Selection<Alert> }) {
  return (
    <>
      <StateButtons tenant={tenant} s={s} />
      <IncidentButtons tenant={tenant} s={s} label="from selected" />
    </>
  );
}

function StateButtons({ tenant, s }: { tenant: string; s: Selection<Alert> }) {
  const bulk = useAction(async (action: 'acknowledge' | 'resolve') => {
    let reason = '';
    if (action === 'resolve') {
      const v = await ask(
        `Resolve ${s.allMatching ? `all ${s.total}` : s.ids.length} alert(s)`,
        [{ name: 'reason', label: 'Resolution', required: true, maxLength: 1000 }],
        {
          confirm: 'Resolve',
        },
      );
      if (!v) return;
      reason = String(v.reason);
    }
    if (s.allMatching) {
      // Every alert the list's filter selects, changed by the server: no id leaves the browser.
      const r = await api.post<BulkCount>(tpath(tenant, 'alerts', 'bulk'), { action, filter: filterOf(s), ...(action === 'resolve' ? { reason } : {}) });
      notify(bulkSentence(r, 'alert', action === 'resolve' ? 'resolved' : 'acknowledged'));
      s.clear();
      await s.refresh(r.consistencyToken);
      return;
    }
    const r = await inBatches(s.ids, (batch) =>
      api.post<BulkResult>(tpath(tenant, 'alerts', 'bulk'), { action, alertIds: batch, ...(action === 'resolve' ? { reason } : {}) }),
    );
    notify(`${plural(r.changed, 'alert')} ${action === 'resolve' ? 'resolved' : 'acknowledged'}${r.refused ? `, ${r.refused} unchanged` : ''}`);
    s.clear();
    await s.refresh(r.token);
  });
  return (
    <>
      <button type="button" disabled={bulk.busy} onClick={() => void bulk.run('acknowledge')}>
        Acknowledge selected
      </button>
      <button type="button" disabled={bulk.busy} onClick={() => void bulk.run('resolve')}>
        Resolve selected
      </button>
    </>
  );
}

/** Open an incident from alerts, or add them to an open one. */
function IncidentButtons({ tenant, s, label }: { tenant: string; s: Selection<Alert>; label: string }) {
  const incident = useAction(async (mode: 'new' | 'existing') => {
    const what = s.allMatching ? `all ${count(s.total)} matching alerts` : plural(s.ids.length, 'alert');
    // Alerts given to an incident: ids in batches of 100, or the list's filter, linked by the server.
    const link = async (id: string): Promise<{ token: string; linked: number }> => {
      if (s.allMatching) {
        const r = await api.post<{ matched: number; consistencyToken: string }>(tpath(tenant, 'incidents', id, 'alerts'), { filter: filterOf(s) });
        return { token: r.consistencyToken, linked: r.matched };
      }
      const r = await inBatches(s.ids, (batch) => api.post<{ consistencyToken: string }>(tpath(tenant, 'incidents', id, 'alerts'), { alertIds: batch }));
      return { token: r.token, linked: s.ids.length };
    };
    if (mode === 'new') {
      const v = await ask(
        `Open an incident from ${what}`,
        [
          { name: 'title', label: 'Title', required: true, maxLength: 300 },
          { name: 'severity', label: 'Severity', kind: 'select', options: SEVERITIES.map((x) => [x, x]), value: 'high' },
        ],
        { confirm: 'Open incident' },
      );
      if (!v) return;
      const out = await api.post<{ id: string }>(tpath(tenant, 'incidents'), {
        title: v.title,
        severity: v.severity,
        alertIds: s.allMatching ? [] : s.ids.slice(0, 100),
      });
      const r = s.allMatching || s.ids.length > 100 ? await link(out.id) : { linked: s.ids.length };
      notify(`Incident opened with ${plural(r.linked, 'alert')}`);
      navigate(tenantHref(tenant, 'incidents', out.id));
      return;
    }
    const v = await ask(
      `Add ${what} to an incident`,
      [{ name: 'incident', label: 'Incident', kind: 'lookup', required: true, lookup: (q) => findIncidents(tenant, q) }],
      {
        confirm: 'Add to incident',
      },
    );
    if (!v) return;
    const r = await link(String(v.incident));
    notify(`${plural(r.linked, 'alert')} added to the incident`);
    s.clear();
    await s.refresh(r.token);
  });
  return (
    <>
      <button type="button" disabled={incident.busy} onClick={() => void incident.run('new')}>
        Open incident {label}
      </button>
      <button type="button" disabled={incident.busy} onClick={() => void incident.run('existing')}>
        Add to incident
      </button>
    </>
  );
}

/** Incidents not closed whose title or assignee holds `q` (every incident of the customer, searched by the server), newest change first. */
async function findIncidents(tenant: string, q: string): Promise<LookupResult> {
  const page = await api.get<ListPage<{ id: string; title: string; status: string; severity: string }>>(tpath(tenant, 'incidents'), {
    sort: 'updatedAt',
    limit: 50,
    ...(q ? { q } : {}),
  });
  const open = page.items.filter((i) => i.status !== 'closed');
  return {
    options: open.map((i) => [i.id, `${i.title} (${i.severity}, ${i.status})`]),
    more: page.nextCursor !== null,
    total: page.totalExact === false || page.total === undefined ? null : page.total,
  };
}

/** Columns of alert lists (the alerts page, an agent's alerts, related alerts). */
export function alertColumns(p: { tenant: string; canWrite: boolean; host?: boolean }) {
  return (refresh: (token?: string) => void) => [
    { label: 'Severity', cell: (a: Alert) => <Badge value={a.severity} /> },
    {
      label: 'Alert',
      cell: (a: Alert) => (
        <span>
          <a href={tenantHref(p.tenant, 'alerts', a.id)}>{a.title}</a>
          {(a.count ?? 1) > 1 ? (
            <>
              {' '}
              <span class="badge count" title={`${a.count} occurrences`}>{`×${a.count}`}</span>
            </>
          ) : null}{' '}
          <span class="muted small">{a.rule}</span>
        </span>
      ),
    },
    ...(p.host === false ? [] : [{ label: 'Host', cell: (a: Alert) => <Host tenant={p.tenant} agentId={a.agentId} hostname={a.hostname} /> }]),
    { label: 'Status', cell: (a: Alert) => <Badge value={a.status} /> },
    { label: 'Raised', cell: (a: Alert) => <Ago at={a.raisedAt} /> },
    {
      label: 'Incident',
      cell: (a: Alert) => (a.incidentId ? <a href={tenantHref(p.tenant, 'incidents', a.incidentId)}>open incident</a> : '—'),
    },
    ...(p.canWrite ? [{ label: 'Actions', cell: (a: Alert) => <AlertActions tenant={p.tenant} alert={a} after={refresh} /> }] : []),
  ];
}

const ALERT_SORTS: Array<[string, string]> = [
  ['raisedAt', 'Newest first'],
  ['raisedAt:asc', 'Oldest first'],
  ['severity', 'Most severe first'],
  ['status', 'Status'],
  ['rule', 'Rule'],
];

export function AlertsPage(p: PageProps) {
  if (p.id) return <AlertDetail {...p} id={p.id} />;
  return (
    <>
      <PageHeading>Alerts</PageHeading>
      <DataList<Alert>
        tenant={p.tenant}
        area="alerts"
        caption="Alerts"
        noun={['alert', 'alerts']}
        defaults={{ status: 'open' }}
        filters={[
          { name: 'status', label: 'Status', options: ['open', 'acknowledged', 'resolved'] },
          { name: 'severity', label: 'Severity', options: SEVERITIES },
          { name: 'product', label: 'Product', options: ['core', ...p.session.products] },
          { name: 'q', label: 'Search', kind: 'search' },
          { name: 'from', label: 'Raised from', kind: 'from' },
          { name: 'to', label: 'until', kind: 'to' },
        ]}
        sorts={ALERT_SORTS}
        live={['alert', 'incident']}
        columns={alertColumns({ tenant: p.tenant, canWrite: p.canWrite })}
        {...(p.canWrite ? { select: (a: Alert) => `Select alert ${a.title}`, bulk: (s: Selection<Alert>) => <AlertBulk tenant={p.tenant} s={s} /> } : {})}
        empty="No alerts match."
      />
    </>
  );
}

function AlertDetail(p: PageProps & { id: string }) {
  const [a, setA] = useState<Alert | null>(null);
  const [missing, setMissing] = useState(false);
  const load = async (waitFor?: string) => {
    try {
      setA(await api.get<Alert>(tpath(p.tenant, 'alerts', p.id), waitFor ? { waitFor } : {}));
    } catch {
      setMissing(true);
    }
  };
  useEffect(() => {
    void load();
  }, [p.id]);
  useLive(['alert', 'incident'], (changes, token) => {
    if (changes.some((c) => c.id === p.id || c.kind === 'incident' || c.type === 'resync')) void load(token);
  });
  useReady(a !== null || missing);
  if (missing) return <PageHeading>Alert not found</PageHeading>;
  if (!a) return <p class="muted">Loading…</p>;
  return (
    <>
      <p>
        <a href={tenantHref(p.tenant, 'alerts')}>← Alerts</a>
      </p>
      <PageHeading>
        {a.title} <Badge value={a.severity} /> <Badge value={a.status} />
      </PageHeading>
      {p.canWrite ? (
        <div class="toolbar">
          <AlertActions tenant={p.tenant} alert={a} after={(t) => void load(t)} />
          <AlertIncidentButtons tenant={p.tenant} alert={a} />
          <a class="button" href={`${tenantHref(p.tenant, 'agents', a.agentId)}#respond`}>
            Respond on {a.hostname ?? 'the host'}
          </a>
        </div>
      ) : null}
      <Section title="What was reported">
        <Facts
          items={[
            ['Host', <Host key="h" tenant={p.tenant} agentId={a.agentId} hostname={a.hostname} />],
            ['Agent id', <code key="i">{a.agentId}</code>],
            ['Rule', <code key="r">{a.rule}</code>],
            ['Product', a.product],
            ['Observed on the host', fmtTime(a.observedAt)],
            ['Received by Stockade', fmtTime(a.raisedAt)],
            ['Alert id', <Id key="a" id={a.id} n={40} />],
          ]}
        />
        {Object.keys(a.details).length ? (
          <>
            <h3>Details</h3>
            <Facts
              items={Object.entries(a.details).map(([k, v]) => [
                k,
                typeof v === 'string' ? (
                  v
                ) : (
                  <ScrollPre label={`Detail ${k}`} kind="json">
                    {JSON.stringify(v, null, 2)}
                  </ScrollPre>
                ),
              ])}
            />
          </>
        ) : (
          <p class="muted">The agent sent no further details.</p>
        )}
      </Section>
      <AlertDetection page={p} alert={a as Alert & Detection} />
      <Section title="Handling">
        <Facts
          items={[
            [
              'Acknowledged',
              a.acknowledgedAt ? (
                <>
                  {`${fmtTime(a.acknowledgedAt)} by `}
                  <Who raw={a.acknowledgedBy} name={a.acknowledgedByName} email={a.acknowledgedByEmail} />
                </>
              ) : (
                'not yet'
              ),
            ],
            [
              'Resolved',
              a.resolvedAt ? (
                <>
                  {`${fmtTime(a.resolvedAt)} by `}
                  <Who raw={a.resolvedBy} name={a.resolvedByName} email={a.resolvedByEmail} />
                </>
              ) : (
                'not yet'
              ),
            ],
            a.resolution ? ['Why', a.resolution] : null,
            ['Incident', a.incidentId ? <a href={tenantHref(p.tenant, 'incidents', a.incidentId)}>the incident</a> : 'none'],
          ]}
        />
      </Section>
      <Section title={`Other alerts on ${a.hostname ?? 'this host'}`}>
        <DataList<Alert>
          tenant={p.tenant}
          area="alerts"
          caption={`Alerts on ${a.hostname ?? a.agentId}`}
          noun={['alert', 'alerts']}
          fixed={{ agentId: a.agentId }}
          inAddress={false}
          pageSize={25}
          exportable={false}
          live={['alert']}
          columns={alertColumns({ tenant: p.tenant, canWrite: false, host: false })}
          empty="No other alerts on this host."
        />
      </Section>
    </>
  );
}

function AlertIncidentButtons({ tenant, alert }: { tenant: string; alert: Alert }) {
  if (alert.incidentId) return null;
  const s: Selection<Alert> = { ids: [alert.id], rows: [alert], allMatching: false, total: 1, query: {}, clear: () => {}, refresh: async () => {} };
  return <IncidentButtons tenant={tenant} s={s} label="from this alert" />;
}

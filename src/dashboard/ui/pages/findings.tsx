import { Badge, Host, PageHeading, whoText } from '../components/bits.tsx';
import { DataList, type Selection } from '../components/data-list.tsx';
import { ask } from '../components/dialog.tsx';
import { useAction } from '../lib/act.ts';
import { api, tpath } from '../lib/api.ts';
import { fmtTime, plural } from '../lib/format.ts';
import { notify } from '../lib/notices.tsx';
import type { PageProps } from '../lib/page.ts';
import { type BulkCount, bulkSentence, filterOf, inBatches, SEVERITIES } from './alerts.tsx';

export interface Finding {
  id: string;
  agentId: string;
  hostname?: string | null;
  product: string;
  title: string;
  severity: string;
  subject: string;
  state: string;
  reportedAt: string;
  history: Array<{ at: string; by: string; byName?: string | null; state: string; reason: string }>;
}

const STATES = ['accepted-risk', 'remediated', 'false-positive'];

async function askState(title: string, current: string) {
  return ask(
    title,
    [
      { name: 'state', label: 'New state', kind: 'select', options: STATES.map((s) => [s, s]), value: current === 'open' ? 'remediated' : current },
      { name: 'reason', label: 'Reason', required: true, maxLength: 1000 },
    ],
    { confirm: 'Change state' },
  );
}

function ChangeState({ tenant, f, after }: { tenant: string; f: Finding; after: (token?: string) => void }) {
  const change = useAction(async () => {
    const v = await askState(`Change the state of "${f.title}"`, f.state);
    if (!v) return;
    const out = await api.patch<{ consistencyToken: string }>(tpath(tenant, 'findings', f.id), { state: v.state, reason: v.reason });
    notify('Finding updated');
    after(out.consistencyToken);
  });
  return (
    <button type="button" disabled={change.busy} onClick={() => void change.run()}>
      Change state
    </button>
  );
}

function FindingBulk({ tenant, s }: { tenant: string; s: Selection<Finding> }) {
  const change = useAction(async () => {
    const v = await askState(`Change the state of ${s.allMatching ? `all ${s.total}` : s.ids.length} finding(s)`, 'open');
    if (!v) return;
    if (s.allMatching) {
      // Every finding the list's filter selects, changed by the server.
      const r = await api.post<BulkCount>(tpath(tenant, 'findings', 'bulk'), { filter: filterOf(s), state: v.state, reason: v.reason });
      notify(bulkSentence(r, 'finding', 'changed'));
      s.clear();
      await s.refresh(r.consistencyToken);
      return;
    }
    const r = await inBatches(s.ids, (batch) => api.post(tpath(tenant, 'findings', 'bulk'), { findingIds: batch, state: v.state, reason: v.reason }));
    notify(`${plural(r.changed, 'finding')} changed`);
    s.clear();
    await s.refresh(r.token);
  });
  return (
    <button type="button" disabled={change.busy} onClick={() => void change.run()}>
      Change state of selected
    </button>
  );
}

/** Columns of finding lists. */
export function findingColumns(p: { tenant: string; canWrite: boolean; host?: boolean }) {
  return (refresh: (token?: string) => void) => [
    { label: 'Severity', cell: (f: Finding) => <Badge value={f.severity} /> },
    {
      label: 'Finding',
      cell: (f: Finding) => (
        <span>
          {f.title} <span class="muted small">{f.subject}</span>
        </span>
      ),
    },
    ...(p.host === false ? [] : [{ label: 'Host', cell: (f: Finding) => <Host tenant={p.tenant} agentId={f.agentId} hostname={f.hostname} /> }]),
    { label: 'Product', cell: (f: Finding) => f.product },
    { label: 'State', cell: (f: Finding) => <Badge value={f.state} /> },
    {
      label: 'Last change',
      cell: (f: Finding) => {
        const last = f.history[f.history.length - 1];
        return last ? `${last.state}: ${last.reason} (${whoText(last.by, last.byName)})` : fmtTime(f.reportedAt);
      },
    },
    ...(p.canWrite ? [{ label: 'Actions', cell: (f: Finding) => <ChangeState tenant={p.tenant} f={f} after={refresh} /> }] : []),
  ];
}

export function FindingsPage(p: PageProps) {
  return (
    <>
      <PageHeading>Findings</PageHeading>
      <DataList<Finding>
        tenant={p.tenant}
        area="findings"
        caption="Findings"
        noun={['finding', 'findings']}
        defaults={{ state: 'open' }}
        filters={[
          { name: 'state', label: 'State', options: ['open', ...STATES] },
          { name: 'severity', label: 'Severity', options: SEVERITIES },
          { name: 'product', label: 'Product', options: p.tenantDoc!.products.filter((x) => x !== 'edr') },
          { name: 'q', label: 'Search', kind: 'search' },
        ]}
        sorts={[
          ['reportedAt', 'Newest first'],
          ['reportedAt:asc', 'Oldest first'],
          ['severity', 'Most severe first'],
        ]}
        live={['finding']}
        columns={findingColumns({ tenant: p.tenant, canWrite: p.canWrite })}
        {...(p.canWrite
          ? { select: (f: Finding) => `Select finding ${f.title}`, bulk: (s: Selection<Finding>) => <FindingBulk tenant={p.tenant} s={s} /> }
          : {})}
        empty="No findings match."
      />
    </>
  );
}

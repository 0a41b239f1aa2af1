import { useEffect, useState } from 'preact/hooks';
import { Ago, ScrollBox, Badge, Host, PageHeading, Section, Who } from '../components/bits.tsx';
import { DataList } from '../components/data-list.tsx';
import { ask } from '../components/dialog.tsx';
import { useAction } from '../lib/act.ts';
import { api, tpath } from '../lib/api.ts';
import { fmtTime } from '../lib/format.ts';
import { useLive } from '../lib/live.ts';
import { notify } from '../lib/notices.tsx';
import { type PageProps, useReady } from '../lib/page.ts';
import { navigate, tenantHref } from '../lib/router.ts';
import { type Alert, SEVERITIES } from './alerts.tsx';

const STATUSES = ['open', 'investigating', 'contained', 'resolved'];

interface Incident {
  id: string;
  title: string;
  severity: string;
  status: string;
  assignee: string | null;
  alertIds: string[];
  alerts?: Alert[];
  openedAt: string;
  openedBy: string;
  openedByName?: string | null;
  openedByEmail?: string;
  closedAt: string | null;
  closeReason: string | null;
  comments?: Array<{ at: string; by: string; byName?: string | null; byEmail?: string; text: string }>;
  timeline: Array<{ at: string; by: string; byName?: string | null; byEmail?: string; change: string }>;
}

export function IncidentsPage(p: PageProps) {
  if (p.id) return <IncidentDetail {...p} id={p.id} />;
  const open = useAction(
    async (form: HTMLFormElement) => {
      const f = new FormData(form);
      const out = await api.post<{ id: string }>(tpath(p.tenant, 'incidents'), { title: String(f.get('title')).trim(), severity: f.get('severity') });
      form.reset();
      navigate(tenantHref(p.tenant, 'incidents', out.id));
    },
    { done: 'Incident opened' },
  );
  return (
    <>
      <PageHeading>Incidents</PageHeading>
      {p.canWrite ? (
        <section class="card" aria-label="New incident">
          <form
            class="inline-form"
            aria-label="Open an incident"
            onSubmit={(ev) => {
              ev.preventDefault();
              const form = ev.currentTarget as HTMLFormElement;
              if (form.reportValidity()) void open.run(form);
            }}
          >
            <div class="field grow">
              <label for="inc-title">Title</label>
              <input id="inc-title" name="title" required maxLength={300} autoComplete="off" />
            </div>
            <div class="field">
              <label for="inc-sev">Severity</label>
              <select id="inc-sev" name="severity">
                {SEVERITIES.map((s) => (
                  <option key={s} value={s} selected={s === 'medium'}>
                    {s}
                  </option>
                ))}
              </select>
            </div>
            <button type="submit" class="primary" disabled={open.busy}>
              Open incident
            </button>
          </form>
        </section>
      ) : null}
      <DataList<Incident>
        tenant={p.tenant}
        area="incidents"
        caption="Incidents"
        noun={['incident', 'incidents']}
        filters={[
          { name: 'status', label: 'Status', options: [...STATUSES, 'closed'] },
          { name: 'severity', label: 'Severity', options: SEVERITIES },
          { name: 'q', label: 'Search', kind: 'search' },
        ]}
        sorts={[
          ['openedAt', 'Newest first'],
          ['openedAt:asc', 'Oldest first'],
          ['severity', 'Most severe first'],
          ['updatedAt', 'Recently changed'],
        ]}
        live={['incident']}
        columns={[
          { label: 'Severity', cell: (i) => <Badge value={i.severity} /> },
          { label: 'Incident', cell: (i) => <a href={tenantHref(p.tenant, 'incidents', i.id)}>{i.title}</a> },
          { label: 'Status', cell: (i) => <Badge value={i.status} /> },
          { label: 'Assignee', cell: (i) => i.assignee ?? '—' },
          { label: 'Alerts', cell: (i) => String(i.alertIds.length) },
          { label: 'Opened', cell: (i) => <Ago at={i.openedAt} /> },
        ]}
        empty="No incidents."
      />
    </>
  );
}

function IncidentDetail(p: PageProps & { id: string }) {
  const [i, setI] = useState<Incident | null>(null);
  const [missing, setMissing] = useState(false);
  const [formKey, setFormKey] = useState(0);
  const load = async (waitFor?: string, resetForm = false) => {
    try {
      setI(await api.get<Incident>(tpath(p.tenant, 'incidents', p.id), waitFor ? { waitFor } : {}));
      if (resetForm) setFormKey((k) => k + 1);
    } catch {
      setMissing(true);
    }
  };
  useEffect(() => {
    void load();
  }, [p.id]);
  useLive(['incident', 'alert'], (c, token) => {
    if (c.some((x) => x.id === p.id || x.kind === 'alert' || x.type === 'resync')) void load(token);
  });
  const save = useAction(async (form: HTMLFormElement) => {
    if (!i) return;
    const f = new FormData(form);
    const body: Record<string, unknown> = {};
    const title = String(f.get('title')).trim();
    const assignee = String(f.get('assignee')).trim();
    if (title && title !== i.title) body.title = title;
    if (f.get('severity') !== i.severity) body.severity = f.get('severity');
    if (f.get('status') !== i.status) body.status = f.get('status');
    // An empty field clears the assignee.
    if ((assignee || null) !== i.assignee) body.assignee = assignee || null;
    if (!Object.keys(body).length) return notify('Nothing to save', 'info');
    const out = await api.patch<{ consistencyToken: string }>(tpath(p.tenant, 'incidents', i.id), body);
    notify('Incident updated');
    await load(out.consistencyToken, true);
  }, {});
  const close = useAction(async () => {
    const v = await ask('Close this incident', [{ name: 'reason', label: 'Reason', required: true, maxLength: 1000 }], { confirm: 'Close', danger: true });
    if (!v) return;
    const out = await api.post<{ consistencyToken: string }>(tpath(p.tenant, 'incidents', p.id, 'close'), { reason: v.reason });
    notify('Incident closed');
    await load(out.consistencyToken, true);
  });
  const reopen = useAction(async () => {
    const v = await ask('Reopen this incident', [{ name: 'reason', label: 'Reason', required: true, maxLength: 1000 }], { confirm: 'Reopen' });
    if (!v) return;
    const out = await api.post<{ consistencyToken: string }>(tpath(p.tenant, 'incidents', p.id, 'reopen'), { reason: v.reason });
    notify('Incident reopened');
    await load(out.consistencyToken, true);
  });
  const comment = useAction(async (form: HTMLFormElement) => {
    const text = String(new FormData(form).get('comment')).trim();
    if (!text) return;
    const out = await api.post<{ consistencyToken: string }>(tpath(p.tenant, 'incidents', p.id, 'comments'), { text });
    form.reset();
    await load(out.consistencyToken);
  });
  useReady(i !== null || missing);
  if (missing) return <PageHeading>Incident not found</PageHeading>;
  if (!i) return <p class="muted">Loading…</p>;
  const closed = i.status === 'closed';
  return (
    <>
      <p>
        <a href={tenantHref(p.tenant, 'incidents')}>← Incidents</a>
      </p>
      <PageHeading>
        {i.title} <Badge value={i.severity} /> <Badge value={i.status} />
      </PageHeading>
      <dl class="kv">
        <dt>Assignee</dt>
        <dd data-field="assignee">{i.assignee ?? 'nobody'}</dd>
        <dt>Opened</dt>
        <dd>
          {`${fmtTime(i.openedAt)} by `}
          <Who raw={i.openedBy} name={i.openedByName} email={i.openedByEmail} />
        </dd>
        {closed ? (
          <>
            <dt>Closed</dt>
            <dd>{`${fmtTime(i.closedAt)}: ${i.closeReason}`}</dd>
          </>
        ) : null}
      </dl>
      {p.canWrite && !closed ? (
        <section class="card" aria-label="Edit the incident">
          <form
            key={formKey}
            class="inline-form"
            aria-label="Update the incident"
            onSubmit={(ev) => {
              ev.preventDefault();
              const form = ev.currentTarget as HTMLFormElement;
              if (form.reportValidity()) void save.run(form);
            }}
          >
            <div class="field grow">
              <label for="inc-title">Title</label>
              <input id="inc-title" name="title" required maxLength={300} defaultValue={i.title} />
            </div>
            <div class="field">
              <label for="inc-severity">Severity</label>
              <select id="inc-severity" name="severity">
                {SEVERITIES.map((s) => (
                  <option key={s} value={s} selected={s === i.severity}>
                    {s}
                  </option>
                ))}
              </select>
            </div>
            <div class="field">
              <label for="inc-status">Status</label>
              <select id="inc-status" name="status">
                {STATUSES.map((s) => (
                  <option key={s} value={s} selected={s === i.status}>
                    {s}
                  </option>
                ))}
              </select>
            </div>
            <div class="field">
              <label for="inc-assignee">Assignee</label>
              <input id="inc-assignee" name="assignee" maxLength={200} defaultValue={i.assignee ?? ''} aria-describedby="inc-assignee-hint" />
              <p class="hint" id="inc-assignee-hint">
                Empty: nobody.
              </p>
            </div>
            <button type="submit" class="primary" disabled={save.busy}>
              Save
            </button>
            <button type="button" class="danger" disabled={close.busy} onClick={() => void close.run()}>
              Close incident
            </button>
          </form>
        </section>
      ) : null}
      {p.canWrite && closed ? (
        <p>
          <button type="button" disabled={reopen.busy} onClick={() => void reopen.run()}>
            Reopen incident
          </button>
        </p>
      ) : null}
      <Section title="Linked alerts">
        <ScrollBox label="Linked alerts">
          {(i.alerts ?? []).length ? (
            <table data-table="linked-alerts">
              <thead>
                <tr>
                  {['Severity', 'Alert', 'Host', 'Status', 'Raised'].map((h) => (
                    <th scope="col" key={h}>
                      {h}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {(i.alerts ?? []).map((a) => (
                  <tr key={a.id} data-id={a.id}>
                    <td>
                      <Badge value={a.severity} />
                    </td>
                    <td>
                      <a href={tenantHref(p.tenant, 'alerts', a.id)}>{a.title}</a>
                    </td>
                    <td>
                      <Host tenant={p.tenant} agentId={a.agentId} hostname={a.hostname} />
                    </td>
                    <td>
                      <Badge value={a.status} />
                    </td>
                    <td>{fmtTime(a.raisedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p class="empty">No alerts linked.</p>
          )}
        </ScrollBox>
      </Section>
      <Section title="Comments">
        {(i.comments ?? []).length ? (
          <ol class="comments">
            {(i.comments ?? []).map((c) => (
              <li key={`${c.at}-${c.by}`}>
                <p class="comment-head">
                  <strong>
                    <Who raw={c.by} name={c.byName} email={c.byEmail} />
                  </strong>{' '}
                  <time dateTime={c.at}>{fmtTime(c.at)}</time>
                </p>
                <p class="comment-text">{c.text}</p>
              </li>
            ))}
          </ol>
        ) : (
          <p class="empty">No comments yet.</p>
        )}
        {p.canWrite ? (
          <form
            aria-label="Add a comment"
            onSubmit={(ev) => {
              ev.preventDefault();
              void comment.run(ev.currentTarget as HTMLFormElement);
            }}
          >
            <div class="field">
              <label for="inc-comment">Comment</label>
              <textarea id="inc-comment" name="comment" rows={3} maxLength={4000} required />
            </div>
            <button type="submit" disabled={comment.busy}>
              Add comment
            </button>
          </form>
        ) : null}
      </Section>
      <Section title="Timeline">
        <ol class="timeline">
          {i.timeline.map((t) => (
            <li key={`${t.at}-${t.change}`}>
              <time dateTime={t.at}>{fmtTime(t.at)}</time> <Who raw={t.by} name={t.byName} email={t.byEmail} />: {t.change}
            </li>
          ))}
        </ol>
      </Section>
    </>
  );
}

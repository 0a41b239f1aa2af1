// Triage: alerts (acknowledge, resolve, open an incident), incidents, findings.
import { api, tpath } from '../api.js';
import { ago, ask, badge, fill, fmtTime, h, select, short, table } from '../dom.js';
import { act, pagedList } from './list.js';

const SEVERITIES = ['low', 'medium', 'high', 'critical'];

export const alerts = {
  title: 'Alerts',
  async render(ctx) {
    const box = h('div');
    const selected = new Set();
    const openIncident = h('button', { type: 'button', disabled: true, on: { click: () => fromSelection() } }, 'Open incident from selected');
    fill(ctx.main, h('h1', {}, 'Alerts'), ctx.canWrite ? h('div.toolbar', {}, openIncident) : null, box);
    const pick = (a) => {
      const box = h('input', { type: 'checkbox', id: `pick-${a.id}`, 'aria-label': `Select alert ${a.title}`, checked: selected.has(a.id) });
      box.addEventListener('change', () => {
        if (box.checked) selected.add(a.id);
        else selected.delete(a.id);
        openIncident.disabled = selected.size === 0;
      });
      return box;
    };
    const list = pagedList(ctx, box, 'alerts', {
      caption: 'Alerts',
      query: { status: 'open' },
      filters: [
        { name: 'status', label: 'Status', options: ['open', 'acknowledged', 'resolved'] },
        { name: 'severity', label: 'Severity', options: SEVERITIES },
      ],
      cols: [
        ...(ctx.canWrite ? [{ label: 'Select', cell: pick }] : []),
        { label: 'Severity', cell: (a) => badge(a.severity) },
        { label: 'Alert', cell: (a) => h('span', {}, a.title, h('span.muted.small', {}, ` ${a.rule}`)) },
        { label: 'Agent', cell: (a) => h('a', { href: `/ui/t/${ctx.tenant}/agents/${a.agentId}`, 'data-link': '' }, short(a.agentId)) },
        { label: 'Status', cell: (a) => badge(a.status) },
        { label: 'Raised', cell: (a) => h('time', { datetime: a.raisedAt, title: fmtTime(a.raisedAt) }, ago(a.raisedAt)) },
        {
          label: 'Incident',
          cell: (a) => (a.incidentId ? h('a', { href: `/ui/t/${ctx.tenant}/incidents/${a.incidentId}`, 'data-link': '' }, short(a.incidentId)) : '—'),
        },
        {
          label: 'Actions',
          cell: (a) =>
            ctx.canWrite
              ? h(
                  'div.row-actions',
                  {},
                  a.status === 'open' ? h('button', { type: 'button', on: { click: () => ack(a) } }, 'Acknowledge') : null,
                  a.status !== 'resolved' ? h('button', { type: 'button', on: { click: () => resolve(a) } }, 'Resolve') : null,
                )
              : '',
        },
      ],
      empty: 'No alerts match.',
    });
    async function ack(a) {
      const out = await act(() => api.post(tpath(ctx.tenant, 'alerts', a.id, 'ack')), 'Alert acknowledged');
      if (out) await list.reload(out.consistencyToken);
    }
    async function resolve(a) {
      const reason = h('input', { name: 'reason', required: true, maxlength: 1000 });
      const v = await ask(`Resolve "${a.title}"`, [{ name: 'reason', label: 'Resolution', control: reason }], { confirm: 'Resolve' });
      if (!v) return;
      const out = await act(() => api.post(tpath(ctx.tenant, 'alerts', a.id, 'resolve'), { reason: v.reason.trim() }), 'Alert resolved');
      if (out) await list.reload(out.consistencyToken);
    }
    async function fromSelection() {
      const title = h('input', { name: 'title', required: true, maxlength: 300 });
      const severity = select('severity', SEVERITIES, 'high');
      const v = await ask(
        `Open an incident from ${selected.size} alert(s)`,
        [
          { name: 'title', label: 'Title', control: title },
          { name: 'severity', label: 'Severity', control: severity },
        ],
        { confirm: 'Open incident' },
      );
      if (!v) return;
      const out = await act(
        () => api.post(tpath(ctx.tenant, 'incidents'), { title: v.title.trim(), severity: v.severity, alertIds: [...selected] }),
        'Incident opened',
      );
      if (out) ctx.navigate(`/ui/t/${ctx.tenant}/incidents/${out.id}`);
    }
    await list.reload();
    return { onLive: (kind, c) => (kind === 'alert' ? list.reload(c.consistencyToken) : undefined) };
  },
};

export const incidents = {
  title: 'Incidents',
  async render(ctx) {
    if (ctx.id) return incident(ctx);
    const box = h('div');
    const title = h('input', { id: 'inc-title', name: 'title', required: true, maxlength: 300 });
    const severity = Object.assign(select('severity', SEVERITIES, 'medium'), { id: 'inc-sev' });
    const form = h(
      'form.inline-form',
      { 'aria-label': 'Open an incident' },
      h('div.field.grow', {}, h('label', { for: 'inc-title' }, 'Title'), title),
      h('div.field', {}, h('label', { for: 'inc-sev' }, 'Severity'), severity),
      h('button.primary', { type: 'submit' }, 'Open incident'),
    );
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (!form.reportValidity()) return;
      const out = await act(() => api.post(tpath(ctx.tenant, 'incidents'), { title: title.value.trim(), severity: severity.value }), 'Incident opened');
      if (out) ctx.navigate(`/ui/t/${ctx.tenant}/incidents/${out.id}`);
    });
    fill(ctx.main, h('h1', {}, 'Incidents'), ctx.canWrite ? h('section.card', {}, form) : null, box);
    const list = pagedList(ctx, box, 'incidents', {
      caption: 'Incidents',
      filters: [{ name: 'status', label: 'Status', options: ['open', 'investigating', 'contained', 'resolved', 'closed'] }],
      cols: [
        { label: 'Severity', cell: (i) => badge(i.severity) },
        { label: 'Incident', cell: (i) => h('a', { href: `/ui/t/${ctx.tenant}/incidents/${i.id}`, 'data-link': '' }, i.title) },
        { label: 'Status', cell: (i) => badge(i.status) },
        { label: 'Assignee', cell: (i) => i.assignee ?? '—' },
        { label: 'Alerts', cell: (i) => String(i.alertIds.length) },
        { label: 'Opened', cell: (i) => fmtTime(i.openedAt) },
      ],
      empty: 'No incidents.',
    });
    await list.reload();
    return { onLive: (kind, c) => (kind === 'incident' ? list.reload(c.consistencyToken) : undefined) };
  },
};

async function incident(ctx) {
  const box = h('div');
  fill(ctx.main, h('p', {}, h('a', { href: `/ui/t/${ctx.tenant}/incidents`, 'data-link': '' }, '← Incidents')), box);
  async function draw(waitFor) {
    const i = await api.get(tpath(ctx.tenant, 'incidents', ctx.id), { waitFor });
    if (ctx.stale()) return;
    const closed = i.status === 'closed';
    const status = Object.assign(select('status', ['open', 'investigating', 'contained', 'resolved'], closed ? 'resolved' : i.status), { id: 'inc-status' });
    const assignee = h('input', { id: 'inc-assignee', name: 'assignee', maxlength: 200, value: i.assignee ?? '' });
    const edit = h(
      'form.inline-form',
      { 'aria-label': 'Update the incident' },
      h('div.field', {}, h('label', { for: 'inc-status' }, 'Status'), status),
      h('div.field', {}, h('label', { for: 'inc-assignee' }, 'Assignee'), assignee),
      h('button.primary', { type: 'submit' }, 'Save'),
      h('button.danger', { type: 'button', on: { click: () => close() } }, 'Close incident'),
    );
    edit.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const body = {};
      if (status.value !== i.status) body.status = status.value;
      if (assignee.value.trim() && assignee.value.trim() !== i.assignee) body.assignee = assignee.value.trim();
      if (!Object.keys(body).length) return;
      const out = await act(() => api.patch(tpath(ctx.tenant, 'incidents', i.id), body), 'Incident updated');
      if (out) await draw(out.consistencyToken);
    });
    async function close() {
      const reason = h('input', { name: 'reason', required: true, maxlength: 1000 });
      const v = await ask('Close this incident', [{ name: 'reason', label: 'Reason', control: reason }], { confirm: 'Close', danger: true });
      if (!v) return;
      const out = await act(() => api.post(tpath(ctx.tenant, 'incidents', i.id, 'close'), { reason: v.reason.trim() }), 'Incident closed');
      if (out) await draw(out.consistencyToken);
    }
    fill(
      box,
      h('h1', {}, i.title, ' ', badge(i.severity), ' ', badge(i.status)),
      h(
        'dl.kv',
        {},
        h('dt', {}, 'Assignee'),
        h('dd', {}, i.assignee ?? '—'),
        h('dt', {}, 'Opened'),
        h('dd', {}, `${fmtTime(i.openedAt)} by ${i.openedBy}`),
        closed ? [h('dt', {}, 'Closed'), h('dd', {}, `${fmtTime(i.closedAt)}: ${i.closeReason}`)] : null,
      ),
      ctx.canWrite && !closed ? h('section.card', {}, edit) : null,
      h(
        'section.card',
        {},
        h('h2', {}, 'Linked alerts'),
        table(
          'Linked alerts',
          [
            { label: 'Severity', cell: (a) => badge(a.severity) },
            { label: 'Alert', cell: (a) => a.title ?? a.id },
            { label: 'Status', cell: (a) => (a.status ? badge(a.status) : '—') },
            { label: 'Raised', cell: (a) => fmtTime(a.raisedAt) },
          ],
          i.alerts ?? [],
          { name: 'linked-alerts', empty: 'No alerts linked.' },
        ),
      ),
      h(
        'section.card',
        {},
        h('h2', {}, 'Timeline'),
        h(
          'ol.timeline',
          {},
          (i.timeline ?? []).map((t) => h('li', {}, h('time', {}, fmtTime(t.at)), ` ${t.by}: ${t.change}`)),
        ),
      ),
    );
  }
  await draw();
  return { onLive: (kind, c) => (kind === 'incident' ? draw(c.consistencyToken) : undefined) };
}

export const findings = {
  title: 'Findings',
  async render(ctx) {
    const box = h('div');
    fill(ctx.main, h('h1', {}, 'Findings'), box);
    const list = pagedList(ctx, box, 'findings', {
      caption: 'Findings',
      query: { state: 'open' },
      filters: [
        { name: 'state', label: 'State', options: ['open', 'accepted-risk', 'remediated', 'false-positive'] },
        { name: 'severity', label: 'Severity', options: SEVERITIES },
      ],
      cols: [
        { label: 'Severity', cell: (f) => badge(f.severity) },
        { label: 'Finding', cell: (f) => h('span', {}, f.title, h('span.muted.small', {}, ` ${f.subject}`)) },
        { label: 'Product', cell: (f) => f.product },
        { label: 'State', cell: (f) => badge(f.state) },
        {
          label: 'Last change',
          cell: (f) => {
            const last = f.history?.[f.history.length - 1];
            return last ? `${last.state}: ${last.reason} (${last.by})` : fmtTime(f.reportedAt);
          },
        },
        { label: 'Actions', cell: (f) => (ctx.canWrite ? h('button', { type: 'button', on: { click: () => change(f) } }, 'Change state') : '') },
      ],
      empty: 'No findings match.',
    });
    async function change(f) {
      const state = select('state', ['accepted-risk', 'remediated', 'false-positive'], f.state === 'open' ? 'remediated' : f.state);
      const reason = h('input', { name: 'reason', required: true, maxlength: 1000 });
      const v = await ask(
        `Change the state of "${f.title}"`,
        [
          { name: 'state', label: 'New state', control: state },
          { name: 'reason', label: 'Reason', control: reason },
        ],
        { confirm: 'Change state' },
      );
      if (!v) return;
      const out = await act(() => api.patch(tpath(ctx.tenant, 'findings', f.id), { state: v.state, reason: v.reason.trim() }), 'Finding updated');
      if (out) await list.reload(out.consistencyToken);
    }
    await list.reload();
    return null;
  },
};

// Agents: status and last seen; one agent's inventory, commands and results; dispatch; revoke.
import { api, tpath } from '../api.js';
import { ago, ask, badge, fill, fmtTime, h, select, short, table } from '../dom.js';
import { act, pagedList } from './list.js';

function agentLink(ctx, a) {
  return h('a', { href: `/ui/t/${ctx.tenant}/agents/${a.id}`, 'data-link': '' }, a.hostname);
}

export const agents = {
  title: 'Agents',
  async render(ctx) {
    if (ctx.id) return detail(ctx);
    const box = h('div');
    fill(ctx.main, h('h1', {}, 'Agents'), box);
    const list = pagedList(ctx, box, 'agents', {
      caption: 'Agents',
      filters: [{ name: 'status', label: 'Status', options: ['active', 'revoked'] }],
      cols: [
        { label: 'Host', cell: (a) => agentLink(ctx, a) },
        { label: 'Status', cell: (a) => badge(a.connectivity) },
        { label: 'Last seen', cell: (a) => h('time', { datetime: a.lastSeenAt, title: fmtTime(a.lastSeenAt) }, ago(a.lastSeenAt)) },
        { label: 'OS', cell: (a) => a.os },
        { label: 'Version', cell: (a) => a.agentVersion },
        { label: 'Agent id', cell: (a) => h('code', {}, short(a.id, 14)) },
        {
          label: 'Actions',
          cell: (a) =>
            ctx.canWrite && a.status === 'active'
              ? h('button.danger', { type: 'button', on: { click: () => revoke(ctx, a, () => list.reload()) } }, 'Revoke')
              : '',
        },
      ],
      empty: 'No agents enrolled yet.',
    });
    await list.reload();
    return { onLive: (kind, c) => (kind === 'agent' ? list.reload(c.consistencyToken) : undefined) };
  },
};

async function revoke(ctx, a, after) {
  const reason = h('input', { name: 'reason', maxlength: 500, required: true, value: 'revoked by an operator' });
  const v = await ask(`Revoke ${a.hostname}?`, [{ name: 'reason', label: 'Reason', control: reason }], {
    text: 'The agent is refused at once, even with a valid certificate. This cannot be undone; it would have to enroll again.',
    confirm: 'Revoke',
    danger: true,
  });
  if (!v) return;
  const out = await act(() => api.post(tpath(ctx.tenant, 'agents', a.id, 'revoke'), { reason: v.reason.trim() }), `${a.hostname} revoked`);
  if (out) await after(out.consistencyToken);
}

async function detail(ctx) {
  const box = h('div');
  fill(ctx.main, h('p', {}, h('a', { href: `/ui/t/${ctx.tenant}/agents`, 'data-link': '' }, '← Agents')), box);
  async function draw(waitFor) {
    const [a, cmds] = await Promise.all([
      api.get(tpath(ctx.tenant, 'agents', ctx.id), { waitFor }),
      api.get(tpath(ctx.tenant, 'commands'), { agentId: ctx.id, limit: 50, waitFor }),
    ]);
    if (ctx.stale()) return;
    const actions = Object.entries(ctx.session.actions)
      .filter(([, p]) => p === null || ctx.tenantDoc.products.includes(p))
      .map(([k]) => k);
    const action = select('action', actions, 'ping');
    const args = h('textarea', { name: 'args', rows: 2, maxlength: 4000, spellcheck: 'false' }, '{}');
    const dispatch = h(
      'form.inline-form',
      { 'aria-label': 'Dispatch a command' },
      h('div.field', {}, h('label', { for: 'cmd-action' }, 'Command'), Object.assign(action, { id: 'cmd-action' })),
      h('div.field.grow', {}, h('label', { for: 'cmd-args' }, 'Arguments (JSON object)'), Object.assign(args, { id: 'cmd-args' })),
      h('button.primary', { type: 'submit' }, 'Dispatch'),
    );
    dispatch.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      let parsed;
      try {
        parsed = JSON.parse(args.value || '{}');
      } catch {
        args.setCustomValidity('Not valid JSON');
        args.reportValidity();
        args.setCustomValidity('');
        return;
      }
      const out = await act(
        () => api.post(tpath(ctx.tenant, 'agents', ctx.id, 'commands'), { action: action.value, args: parsed }),
        `${action.value} dispatched`,
      );
      if (out) await draw(out.consistencyToken);
    });
    fill(
      box,
      h('h1', {}, a.hostname, ' ', badge(a.connectivity)),
      h(
        'dl.kv',
        {},
        h('dt', {}, 'Agent id'),
        h('dd', {}, h('code', {}, a.id)),
        h('dt', {}, 'OS'),
        h('dd', {}, a.os),
        h('dt', {}, 'Version'),
        h('dd', {}, a.agentVersion),
        h('dt', {}, 'Enrolled'),
        h('dd', {}, fmtTime(a.enrolledAt)),
        h('dt', {}, 'Last seen'),
        h('dd', {}, `${fmtTime(a.lastSeenAt)} (${ago(a.lastSeenAt)})`),
        h('dt', {}, 'Certificate until'),
        h('dd', {}, fmtTime(a.certNotAfter)),
        a.status === 'revoked' ? [h('dt', {}, 'Revoked'), h('dd', {}, `${fmtTime(a.revokedAt)} by ${a.revokedBy}: ${a.revokeReason}`)] : null,
      ),
      ctx.canWrite && a.status === 'active'
        ? h('p', {}, h('button.danger', { type: 'button', on: { click: () => revoke(ctx, a, draw) } }, 'Revoke this agent'))
        : null,
      h(
        'section.card',
        {},
        h('h2', {}, 'Inventory'),
        a.inventory ? h('pre.json', {}, JSON.stringify(a.inventory, null, 2)) : h('p.empty', {}, 'No inventory reported yet.'),
      ),
      h(
        'section.card',
        {},
        h('h2', {}, 'Commands'),
        ctx.canWrite && a.status === 'active' ? dispatch : null,
        table(
          'Commands',
          [
            { label: 'Command', cell: (c) => c.action },
            { label: 'Arguments', cell: (c) => h('code', {}, JSON.stringify(c.args)) },
            { label: 'Status', cell: (c) => badge(c.outcome ?? c.status) },
            { label: 'Dispatched', cell: (c) => `${fmtTime(c.dispatchedAt)} by ${c.dispatchedBy}` },
            { label: 'Result', cell: (c) => (c.output ? h('pre.output', {}, c.output) : '—') },
          ],
          cmds.items,
          { name: 'commands', empty: 'No commands sent to this agent.' },
        ),
      ),
    );
  }
  await draw();
  return { onLive: (kind, c) => (kind === 'agent' || kind === 'command' ? draw(c.consistencyToken) : undefined) };
}

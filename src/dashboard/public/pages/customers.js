// Customers (admin): create, enrollment secrets, products, suspension, tokens.
import { api, tpath } from '../api.js';
import { ask, badge, fill, fmtTime, h, secretBox, select, table } from '../dom.js';
import { act } from './list.js';

function enrollCommand(session, secret) {
  const e = session.enroll;
  return `STOCKADE_ENROLL_SECRET='${secret}' stockade agent enroll --url ${e.ingressUrl} --ca ${e.caPath} --dir ./agent`;
}

function enrollBox(session, title, secret) {
  const cmd = enrollCommand(session, secret);
  return secretBox(title, secret, [
    h('p', {}, "On the customer's machine, enroll an agent with:"),
    h(
      'div.copyrow',
      {},
      h('textarea.secret.command', { readonly: true, rows: 3, 'aria-label': 'Enroll command', spellcheck: 'false', value: cmd }),
      h(
        'button',
        {
          type: 'button',
          on: {
            click: (ev) =>
              void navigator.clipboard.writeText(cmd).then(
                () => (ev.target.textContent = 'Copied'),
                () => {},
              ),
          },
        },
        'Copy command',
      ),
    ),
  ]);
}

/** Waits until the read models show a change (its `consistencyToken`), so the redrawn list includes it. */
async function caughtUp(out) {
  if (out?.consistencyToken) await api.get(tpath(out.id), { waitFor: out.consistencyToken }).catch(() => {});
}

export const customers = {
  title: 'Customers',
  async render(ctx) {
    const once = h('div.once-slot', { 'aria-live': 'polite' });
    const listBox = h('div');
    const id = h('input', { name: 'id', required: true, maxlength: 63, pattern: '[a-z0-9][a-z0-9-]{0,62}', placeholder: 'acme', autocomplete: 'off' });
    const name = h('input', { name: 'name', required: true, maxlength: 200, placeholder: 'Acme Corp', autocomplete: 'off' });
    const create = h(
      'form.inline-form',
      { 'aria-label': 'New customer' },
      h('div.field', {}, h('label', { for: 'new-id' }, 'Customer id'), Object.assign(id, { id: 'new-id' })),
      h('div.field', {}, h('label', { for: 'new-name' }, 'Name'), Object.assign(name, { id: 'new-name' })),
      h('button.primary', { type: 'submit' }, 'Create customer'),
    );
    create.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (!create.reportValidity()) return;
      const out = await act(() => api.post('/tenants', { id: id.value.trim(), name: name.value.trim() }), `Customer ${id.value.trim()} created`);
      if (!out) return;
      fill(once, enrollBox(ctx.session, `Enrollment secret of ${out.id}`, out.enrollSecret));
      create.reset();
      await caughtUp(out);
      await ctx.refreshTenant();
      await draw();
    });
    fill(
      ctx.main,
      h('h1', {}, 'Customers'),
      h('section.card', {}, h('h2', {}, 'New customer'), create),
      once,
      h('section', {}, h('h2', {}, 'All customers'), listBox),
    );

    async function draw() {
      const { items } = await api.get('/tenants');
      if (ctx.stale()) return;
      fill(
        listBox,
        table(
          'Customers',
          [
            { label: 'Customer', cell: (t) => h('a', { href: `/ui/t/${t.id}/overview`, 'data-link': '' }, t.name, h('span.muted', {}, ` (${t.id})`)) },
            { label: 'Status', cell: (t) => badge(t.suspended ? 'suspended' : 'active') },
            {
              label: 'Products',
              cell: (t) =>
                h(
                  'div.toggles',
                  { role: 'group', 'aria-label': `Products of ${t.id}` },
                  ctx.session.products.map((p) => {
                    const box = h('input', { type: 'checkbox', id: `prod-${t.id}-${p}`, checked: t.products.includes(p), dataset: { product: p } });
                    box.addEventListener('change', async () => {
                      box.disabled = true;
                      const out = await act(
                        () => api.put(tpath(t.id, 'products', p), { enabled: box.checked }),
                        `${p} ${box.checked ? 'on' : 'off'} for ${t.id}`,
                      );
                      if (!out) box.checked = !box.checked;
                      box.disabled = false;
                      await caughtUp(out);
                      await ctx.refreshTenant();
                    });
                    return h('label.toggle', { for: box.id }, box, p);
                  }),
                ),
            },
            { label: 'Created', cell: (t) => h('time', { datetime: t.createdAt }, fmtTime(t.createdAt)) },
            {
              label: 'Actions',
              cell: (t) =>
                h(
                  'div.row-actions',
                  {},
                  h('button', { type: 'button', on: { click: () => rotate(t) } }, 'Rotate secret'),
                  h('button', { type: 'button', on: { click: () => token(t) } }, 'New token'),
                  t.suspended
                    ? h('button', { type: 'button', on: { click: () => resume(t) } }, 'Resume')
                    : h('button.danger', { type: 'button', on: { click: () => suspend(t) } }, 'Suspend'),
                ),
            },
          ],
          items,
          { name: 'customers', empty: 'No customers yet: create the first one above.' },
        ),
      );
    }

    async function rotate(t) {
      const ok = await ask(`Rotate the enrollment secret of ${t.id}?`, [], {
        text: 'The current secret stops enrolling new agents at once. Agents already enrolled keep working.',
        confirm: 'Rotate',
        danger: true,
      });
      if (!ok) return;
      const out = await act(() => api.post(tpath(t.id, 'enroll-secret', 'rotate')), 'Secret rotated');
      if (out) fill(once, enrollBox(ctx.session, `New enrollment secret of ${t.id}`, out.enrollSecret));
    }
    async function token(t) {
      const role = select(
        'role',
        [
          ['operator', 'operator (read and act)'],
          ['auditor', 'auditor (read only)'],
        ],
        'operator',
      );
      const label = h('input', { name: 'label', maxlength: 200, placeholder: 'who it is for' });
      const v = await ask(
        `New token for ${t.id}`,
        [
          { name: 'role', label: 'Role', control: role },
          { name: 'label', label: 'Label', control: label },
        ],
        { confirm: 'Create token' },
      );
      if (!v) return;
      const out = await act(() => api.post(tpath(t.id, 'tokens'), { role: v.role, ...(v.label.trim() ? { label: v.label.trim() } : {}) }), 'Token created');
      if (out) fill(once, secretBox(`${v.role} token of ${t.id}`, out.token));
    }
    async function suspend(t) {
      const reason = h('input', { name: 'reason', required: true, maxlength: 500 });
      const v = await ask(`Suspend ${t.id}?`, [{ name: 'reason', label: 'Reason', control: reason }], {
        text: 'Its agents are refused at the ingress and its secret enrolls nothing until resumed.',
        confirm: 'Suspend',
        danger: true,
      });
      if (!v) return;
      await caughtUp(await act(() => api.post(tpath(t.id, 'suspend'), { reason: v.reason.trim() }), `${t.id} suspended`));
      await draw();
      await ctx.refreshTenant();
    }
    async function resume(t) {
      await caughtUp(await act(() => api.post(tpath(t.id, 'resume')), `${t.id} resumed`));
      await draw();
      await ctx.refreshTenant();
    }
    await draw();
    return null;
  },
};

// Small DOM helpers. Everything is built with createElement and textContent — never innerHTML —
// so data from the API can never become markup or script.

/** h('tag.class#id', {attrs, on: {event: fn}}, ...children) */
export function h(spec, attrs = {}, ...children) {
  const [, tag = 'div', rest = ''] = /^([a-z0-9]+)?(.*)$/.exec(spec) ?? [];
  const el = document.createElement(tag);
  for (const m of rest.matchAll(/([.#])([A-Za-z0-9_-]+)/g)) {
    if (m[1] === '.') el.classList.add(m[2]);
    else el.id = m[2];
  }
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = Boolean(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : `${d.toISOString().replace('T', ' ').slice(0, 19)}Z`;
}

export function ago(iso) {
  if (!iso) return '—';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

/** A coloured word: status, severity, connectivity. */
export function badge(value) {
  return h(`span.badge.b-${String(value).replace(/[^a-z0-9-]/gi, '')}`, {}, value);
}

export function short(id, n = 10) {
  const s = String(id ?? '');
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

/**
 * A table. `cols`: [{label, cell: (row) => node|string, cls?}]. An empty list says so in words.
 */
export function table(caption, cols, rows, o = {}) {
  if (!rows.length) return h('p.empty', {}, o.empty ?? `No ${caption.toLowerCase()}.`);
  return h(
    'table',
    { dataset: { table: o.name ?? caption.toLowerCase() } },
    h('caption.sr', {}, caption),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        cols.map((c) => h('th', { scope: 'col' }, c.label)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((r) =>
        h(
          'tr',
          { dataset: { id: r.id ?? '' } },
          cols.map((c) => h(`td${c.cls ? `.${c.cls}` : ''}`, {}, c.cell(r))),
        ),
      ),
    ),
  );
}

/** A labelled field: label + control. */
export function field(label, control) {
  if (!control.id) control.id = `f-${Math.random().toString(36).slice(2, 9)}`;
  return h('div.field', {}, h('label', { for: control.id }, label), control);
}

export function select(name, options, value) {
  return h(
    'select',
    { name },
    options.map((o) => {
      const [v, text] = Array.isArray(o) ? o : [o, o];
      return h('option', { value: v, selected: v === value ? true : undefined }, text);
    }),
  );
}

/** Shows a notice that goes away by itself. */
export function toast(message, kind = 'info') {
  const box = document.getElementById('toasts');
  if (!box) return;
  const t = h(`div.toast.t-${kind}`, {}, message);
  box.append(t);
  setTimeout(() => t.remove(), 6000);
}

/**
 * A modal dialog with fields; resolves with the form's values, or null when cancelled.
 * `fields`: [{name, label, control}] — controls built by the caller.
 */
export function ask(title, fields, o = {}) {
  return new Promise((resolve) => {
    const form = h(
      'form',
      { method: 'dialog' },
      h('h2', {}, title),
      o.text ? h('p', {}, o.text) : null,
      fields.map((f) => field(f.label, f.control)),
      h(
        'div.actions',
        {},
        h('button', { type: 'submit', value: 'ok', class: o.danger ? 'danger' : 'primary' }, o.confirm ?? 'OK'),
        h('button', { type: 'button', value: 'cancel', on: { click: () => dialog.close('cancel') } }, 'Cancel'),
      ),
    );
    const dialog = h('dialog', { 'aria-label': title }, form);
    document.body.append(dialog);
    form.addEventListener('submit', (ev) => {
      for (const f of fields) {
        if (f.control.required && !String(f.control.value).trim()) {
          ev.preventDefault();
          f.control.focus();
          return;
        }
      }
    });
    dialog.addEventListener('close', () => {
      const values = {};
      for (const f of fields) values[f.name] = f.control.type === 'checkbox' ? f.control.checked : f.control.value;
      dialog.remove();
      resolve(dialog.returnValue === 'ok' ? values : null);
    });
    dialog.showModal();
  });
}

/** A secret shown once: read-only field, copy button, and an instruction. */
export function secretBox(title, secret, extra = []) {
  const input = h('input.secret', { type: 'text', readonly: true, value: secret, 'aria-label': title, spellcheck: 'false' });
  const copy = h('button', { type: 'button', on: { click: () => copyText(secret, copy) } }, 'Copy');
  return h(
    'section.once',
    { 'aria-label': title, dataset: { once: '' } },
    h('h3', {}, title),
    h('p.warn', {}, 'Shown this once. Copy it now: Stockade keeps only a hash.'),
    h('div.copyrow', {}, input, copy),
    extra,
  );
}

export async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
    if (button) button.textContent = 'Copied';
  } catch {
    if (button) button.textContent = 'Select and copy';
  }
}

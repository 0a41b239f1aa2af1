// A list page part: filters, a table, "Load more" for the next cursor page, live refresh.
import { api, tpath } from '../api.js';
import { fill, h, select, table, toast } from '../dom.js';

/**
 * Draws a paged list of `area` of the current customer into `box`.
 * o: {caption, cols, filters: [{name, label, options}], query, empty}
 * Returns {reload(waitFor?)}.
 */
export function pagedList(ctx, box, area, o) {
  const values = { ...(o.query ?? {}) };
  const controls = (o.filters ?? []).map((f) => {
    const control = select(f.name, [['', 'any'], ...f.options], values[f.name] ?? '');
    control.id = `filter-${area}-${f.name}`;
    control.addEventListener('change', () => {
      values[f.name] = control.value;
      void reload();
    });
    return h('div.field.inline', {}, h('label', { for: control.id }, f.label), control);
  });
  const bar = controls.length ? h('div.filters', { role: 'group', 'aria-label': 'Filters' }, controls) : null;
  const body = h('div.list');
  fill(box, bar, body);
  let rows = [];

  async function reload(waitFor) {
    const page = await api.get(tpath(ctx.tenant, area), { ...values, limit: o.limit ?? 50, waitFor });
    if (ctx.stale()) return;
    rows = page.items;
    draw(page.nextCursor);
  }
  function draw(cursor) {
    const more = cursor
      ? h(
          'button.more',
          {
            type: 'button',
            on: {
              click: async () => {
                const page = await api.get(tpath(ctx.tenant, area), { ...values, limit: o.limit ?? 50, cursor }).catch((e) => toast(e.message, 'error'));
                if (!page || ctx.stale()) return;
                rows = rows.concat(page.items);
                draw(page.nextCursor);
              },
            },
          },
          'Load more',
        )
      : null;
    fill(body, table(o.caption, o.cols, rows, { name: area, empty: o.empty }), more);
  }
  return { reload, rows: () => rows };
}

/** Runs an action, reports its error as a notice, and returns its result (undefined on error). */
export async function act(fn, done) {
  try {
    const out = await fn();
    if (done) toast(done, 'ok');
    return out;
  } catch (err) {
    toast(err.message ?? String(err), 'error');
    return undefined;
  }
}

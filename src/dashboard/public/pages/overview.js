// Overview of the current customer: agents online, open alerts and incidents, findings, ledger.
import { api, tpath } from '../api.js';
import { ago, fill, h, short } from '../dom.js';

function count(page, pred = () => true) {
  const n = page.items.filter(pred).length;
  return page.nextCursor ? `${n}+` : String(n);
}

function stat(label, value, href, name) {
  return h('a.stat', { href, 'data-link': '', dataset: { stat: name } }, h('span.value', {}, value), h('span.label', {}, label));
}

export const overview = {
  title: 'Overview',
  async render(ctx) {
    const t = ctx.tenant;
    const box = h('div.stats');
    fill(
      ctx.main,
      h('h1', {}, ctx.tenantDoc.name, ctx.tenantDoc.suspended ? h('span.badge.b-suspended', {}, 'suspended') : null),
      box,
      h('div#overview-extra'),
    );
    const base = `/ui/t/${t}`;
    async function draw(waitFor) {
      const hasFindings = ctx.session.areaProducts.findings.some((p) => ctx.tenantDoc.products.includes(p));
      const [agents, alerts, incidents, findings, ledger] = await Promise.all([
        api.get(tpath(t, 'agents'), { limit: 200, waitFor }),
        api.get(tpath(t, 'alerts'), { status: 'open', limit: 200, waitFor }),
        api.get(tpath(t, 'incidents'), { limit: 200, waitFor }),
        hasFindings ? api.get(tpath(t, 'findings'), { limit: 200, waitFor }) : null,
        api.get(tpath(t, 'ledger')).catch(() => null),
      ]);
      if (ctx.stale()) return;
      const online = agents.items.filter((a) => a.connectivity === 'online').length;
      const active = agents.items.filter((a) => a.status === 'active').length;
      fill(
        box,
        stat('agents online', `${online} / ${active}`, `${base}/agents`, 'agents'),
        stat('open alerts', count(alerts), `${base}/alerts`, 'alerts'),
        stat(
          'open incidents',
          count(incidents, (i) => i.status !== 'closed' && i.status !== 'resolved'),
          `${base}/incidents`,
          'incidents',
        ),
        ledger
          ? stat(ledger.lag.events ? `ledger: ${ledger.lag.events} unsealed` : 'ledger: all sealed', `height ${ledger.height}`, `${base}/ledger`, 'ledger')
          : null,
      );
      const extra = document.getElementById('overview-extra');
      if (!extra) return;
      const states = {};
      for (const f of findings?.items ?? []) states[f.state] = (states[f.state] ?? 0) + 1;
      fill(
        extra,
        findings
          ? h(
              'section.card',
              {},
              h('h2', {}, 'Findings by state'),
              h(
                'dl.kv',
                {},
                ['open', 'accepted-risk', 'remediated', 'false-positive'].flatMap((s) => [
                  h('dt', {}, s),
                  h('dd', { dataset: { state: s } }, String(states[s] ?? 0)),
                ]),
              ),
            )
          : null,
        h(
          'section.card',
          {},
          h('h2', {}, 'Latest open alerts'),
          alerts.items.length
            ? h(
                'ul.plain',
                {},
                alerts.items
                  .slice(0, 5)
                  .map((a) =>
                    h(
                      'li',
                      {},
                      h(`span.badge.b-${a.severity}`, {}, a.severity),
                      ' ',
                      a.title,
                      h('span.muted', {}, ` · ${short(a.agentId)} · ${ago(a.raisedAt)}`),
                    ),
                  ),
              )
            : h('p.empty', {}, 'No open alerts.'),
        ),
      );
    }
    await draw();
    return { onLive: (kind, c) => (kind === 'alert' || kind === 'agent' || kind === 'incident' ? draw(c.consistencyToken) : undefined) };
  },
};

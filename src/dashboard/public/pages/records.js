// Records: scan runs, evidence with its chain of custody, the audit trail, the ledger.
import { api, tpath } from '../api.js';
import { ask, badge, fill, fmtTime, h, short, table } from '../dom.js';
import { act, pagedList } from './list.js';

export const scans = {
  title: 'Scan runs',
  async render(ctx) {
    const box = h('div');
    fill(ctx.main, h('h1', {}, 'Scan runs'), box);
    const list = pagedList(ctx, box, 'scans', {
      caption: 'Scan runs',
      cols: [
        { label: 'Finished', cell: (s) => fmtTime(s.finishedAt) },
        { label: 'Product', cell: (s) => s.product },
        { label: 'Agent', cell: (s) => h('a', { href: `/ui/t/${ctx.tenant}/agents/${s.agentId}`, 'data-link': '' }, short(s.agentId)) },
        { label: 'Items', cell: (s) => String(s.itemCount) },
        { label: 'Merkle root', cell: (s) => h('code', { title: s.merkleRoot }, short(s.merkleRoot, 16)) },
        { label: 'Duration', cell: (s) => `${Math.max(0, Math.round((Date.parse(s.finishedAt) - Date.parse(s.startedAt)) / 1000))} s` },
      ],
      empty: 'No scan runs reported.',
    });
    await list.reload();
    return null;
  },
};

export const evidence = {
  title: 'Evidence',
  async render(ctx) {
    if (ctx.id) return custody(ctx);
    const box = h('div');
    fill(ctx.main, h('h1', {}, 'Evidence'), box);
    const list = pagedList(ctx, box, 'evidence', {
      caption: 'Evidence',
      filters: [
        {
          name: 'sealed',
          label: 'Sealed',
          options: [
            ['true', 'sealed'],
            ['false', 'open'],
          ],
        },
      ],
      cols: [
        { label: 'Artifact', cell: (e) => h('a', { href: `/ui/t/${ctx.tenant}/evidence/${e.id}`, 'data-link': '' }, e.name) },
        { label: 'SHA-256', cell: (e) => h('code', { title: e.sha256 }, short(e.sha256, 16)) },
        { label: 'Size', cell: (e) => `${e.sizeBytes} B` },
        { label: 'Holder', cell: (e) => e.holder },
        { label: 'Sealed', cell: (e) => badge(e.sealed ? 'sealed' : 'open') },
        { label: 'Collected', cell: (e) => fmtTime(e.collectedAt) },
      ],
      empty: 'No evidence collected.',
    });
    await list.reload();
    return null;
  },
};

async function custody(ctx) {
  const box = h('div');
  fill(ctx.main, h('p', {}, h('a', { href: `/ui/t/${ctx.tenant}/evidence`, 'data-link': '' }, '← Evidence')), box);
  async function draw(waitFor) {
    const e = await api.get(tpath(ctx.tenant, 'evidence', ctx.id), { waitFor });
    if (ctx.stale()) return;
    const transfer = async () => {
      const to = h('input', { name: 'to', required: true, maxlength: 200 });
      const note = h('input', { name: 'note', maxlength: 1000 });
      const v = await ask(
        'Transfer custody',
        [
          { name: 'to', label: 'To', control: to },
          { name: 'note', label: 'Note', control: note },
        ],
        { confirm: 'Transfer' },
      );
      if (!v) return;
      const out = await act(() => api.post(tpath(ctx.tenant, 'evidence', e.id, 'transfer'), { to: v.to.trim(), note: v.note.trim() }), 'Custody transferred');
      if (out) await draw(out.consistencyToken);
    };
    const seal = async () => {
      const note = h('input', { name: 'note', maxlength: 1000 });
      const v = await ask('Seal this evidence', [{ name: 'note', label: 'Note', control: note }], {
        text: 'The chain of custody ends here.',
        confirm: 'Seal',
        danger: true,
      });
      if (!v) return;
      const out = await act(() => api.post(tpath(ctx.tenant, 'evidence', e.id, 'seal'), { note: v.note.trim() }), 'Evidence sealed');
      if (out) await draw(out.consistencyToken);
    };
    fill(
      box,
      h('h1', {}, e.name, ' ', badge(e.sealed ? 'sealed' : 'open')),
      h(
        'dl.kv',
        {},
        h('dt', {}, 'SHA-256'),
        h('dd', {}, h('code', {}, e.sha256)),
        h('dt', {}, 'Size'),
        h('dd', {}, `${e.sizeBytes} bytes`),
        h('dt', {}, 'Agent'),
        h('dd', {}, h('code', {}, e.agentId)),
        h('dt', {}, 'Holder'),
        h('dd', {}, e.holder),
      ),
      ctx.canWrite && !e.sealed
        ? h(
            'div.toolbar',
            {},
            h('button', { type: 'button', on: { click: transfer } }, 'Transfer custody'),
            h('button.danger', { type: 'button', on: { click: seal } }, 'Seal'),
          )
        : null,
      h(
        'section.card',
        {},
        h('h2', {}, 'Chain of custody'),
        table(
          'Chain of custody',
          [
            { label: 'When', cell: (s) => h('time', { datetime: s.at }, fmtTime(s.at)) },
            { label: 'Step', cell: (s) => badge(s.action) },
            { label: 'By', cell: (s) => s.by },
            { label: 'From', cell: (s) => s.from ?? '—' },
            { label: 'To', cell: (s) => s.to ?? '—' },
            { label: 'Note', cell: (s) => s.note || '—' },
          ],
          e.custody.map((s, i) => ({ ...s, id: String(i) })),
          { name: 'custody' },
        ),
      ),
    );
  }
  await draw();
  return null;
}

export const audit = {
  title: 'Audit log',
  async render(ctx) {
    const box = h('div');
    fill(ctx.main, h('h1', {}, 'Audit log'), box);
    const list = pagedList(ctx, box, 'audit', {
      caption: 'Audit log',
      limit: 100,
      filters: [{ name: 'actorKind', label: 'Actor', options: ['operator', 'agent', 'system'] }],
      cols: [
        { label: 'When', cell: (a) => h('time', { datetime: a.at }, fmtTime(a.at)) },
        { label: 'Who', cell: (a) => `${a.actorKind}:${a.actorId}` },
        { label: 'What', cell: (a) => h('code', {}, a.action) },
        { label: 'Target', cell: (a) => `${a.aggregateType} ${short(a.targetId, 14)}` },
        { label: 'Outcome', cell: (a) => badge(a.outcome) },
      ],
      empty: 'Nothing recorded yet.',
    });
    await list.reload();
    return null;
  },
};

export const ledger = {
  title: 'Ledger',
  async render(ctx) {
    const box = h('div');
    const progress = h('progress', { max: 1, value: 0, 'aria-label': 'Verification progress' });
    const result = h('p.verify-result', { role: 'status', 'aria-live': 'polite' });
    const verify = h('button.primary', { type: 'button', on: { click: () => run() } }, 'Verify now');
    fill(
      ctx.main,
      h('h1', {}, 'Ledger'),
      box,
      h(
        'section.card',
        {},
        h('h2', {}, 'Verification'),
        h('p', {}, 'Replays the signed ledger against the event log for this customer: every signature, every link, every event.'),
        h('div.toolbar', {}, verify, progress),
        result,
      ),
    );
    async function draw() {
      const l = await api.get(tpath(ctx.tenant, 'ledger'));
      if (ctx.stale()) return;
      fill(
        box,
        h(
          'dl.kv',
          { dataset: { ledger: '' } },
          h('dt', {}, 'Height'),
          h('dd', { dataset: { field: 'height' } }, String(l.height)),
          h('dt', {}, 'Head'),
          h('dd', {}, h('code', {}, l.head)),
          h('dt', {}, 'Blocks'),
          h('dd', {}, String(l.blocks)),
          h('dt', {}, 'Signing key'),
          h('dd', {}, l.keyId ? h('code', {}, l.keyId) : '—'),
          h('dt', {}, 'Last sealed'),
          h('dd', {}, fmtTime(l.sealedAt)),
          h('dt', {}, 'Sealing lag'),
          h('dd', {}, `${l.lag.events} event(s), ${l.lag.seconds.toFixed(1)} s`),
          h('dt', {}, 'Last checkpoint'),
          h('dd', {}, l.lastCheckpoint ? `${fmtTime(l.lastCheckpoint.at)} at height ${l.lastCheckpoint.height}` : 'none yet'),
        ),
      );
    }
    async function run() {
      verify.disabled = true;
      fill(result, 'Verifying…');
      progress.value = 0;
      try {
        const res = await fetch(`/ui/ledger-verify/${encodeURIComponent(ctx.tenant)}`, {
          method: 'POST',
          headers: { 'x-csrf-token': ctx.session.csrf },
          credentials: 'same-origin',
        });
        if (!res.ok || !res.body) throw new Error(`verification refused (${res.status})`);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
            const line = JSON.parse(buf.slice(0, nl));
            buf = buf.slice(nl + 1);
            progress.max = Math.max(1, line.total);
            progress.value = Math.min(line.entries, progress.max);
            if (line.phase === 'done') {
              progress.value = progress.max;
              fill(
                result,
                line.ok
                  ? h(
                      'span.ok',
                      { dataset: { verify: 'ok' } },
                      `Verified: ${line.entries} entries up to height ${line.height}, no break.${line.pending ? ` ${line.pending} recent event(s) not sealed yet.` : ''}`,
                    )
                  : h('span.error', { dataset: { verify: 'broken' } }, `Break found: ${line.break?.kind} — ${line.break?.message}`),
              );
            } else if (line.phase === 'failed') {
              fill(result, h('span.error', {}, `Verification could not run (${line.code}).`));
            }
          }
        }
      } catch (err) {
        fill(result, h('span.error', {}, err.message ?? String(err)));
      } finally {
        verify.disabled = false;
        await draw().catch(() => {});
      }
    }
    await draw();
    return null;
  },
};

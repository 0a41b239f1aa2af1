import { useEffect, useState } from 'preact/hooks';
import { ScrollBox, ScrollPre, Badge, Facts, Host, Id, PageHeading, Section, Who } from '../components/bits.tsx';
import { DataList } from '../components/data-list.tsx';
import { ask } from '../components/dialog.tsx';
import { useAction } from '../lib/act.ts';
import { api, csrfToken, tpath } from '../lib/api.ts';
import { ApiError, explain } from '../lib/errors.ts';
import { count, fmtTime } from '../lib/format.ts';
import { useLive } from '../lib/live.ts';
import { notify } from '../lib/notices.tsx';
import { type PageProps, useReady } from '../lib/page.ts';
import { tenantHref } from '../lib/router.ts';
import { type Command, commandColumns } from './agents.tsx';
import { EvidenceDownload } from './evidence-download.tsx';

interface Evidence {
  id: string;
  agentId: string;
  hostname?: string | null;
  name: string;
  sha256: string;
  sizeBytes: number;
  holder: string;
  sealed: boolean;
  collectedAt: string;
  custody: Array<{ action: string; at: string; by: string; byName?: string | null; byEmail?: string; from: string | null; to: string | null; note: string }>;
  /** Where its bytes are kept; null when the agent reported its hash only. */
  stored?: { bucket: string; object: string } | null;
  downloads?: number;
  commandId?: string | null;
}

interface AuditEntry {
  id: string;
  at: string;
  actorKind: string;
  actorId: string;
  actorName?: string | null;
  /** How a person acted: `token:<id>`, `session:<id>`, `sso:<issuer>#<subject>`, `invitation`… */
  via?: string;
  action: string;
  aggregateType: string;
  targetId: string;
  targetName?: string | null;
  outcome: string;
}

export function EvidencePage(p: PageProps) {
  if (p.id) return <Custody {...p} id={p.id} />;
  return (
    <>
      <PageHeading>Evidence</PageHeading>
      <DataList<Evidence>
        tenant={p.tenant}
        area="evidence"
        caption="Evidence"
        noun={['artifact', 'artifacts']}
        filters={[
          {
            name: 'sealed',
            label: 'Sealed',
            options: [
              ['true', 'sealed'],
              ['false', 'open'],
            ],
          },
          { name: 'q', label: 'Search', kind: 'search' },
        ]}
        live={['evidence']}
        columns={[
          { label: 'Artifact', cell: (e) => <a href={tenantHref(p.tenant, 'evidence', e.id)}>{e.name}</a> },
          { label: 'Host', cell: (e) => <Host tenant={p.tenant} agentId={e.agentId} hostname={e.hostname} /> },
          { label: 'SHA-256', cell: (e) => <Id id={e.sha256} n={16} /> },
          { label: 'Size', cell: (e) => `${count(e.sizeBytes)} B` },
          { label: 'Holder', cell: (e) => e.holder },
          { label: 'Bytes', cell: (e) => (e.stored ? 'stored' : 'hash only') },
          { label: 'Sealed', cell: (e) => <Badge value={e.sealed ? 'sealed' : 'open'} /> },
          { label: 'Collected', cell: (e) => fmtTime(e.collectedAt) },
        ]}
        empty="No evidence collected."
      />
    </>
  );
}

function Custody(p: PageProps & { id: string }) {
  const [e, setE] = useState<Evidence | null>(null);
  const [missing, setMissing] = useState(false);
  const load = async (waitFor?: string) => {
    try {
      setE(await api.get<Evidence>(tpath(p.tenant, 'evidence', p.id), waitFor ? { waitFor } : {}));
    } catch {
      setMissing(true);
    }
  };
  useEffect(() => {
    void load();
  }, [p.id]);
  useLive(['evidence'], (c, token) => {
    if (c.some((x) => x.id === p.id || x.type === 'resync')) void load(token);
  });
  const transfer = useAction(async () => {
    const v = await ask(
      'Transfer custody',
      [
        { name: 'to', label: 'To', required: true, maxLength: 200 },
        { name: 'note', label: 'Note', maxLength: 1000 },
      ],
      { confirm: 'Transfer' },
    );
    if (!v) return;
    const out = await api.post<{ consistencyToken: string }>(tpath(p.tenant, 'evidence', p.id, 'transfer'), { to: v.to, note: v.note });
    notify('Custody transferred');
    await load(out.consistencyToken);
  });
  const seal = useAction(async () => {
    const v = await ask('Seal this evidence', [{ name: 'note', label: 'Note', maxLength: 1000 }], {
      text: 'The chain of custody ends here.',
      confirm: 'Seal',
      danger: true,
    });
    if (!v) return;
    const out = await api.post<{ consistencyToken: string }>(tpath(p.tenant, 'evidence', p.id, 'seal'), { note: v.note });
    notify('Evidence sealed');
    await load(out.consistencyToken);
  });
  useReady(e !== null || missing);
  if (missing) return <PageHeading>Evidence not found</PageHeading>;
  if (!e) return <p class="muted">Loading…</p>;
  return (
    <>
      <p>
        <a href={tenantHref(p.tenant, 'evidence')}>← Evidence</a>
      </p>
      <PageHeading>
        {e.name} <Badge value={e.sealed ? 'sealed' : 'open'} />
      </PageHeading>
      <Facts
        items={[
          ['SHA-256', <code key="s">{e.sha256}</code>],
          ['Size', `${count(e.sizeBytes)} bytes`],
          ['Host', <Host key="h" tenant={p.tenant} agentId={e.agentId} hostname={e.hostname} />],
          ['Holder', e.holder],
          ['Bytes', e.stored ? `kept in ${e.stored.bucket}; downloaded ${e.downloads ?? 0} time(s)` : 'not stored: the agent reported the hash only'],
          e.commandId
            ? [
                'Collected by',
                <a key="c" href={tenantHref(p.tenant, 'commands', e.commandId)}>
                  the collect-evidence command
                </a>,
              ]
            : null,
        ]}
      />
      <EvidenceDownload tenant={p.tenant} evidence={e} allowed={p.can('evidence.download')} />
      {p.canWrite && !e.sealed ? (
        <div class="toolbar">
          <button type="button" disabled={transfer.busy} onClick={() => void transfer.run()}>
            Transfer custody
          </button>
          <button type="button" class="danger" disabled={seal.busy} onClick={() => void seal.run()}>
            Seal
          </button>
        </div>
      ) : null}
      <Section title="Chain of custody">
        <ScrollBox label="Chain of custody">
          <table data-table="custody">
            <thead>
              <tr>
                {['When', 'Step', 'By', 'From', 'To', 'Note'].map((h) => (
                  <th scope="col" key={h}>
                    {h}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {e.custody.map((s) => (
                <tr key={`${s.at}-${s.action}-${s.to}`}>
                  <td>
                    <time dateTime={s.at}>{fmtTime(s.at)}</time>
                  </td>
                  <td>
                    <Badge value={s.action} />
                  </td>
                  <td>
                    <Who raw={s.by} name={s.byName} email={s.byEmail} />
                  </td>
                  <td>{s.from ?? '—'}</td>
                  <td>{s.to ?? '—'}</td>
                  <td>{s.note || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollBox>
      </Section>
    </>
  );
}

export function CommandsPage(p: PageProps) {
  if (p.id) return <CommandDetail {...p} id={p.id} />;
  return (
    <>
      <PageHeading>Commands</PageHeading>
      <DataList<Command>
        tenant={p.tenant}
        area="commands"
        caption="Commands"
        noun={['command', 'commands']}
        filters={[
          { name: 'status', label: 'Status', options: ['pending', 'delivered', 'completed', 'cancelled'] },
          { name: 'outcome', label: 'Outcome', options: ['succeeded', 'failed'] },
        ]}
        live={['command']}
        columns={(refresh) => commandColumns({ tenant: p.tenant, canWrite: p.canWrite, host: true, refresh })}
        empty="No commands sent yet."
      />
    </>
  );
}

function CommandDetail(p: PageProps & { id: string }) {
  const [c, setC] = useState<Command | null>(null);
  const [missing, setMissing] = useState(false);
  const load = async (waitFor?: string) => {
    try {
      setC(await api.get<Command>(tpath(p.tenant, 'commands', p.id), waitFor ? { waitFor } : {}));
    } catch {
      setMissing(true);
    }
  };
  useEffect(() => {
    void load();
  }, [p.id]);
  useLive(['command'], (ch, token) => {
    if (ch.some((x) => x.id === p.id || x.type === 'resync')) void load(token);
  });
  useReady(c !== null || missing);
  if (missing) return <PageHeading>Command not found</PageHeading>;
  if (!c) return <p class="muted">Loading…</p>;
  return (
    <>
      <p>
        <a href={tenantHref(p.tenant, 'commands')}>← Commands</a>
      </p>
      <PageHeading>
        {c.action} <Badge value={c.outcome ?? c.status} />
      </PageHeading>
      <Facts
        items={[
          ['Host', <Host key="h" tenant={p.tenant} agentId={c.agentId} hostname={c.hostname} />],
          [
            'Arguments',
            <ScrollPre label="Arguments" kind="json" key="a">
              {JSON.stringify(c.args, null, 2)}
            </ScrollPre>,
          ],
          [
            'Dispatched',
            <>
              {`${fmtTime(c.dispatchedAt)} by `}
              <Who raw={c.dispatchedBy} name={c.dispatchedByName} email={c.dispatchedByEmail} />
            </>,
          ],
          c.cancelReason !== undefined && c.status === 'cancelled'
            ? [
                'Cancelled',
                <>
                  {'by '}
                  <Who raw={c.cancelledBy} name={c.cancelledByName} email={c.cancelledByEmail} />
                  {c.cancelReason ? `: ${c.cancelReason}` : ''}
                </>,
              ]
            : null,
          c.action === 'install-patches' && c.status === 'completed'
            ? [
                'Patch job',
                <a key="j" href={tenantHref(p.tenant, 'patch-jobs', c.id)}>
                  the result per package
                </a>,
              ]
            : null,
          [
            'Result',
            c.output ? (
              <ScrollPre label="Result" kind="output" key="o">
                {c.output}
              </ScrollPre>
            ) : (
              '—'
            ),
          ],
        ]}
      />
    </>
  );
}

/** Who did it, as people read it: a person's name (and how they came in), an agent's host, the admin key. */
function Actor({ a }: { a: AuditEntry }) {
  const id = `${a.actorKind}:${a.actorId}`;
  if (a.actorKind === 'agent') return <span title={id}>{a.actorName ? `${a.actorName} (agent)` : id}</span>;
  const name = a.actorId === 'admin' ? 'the admin key (break-glass)' : a.actorId.startsWith('user:') ? (a.actorName ?? a.actorId) : a.actorId;
  return (
    <span title={id}>
      {name}
      {a.via ? <span class="muted small block">{viaText(a.via)}</span> : null}
    </span>
  );
}

/** How a person came in, in words. */
function viaText(via: string): string {
  if (via.startsWith('sso:')) return `single sign-on: ${via.slice(4)}`;
  if (via.startsWith('token:')) return `API token ${via.slice(6)}`;
  if (via.startsWith('session:')) return `dashboard session ${via.slice(8, 16)}`;
  return via;
}

interface Refusal {
  at: string;
  kind: string;
  code: string;
  actor: string;
  via: string | null;
  method: string;
  route: string;
  ip: string;
}

export function AuditPage(p: PageProps) {
  return (
    <>
      <PageHeading>Audit log</PageHeading>
      {p.can('audit.export') ? (
        <p class="export">
          The whole audit trail, refused attempts included:{' '}
          <a href={api.href(tpath(p.tenant, 'audit', 'export'), { format: 'csv' })} download>
            CSV
          </a>{' '}
          <a href={api.href(tpath(p.tenant, 'audit', 'export'), { format: 'jsonl' })} download>
            JSON lines
          </a>
        </p>
      ) : null}
      <DataList<AuditEntry>
        exportable={false}
        tenant={p.tenant}
        area="audit"
        caption="Audit log"
        noun={['entry', 'entries']}
        pageSize={100}
        filters={[
          { name: 'actorKind', label: 'Actor', options: ['operator', 'agent', 'system'] },
          {
            name: 'aggregateType',
            label: 'Kind of item',
            options: ['agent', 'alert', 'incident', 'finding', 'scan', 'evidence', 'command', 'tenant', 'token', 'access', 'approval', 'policy'],
          },
        ]}
        live={['alert', 'agent', 'incident', 'command', 'finding', 'scan', 'evidence', 'tenant', 'token', 'access', 'approval', 'policy']}
        columns={[
          { label: 'When', cell: (a) => <time dateTime={a.at}>{fmtTime(a.at)}</time> },
          { label: 'Who', cell: (a) => <Actor a={a} /> },
          { label: 'What', cell: (a) => <code>{a.action}</code> },
          {
            label: 'Target',
            cell: (a) => (
              <span title={a.targetId}>
                {a.aggregateType} {a.targetName ?? <Id id={a.targetId} n={14} />}
              </span>
            ),
          },
          { label: 'Outcome', cell: (a) => <Badge value={a.outcome} /> },
        ]}
        empty="Nothing recorded yet."
      />
      {p.can('audit.export') ? <Refusals tenant={p.tenant} /> : null}
    </>
  );
}

/** The newest refused attempts on the customer (they are kept apart from its log: no event, no ledger entry). */
function Refusals({ tenant }: { tenant: string }) {
  const [items, setItems] = useState<Refusal[] | null>(null);
  const load = useAction(async () => {
    setItems((await api.get<{ items: Refusal[] }>(tpath(tenant, 'audit', 'refusals'), { limit: 50 })).items);
  });
  useEffect(() => {
    void load.run();
  }, [tenant]);
  return (
    <Section title="Refused attempts">
      <p class="muted small">
        Wrong credentials, forbidden actions, probes of this customer and refusals while suspended. The caller was told nothing more than a refusal. The newest
        50; the export above has them all.
      </p>
      <div class="toolbar">
        <button type="button" disabled={load.busy} onClick={() => void load.run()}>
          Read again
        </button>
      </div>
      {items === null ? (
        <p class="muted">Loading…</p>
      ) : items.length === 0 ? (
        <p class="empty">No refused attempts.</p>
      ) : (
        <ScrollBox label="Refused attempts">
          <table data-table="refusals">
            <thead>
              <tr>
                {['When', 'Who', 'What', 'Refused with', 'Request', 'Address'].map((h) => (
                  <th scope="col" key={h}>
                    {h}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {items.map((r, i) => (
                <tr key={`${r.at}-${i}`}>
                  <td>
                    <time dateTime={r.at}>{fmtTime(r.at)}</time>
                  </td>
                  <td>
                    {r.actor}
                    {r.via ? <span class="muted small block">{viaText(r.via)}</span> : null}
                  </td>
                  <td>{r.kind}</td>
                  <td>
                    {explain(new ApiError(0, r.code, null)).sentence} <code>{r.code}</code>
                  </td>
                  <td>
                    <code>{`${r.method} ${r.route}`}</code>
                  </td>
                  <td>{r.ip}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollBox>
      )}
    </Section>
  );
}

interface LedgerStatus {
  height: number;
  head: string;
  blocks: number;
  keyId: string | null;
  sealedAt: string | null;
  lag: { events: number; seconds: number };
  lastCheckpoint: { at: string; height: number } | null;
}

type VerifyLine =
  | { phase: 'started' | 'progress'; entries: number; total: number }
  | { phase: 'done'; ok: boolean; entries: number; total: number; height: number; pending: number; break: { kind: string; message: string } | null }
  | { phase: 'failed'; code: string };

export function LedgerPage(p: PageProps) {
  const [l, setL] = useState<LedgerStatus | null>(null);
  const [progress, setProgress] = useState({ value: 0, max: 1 });
  const [result, setResult] = useState<{ ok: boolean | null; text: string } | null>(null);
  const load = async () => {
    try {
      setL(await api.get<LedgerStatus>(tpath(p.tenant, 'ledger')));
    } catch (err) {
      setResult({ ok: false, text: `${explain(err).sentence} (${explain(err).code})` });
    }
  };
  useEffect(() => {
    void load();
  }, []);
  const verify = useAction(async () => {
    setResult({ ok: null, text: 'Verifying…' });
    setProgress({ value: 0, max: 1 });
    try {
      const res = await fetch(`/ui/ledger-verify/${encodeURIComponent(p.tenant)}`, {
        method: 'POST',
        headers: { 'x-csrf-token': csrfToken() },
        credentials: 'same-origin',
      });
      if (!res.ok || !res.body) {
        const e = ((await res.json().catch(() => null)) as { error?: { code?: string } } | null)?.error;
        throw new ApiError(res.status, e?.code ?? 'STK_ERR_UNAVAILABLE', null);
      }
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let nl = buf.indexOf('\n');
        while (nl >= 0) {
          const line = JSON.parse(buf.slice(0, nl)) as VerifyLine;
          buf = buf.slice(nl + 1);
          nl = buf.indexOf('\n');
          if (line.phase === 'failed') {
            setResult({ ok: false, text: `Verification could not run (${line.code}).` });
            continue;
          }
          const max = Math.max(1, line.total);
          setProgress({ value: line.phase === 'done' ? max : Math.min(line.entries, max), max });
          if (line.phase === 'done') {
            setResult(
              line.ok
                ? {
                    ok: true,
                    text: `Verified: ${count(line.entries)} entries up to height ${count(line.height)}, no break.${line.pending ? ` ${line.pending} recent event(s) not sealed yet.` : ''}`,
                  }
                : { ok: false, text: `Break found: ${line.break?.kind} — ${line.break?.message}` },
            );
          }
        }
      }
    } finally {
      await load();
    }
  });
  useReady(l !== null);
  return (
    <>
      <PageHeading>Ledger</PageHeading>
      {l ? (
        <dl class="kv" data-ledger>
          <dt>Height</dt>
          <dd data-field="height">{count(l.height)}</dd>
          <dt>Head</dt>
          <dd>
            <code>{l.head}</code>
          </dd>
          <dt>Blocks</dt>
          <dd>{count(l.blocks)}</dd>
          <dt>Signing key</dt>
          <dd>{l.keyId ? <code>{l.keyId}</code> : '—'}</dd>
          <dt>Last sealed</dt>
          <dd>{fmtTime(l.sealedAt)}</dd>
          <dt>Sealing lag</dt>
          <dd>{`${l.lag.events} event(s), ${l.lag.seconds.toFixed(1)} s`}</dd>
          <dt>Last checkpoint</dt>
          <dd>{l.lastCheckpoint ? `${fmtTime(l.lastCheckpoint.at)} at height ${l.lastCheckpoint.height}` : 'none yet'}</dd>
        </dl>
      ) : (
        <p class="muted">Loading…</p>
      )}
      <Section title="Verification">
        <p>Replays the signed ledger against the event log for this customer: every signature, every link, every event.</p>
        <div class="toolbar">
          <button type="button" class="primary" disabled={verify.busy} onClick={() => void verify.run()}>
            Verify now
          </button>
          <progress max={progress.max} value={progress.value} aria-label="Verification progress" />
        </div>
        <p class="verify-result" role="status">
          {result ? (
            <span
              class={result.ok === true ? 'ok' : result.ok === false ? 'error' : ''}
              data-verify={result.ok === true ? 'ok' : result.ok === false ? 'broken' : undefined}
            >
              {result.text}
            </span>
          ) : null}
        </p>
      </Section>
    </>
  );
}

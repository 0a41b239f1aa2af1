import { useEffect, useState } from 'preact/hooks';
import { Badge, Facts, Host, Id, PageHeading, ScrollBox, ScrollPre, Section, whoText } from '../components/bits.tsx';
import { DataList } from '../components/data-list.tsx';
import { api, tpath } from '../lib/api.ts';
import { count, fmtTime, plural } from '../lib/format.ts';
import { useLive } from '../lib/live.ts';
import { checkScanProof, type ProofCheck, type ScanProof } from '../lib/merkle.ts';
import { type PageProps, useReady } from '../lib/page.ts';
import { setQuery, tenantHref, useWhere } from '../lib/router.ts';
import { LoadError } from './telemetry.tsx';

/** A scan run as `GET …/scans` and `GET …/scans/:runId` give it (projections/scans). */
interface Scan {
  id: string;
  status: 'requested' | 'refused' | 'completed';
  source?: 'agent' | 'scanner';
  agentId?: string;
  hostname?: string | null;
  product?: string;
  itemCount?: number;
  merkleRoot?: string;
  startedAt?: string;
  finishedAt?: string;
  targets?: string[];
  ports?: Array<number | string>;
  aborted?: boolean;
  commandId?: string | null;
  previousRunId?: string | null;
  counts?: { open: number; closed: number; filtered: number; tls: number };
  requestedAt?: string | null;
  requestedBy?: string | null;
  requestedByName?: string | null;
  request?: { targets: string[]; ports: Array<number | string> } | null;
  refusal?: { code: string; message: string; problems: Array<{ target: string; reason: string; detail: string }> } | null;
}

interface CertSummary {
  sha256: string;
  subject: string;
  notAfter: string;
  selfSigned: boolean;
}

/** `GET …/scans/:runId/diff`. */
interface RunDiffView {
  previousRunId: string | null;
  previous: { id: string; startedAt: string | null; itemCount: number | null } | null;
  diff: {
    opened: string[];
    closed: string[];
    findings: { new: string[]; stillOpen: string[]; remediated: string[]; unobserved: string[] };
    certificates?: Array<{ endpoint: string; from: CertSummary | null; to: CertSummary | null }>;
    truncated: boolean;
  } | null;
}

/** One item of a run (`GET …/scans/:runId/items`): id is its index. */
interface ScanItemView {
  id: string;
  index: number;
  target: string;
  address: string;
  port: number;
  state: 'open' | 'closed' | 'filtered';
  banner?: string;
  http?: { status: string; server?: string };
  tls?: {
    versions: string[];
    negotiated: { version: string; cipher: string } | null;
    ciphers: Array<{ version: string; cipher: string; weak?: string }>;
    certificate?: { subject: string; notAfter: string; selfSigned: boolean; keyType: string; keyBits: number };
  };
}

const endpointOf = (address: string, port: number) => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);

/** What an open port said: its banner or HTTP server. */
export function serviceText(x: { banner?: string | null; http?: { status: string; server?: string } | null; httpServer?: string | null }): string {
  const http = x.http?.server ?? x.httpServer ?? null;
  return [http ? `HTTP ${http}` : x.http ? `HTTP (${x.http.status})` : null, x.banner ?? null].filter(Boolean).join(' · ') || '—';
}

export function ScansPage(p: PageProps) {
  if (p.id) return <ScanRun {...p} id={p.id} />;
  return (
    <>
      <PageHeading>Scan runs</PageHeading>
      <DataList<Scan>
        tenant={p.tenant}
        area="scans"
        caption="Scan runs"
        noun={['scan run', 'scan runs']}
        filters={[
          { name: 'status', label: 'Status', options: ['completed', 'requested', 'refused'] },
          { name: 'product', label: 'Product', options: p.tenantDoc!.products },
        ]}
        live={['scan']}
        columns={[
          {
            label: 'Run',
            cell: (s) => (
              <a href={tenantHref(p.tenant, 'scans', s.id)} title={`scan run ${s.id}`}>
                {s.finishedAt ? fmtTime(s.finishedAt) : s.requestedAt ? `requested ${fmtTime(s.requestedAt)}` : s.id}
              </a>
            ),
          },
          { label: 'Status', cell: (s) => <Badge value={s.status} /> },
          {
            label: 'From',
            cell: (s) => (s.agentId && s.agentId !== 'scanner' ? <Host tenant={p.tenant} agentId={s.agentId} hostname={s.hostname} /> : 'the server'),
          },
          { label: 'Targets', cell: (s) => (s.targets ?? s.request?.targets ?? []).join(', ') || '—' },
          { label: 'Items', cell: (s) => (s.itemCount !== undefined ? count(s.itemCount) : '—') },
          { label: 'Open', cell: (s) => (s.counts ? count(s.counts.open) : '—') },
          { label: 'Merkle root', cell: (s) => (s.merkleRoot ? <Id id={s.merkleRoot} n={16} /> : '—') },
        ]}
        empty="No scan runs reported."
      />
    </>
  );
}

function ScanRun(p: PageProps & { id: string }) {
  const where = useWhere();
  const [run, setRun] = useState<Scan | null>(null);
  const [diff, setDiff] = useState<RunDiffView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = async (waitFor?: string) => {
    try {
      const q = waitFor ? { waitFor } : {};
      const r = await api.get<Scan>(tpath(p.tenant, 'scans', p.id), q);
      setDiff(r.status === 'completed' ? await api.get<RunDiffView>(tpath(p.tenant, 'scans', p.id, 'diff'), q) : null);
      setRun(r);
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => {
    setRun(null);
    void load();
  }, [p.id]);
  useLive(['scan'], (c, token) => {
    if (c.some((x) => x.id === p.id || x.type === 'resync')) void load(token);
  });
  const completed = run?.status === 'completed';
  // A completed run's items list marks the page ready; any other run is ready once it is read.
  useReady((run !== null && !completed) || error !== null);
  if (error && !run) return <LoadError err={error} what="this scan run" />;
  if (!run) return <p class="muted">Loading…</p>;
  const proofOf = where.query.get('proof');
  return (
    <>
      <p>
        <a href={tenantHref(p.tenant, 'scans')}>← Scan runs</a>
      </p>
      <PageHeading>
        Scan run of {run.finishedAt ? fmtTime(run.finishedAt) : run.requestedAt ? fmtTime(run.requestedAt) : run.id} <Badge value={run.status} />
        {run.aborted ? <Badge value="aborted" /> : null}
      </PageHeading>
      <Section title="The run">
        <Facts
          items={[
            [
              'Scanned from',
              run.agentId && run.agentId !== 'scanner' ? (
                <Host key="h" tenant={p.tenant} agentId={run.agentId} hostname={run.hostname} />
              ) : (
                "the server's scanner"
              ),
            ],
            ['Targets', (run.targets ?? run.request?.targets ?? []).join(', ') || '—'],
            ['Ports', (run.ports ?? run.request?.ports ?? []).join(', ') || 'the common ports'],
            run.startedAt ? ['Started', fmtTime(run.startedAt)] : null,
            run.finishedAt ? ['Finished', fmtTime(run.finishedAt)] : null,
            run.counts
              ? [
                  'Endpoints',
                  `${count(run.counts.open)} open, ${count(run.counts.closed)} closed, ${count(run.counts.filtered)} filtered, ${count(run.counts.tls)} with TLS`,
                ]
              : null,
            run.merkleRoot ? ['Merkle root', <code key="r">{run.merkleRoot}</code>] : null,
            run.itemCount !== undefined ? ['Items sealed', count(run.itemCount)] : null,
            run.commandId
              ? [
                  'Command',
                  <a key="c" href={tenantHref(p.tenant, 'commands', run.commandId)}>
                    the run-scan command
                  </a>,
                ]
              : null,
            run.requestedBy ? ['Requested by', whoText(run.requestedBy, run.requestedByName)] : null,
          ]}
        />
        {run.refusal ? (
          <div class="error" role="alert">
            <p>
              Refused before anything was sent: {run.refusal.message} <code class="error-code">{run.refusal.code}</code>
            </p>
            <ul>
              {run.refusal.problems.map((x) => (
                <li key={`${x.target}-${x.reason}`}>
                  {x.target}: {x.reason} {x.detail ? `(${x.detail})` : ''}
                </li>
              ))}
            </ul>
          </div>
        ) : null}
      </Section>
      {completed ? <DiffSection tenant={p.tenant} view={diff} /> : null}
      {completed && proofOf !== null && /^(0|[1-9][0-9]{0,5})$/.test(proofOf) ? <ItemProof tenant={p.tenant} runId={run.id} index={Number(proofOf)} /> : null}
      {completed ? (
        <Section title="Items">
          <p class="muted small">Every endpoint of the run in its defined order (target, address, port): the order its Merkle tree is built in.</p>
          <DataList<ScanItemView>
            tenant={p.tenant}
            area={`scans/${run.id}/items`}
            caption="Items of the run"
            noun={['item', 'items']}
            exportable={false}
            filters={[
              { name: 'state', label: 'State', options: ['open', 'closed', 'filtered'] },
              { name: 'port', label: 'Port', kind: 'text' },
              { name: 'address', label: 'Address', kind: 'text' },
            ]}
            columns={[
              { label: '#', cell: (i) => String(i.index) },
              { label: 'Endpoint', cell: (i) => <code>{endpointOf(i.address, i.port)}</code> },
              { label: 'Target', cell: (i) => i.target },
              { label: 'State', cell: (i) => <Badge value={i.state} /> },
              { label: 'Service', cell: (i) => (i.state === 'open' ? <span class="banner">{serviceText(i)}</span> : '—') },
              {
                label: 'TLS',
                cell: (i) =>
                  i.tls ? (
                    <span>
                      {i.tls.versions.join(', ')}
                      {i.tls.certificate ? (
                        <span class="block muted small">
                          {i.tls.certificate.subject}, expires {fmtTime(i.tls.certificate.notAfter)}
                          {i.tls.certificate.selfSigned ? ', self-signed' : ''}
                        </span>
                      ) : null}
                    </span>
                  ) : (
                    '—'
                  ),
              },
              {
                label: 'Proof',
                cell: (i) => (
                  <button type="button" class="link" onClick={() => setQuery({ proof: String(i.index) })} aria-label={`Proof of item ${i.index}`}>
                    proof
                  </button>
                ),
              },
            ]}
            empty="No item matches."
          />
        </Section>
      ) : null}
    </>
  );
}

/** The run against the previous run over the same targets: ports opened and closed, certificates changed, findings. */
function DiffSection({ tenant, view }: { tenant: string; view: RunDiffView | null }) {
  if (!view) return null;
  const d = view.diff;
  return (
    <Section title="Changes since the previous run" label="Changes since the previous run">
      {!view.previous || !d ? (
        <p class="muted" data-diff="baseline">
          The first run over these targets: it is the baseline the next run is compared with.
        </p>
      ) : (
        <div data-diff="compared">
          <p>
            Compared with <a href={tenantHref(tenant, 'scans', view.previous.id)}>the run of {fmtTime(view.previous.startedAt)}</a>.
            {d.truncated ? ' Long lists are cut at 1,000 entries.' : ''}
          </p>
          <div class="diff-grid">
            <EndpointList title="Ports opened" items={d.opened} kind="opened" none="No port opened." />
            <EndpointList title="Ports closed" items={d.closed} kind="closed" none="No port closed." />
          </div>
          <h3>Certificates changed</h3>
          {d.certificates === undefined ? (
            <p class="muted">Not recorded for this run (sealed before certificate changes were kept).</p>
          ) : d.certificates.length === 0 ? (
            <p class="muted">No endpoint open in both runs changed its certificate.</p>
          ) : (
            <ScrollBox label="Certificates changed">
              <table data-table="certificate-changes">
                <thead>
                  <tr>
                    <th scope="col">Endpoint</th>
                    <th scope="col">Before</th>
                    <th scope="col">Now</th>
                  </tr>
                </thead>
                <tbody>
                  {d.certificates.map((c) => (
                    <tr key={c.endpoint}>
                      <td>
                        <code>{c.endpoint}</code>
                      </td>
                      <td>{c.from ? <CertText c={c.from} /> : 'no certificate'}</td>
                      <td>{c.to ? <CertText c={c.to} /> : 'no certificate'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </ScrollBox>
          )}
          <h3>Findings</h3>
          <p>
            {plural(d.findings.new.length, 'new finding')}, {count(d.findings.stillOpen.length)} still open, {count(d.findings.remediated.length)} remediated
            {d.findings.unobserved.length ? `, ${count(d.findings.unobserved.length)} on ports this run did not scan` : ''}.{' '}
            <a href={tenantHref(tenant, 'findings', undefined, { product: 'attack-surface', state: '' })}>Attack-surface findings</a>
          </p>
          {d.findings.new.length ? <KeyList title="New" keys={d.findings.new} /> : null}
          {d.findings.remediated.length ? <KeyList title="Remediated" keys={d.findings.remediated} /> : null}
        </div>
      )}
    </Section>
  );
}

function CertText({ c }: { c: CertSummary }) {
  return (
    <span>
      {c.subject}
      <span class="block muted small">
        expires {fmtTime(c.notAfter)}
        {c.selfSigned ? ', self-signed' : ''} · <Id id={c.sha256} n={16} />
      </span>
    </span>
  );
}

function EndpointList({ title, items, kind, none }: { title: string; items: string[]; kind: string; none: string }) {
  return (
    <div data-ports={kind}>
      <h3>{title}</h3>
      {items.length ? (
        <ul class="plain">
          {items.map((e) => (
            <li key={e}>
              <code>{e}</code>
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted">{none}</p>
      )}
    </div>
  );
}

function KeyList({ title, keys }: { title: string; keys: string[] }) {
  return (
    <details>
      <summary>
        {title} ({count(keys.length)})
      </summary>
      <ul class="plain">
        {keys.map((k) => (
          <li key={k}>
            <code>{k}</code>
          </li>
        ))}
      </ul>
    </details>
  );
}

/** One item's inclusion proof, checked in the browser, with the file `stockade scan verify-proof` checks. */
function ItemProof({ tenant, runId, index }: { tenant: string; runId: string; index: number }) {
  const [proof, setProof] = useState<ScanProof | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [check, setCheck] = useState<ProofCheck | null>(null);
  useEffect(() => {
    let gone = false;
    setProof(null);
    setError(null);
    setCheck(null);
    api
      .get<ScanProof>(tpath(tenant, 'scans', runId, 'items', String(index), 'proof'))
      .then(async (p) => {
        if (gone) return;
        setProof(p);
        const c = await checkScanProof(p);
        if (!gone) setCheck(c);
      })
      .catch((err) => {
        if (!gone) setError(err);
      });
    return () => {
      gone = true;
    };
  }, [tenant, runId, index]);
  const file = `stockade-scan-proof-${runId}-${index}.json`;
  return (
    <Section title={`Proof of item ${index}`}>
      {error ? (
        <LoadError err={error} what={`the proof of item ${index}`} />
      ) : !proof ? (
        <p class="muted">Loading the proof…</p>
      ) : (
        <div class="proof" data-proof-of={index}>
          <p class="verify-result" role="status">
            {!check ? (
              'Checking in this browser…'
            ) : check.ok === true ? (
              <span class="ok" data-proof="verified">
                Verified in this browser: the item hashes to its leaf, and the audit path leads to the Merkle root sealed in the ledger with the run.
              </span>
            ) : check.ok === null ? (
              <span data-proof="unchecked">
                Not checked here: {check.reason}. Download the proof and check it with <code>stockade scan verify-proof</code>.
              </span>
            ) : (
              <span class="error" data-proof="broken">
                The proof does not hold: {check.reason}.
              </span>
            )}
          </p>
          <Facts
            items={[
              ['In the run', `item ${proof.index + 1} of ${count(proof.count)}`],
              ['Leaf hash', <code key="l">{proof.leafHash}</code>],
              ['Merkle root', <code key="r">{proof.merkleRoot}</code>],
              ['Sealed by', `event ${proof.run.type} ${proof.run.id}, ${fmtTime(proof.run.at)}`],
              ['Audit path', `${plural(proof.proof.length, 'hash', 'hashes')}`],
            ]}
          />
          <ScrollPre label="The item" kind="json">
            {JSON.stringify(proof.item, null, 2)}
          </ScrollPre>
          <p>
            <a href={api.href(tpath(tenant, 'scans', runId, 'items', String(index), 'proof'))} download={file} class="button">
              Download the proof (JSON)
            </a>{' '}
            <span class="muted small">
              and check it anywhere with <code>stockade scan verify-proof {file}</code>
            </span>
          </p>
        </div>
      )}
    </Section>
  );
}

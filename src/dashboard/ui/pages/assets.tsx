import { Badge, Host, Id, PageHeading } from '../components/bits.tsx';
import { DataList } from '../components/data-list.tsx';
import { namesOf, useAgents } from '../lib/agents.ts';
import { count, fmtTime } from '../lib/format.ts';
import type { PageProps } from '../lib/page.ts';
import { tenantHref, useWhere } from '../lib/router.ts';
import { serviceText } from './scans.tsx';

/** A scanned address (`GET …/assets/hosts`, projections/assets). */
interface AddressRow {
  id: string;
  address: string;
  targets: string[];
  openPorts: number[];
  lastRunId: string;
  lastSeenAt: string;
}

/** An endpoint as its latest scan saw it (`GET …/assets/ports`). */
interface EndpointRow {
  id: string;
  address: string;
  port: number;
  endpoint: string;
  targets: string[];
  state: 'open' | 'closed' | 'filtered';
  lastRunId: string;
  lastSeenAt: string;
  firstOpenAt: string;
  banner: string | null;
  httpServer: string | null;
  tls: { versions: string[]; negotiated: { version: string; cipher: string } | null; weakCiphers: number } | null;
  certificateSha256: string | null;
}

/** A certificate where it is (or was last) served (`GET …/assets/certificates`), with its status now. */
interface CertificateRow {
  id: string;
  endpoint: string;
  address: string;
  port: number;
  subject: string;
  issuer: string;
  sans: string[];
  keyType: string;
  keyBits: number;
  curve?: string;
  notAfter: string;
  selfSigned: boolean;
  sha256: string;
  served: 'yes' | 'no';
  lastSeenAt: string;
  status: 'expired' | 'expiring' | 'valid';
  daysLeft: number;
}

/** An agent host's listening services (`GET …/assets/services`). */
interface ServicesRow {
  id: string;
  agentId: string;
  hostname: string | null;
  runId: string;
  observedAt: string;
  services: Array<{ protocol: string; address: string; port: number; pid: number | null; exe: string | null; name: string | null; user: string | null }>;
}

const VIEWS: Array<[string, string]> = [
  ['hosts', 'By host'],
  ['ports', 'By port'],
  ['certificates', 'By certificate expiry'],
  ['services', 'Listening services of agent hosts'],
];

/**
 * The attack surface as the scans saw it, in four views over the assets API: hosts with their open
 * ports, endpoints by port, certificates soonest expiry first, and the agents' own listeners. Each
 * view pages with the API's cursors; a host or port links to the endpoints behind it.
 */
export function AssetsPage(p: PageProps) {
  const where = useWhere();
  const agents = useAgents(p.tenant);
  const names = namesOf(agents);
  const view = VIEWS.some(([v]) => v === where.query.get('view')) ? where.query.get('view')! : 'hosts';
  // `state: ''` is kept in the address: any state, not the view's default of open ones.
  const ports = (q: Record<string, string>) => `${tenantHref(p.tenant, 'assets')}?${new URLSearchParams({ view: 'ports', ...q })}`;
  const run = (runId: string, label: string) => <a href={tenantHref(p.tenant, 'scans', runId)}>{label}</a>;
  return (
    <>
      <PageHeading>Assets</PageHeading>
      <p class="muted">
        What this customer exposes, as its scans found it. Targets are declared on the API (<code>PUT …/attack-surface</code>); scans reach nothing else.{' '}
        <a href={tenantHref(p.tenant, 'scans')}>Scan runs</a>
      </p>
      <nav class="tabs" aria-label="Asset views">
        {VIEWS.map(([v, label]) => (
          <a key={v} href={tenantHref(p.tenant, 'assets', undefined, v === 'hosts' ? {} : { view: v })} aria-current={v === view ? 'page' : undefined}>
            {label}
          </a>
        ))}
      </nav>
      {view === 'ports' ? (
        <DataList<EndpointRow>
          key="ports"
          tenant={p.tenant}
          area="assets/ports"
          caption="Endpoints by port"
          noun={['endpoint', 'endpoints']}
          exportable={false}
          defaults={{ state: 'open' }}
          filters={[
            { name: 'port', label: 'Port', kind: 'text' },
            { name: 'address', label: 'Address', kind: 'text' },
            { name: 'state', label: 'State', options: ['open', 'closed', 'filtered'] },
          ]}
          live={['scan']}
          columns={[
            { label: 'Endpoint', cell: (e) => <code>{e.endpoint}</code> },
            { label: 'Port', cell: (e) => <a href={ports({ port: String(e.port), state: '' })}>{e.port}</a> },
            { label: 'State', cell: (e) => <Badge value={e.state} /> },
            { label: 'Service', cell: (e) => <span class="banner">{serviceText(e)}</span> },
            {
              label: 'TLS',
              cell: (e) =>
                e.tls ? (
                  <span>
                    {e.tls.versions.join(', ')}
                    {e.tls.weakCiphers ? <span class="block muted small">{count(e.tls.weakCiphers)} weak cipher suite(s)</span> : null}
                  </span>
                ) : (
                  '—'
                ),
            },
            { label: 'Open since', cell: (e) => fmtTime(e.firstOpenAt) },
            { label: 'Last seen', cell: (e) => run(e.lastRunId, fmtTime(e.lastSeenAt)) },
          ]}
          empty="No endpoint matches."
        />
      ) : view === 'certificates' ? (
        <DataList<CertificateRow>
          key="certificates"
          tenant={p.tenant}
          area="assets/certificates"
          caption="Certificates by expiry"
          noun={['certificate', 'certificates']}
          exportable={false}
          defaults={{ served: 'yes' }}
          filters={[
            {
              name: 'served',
              label: 'Served',
              options: [
                ['yes', 'served now'],
                ['no', 'no longer served'],
              ],
            },
          ]}
          live={['scan']}
          columns={[
            {
              label: 'Expires',
              cell: (c) => (
                <span>
                  {fmtTime(c.notAfter)} <Badge value={c.status} />
                  <span class="block muted small">{c.daysLeft < 0 ? `${count(-c.daysLeft)} days ago` : `in ${count(c.daysLeft)} days`}</span>
                </span>
              ),
            },
            {
              label: 'Subject',
              cell: (c) => (
                <span class="banner">
                  {c.subject}
                  {c.sans.length ? <span class="block muted small">{c.sans.join(', ')}</span> : null}
                </span>
              ),
            },
            { label: 'Issuer', cell: (c) => (c.selfSigned ? <Badge value="self-signed" /> : <span class="banner">{c.issuer}</span>) },
            { label: 'Key', cell: (c) => `${c.keyType} ${c.curve ?? c.keyBits}` },
            { label: 'Served at', cell: (c) => <a href={ports({ address: c.address, port: String(c.port), state: '' })}>{c.endpoint}</a> },
            { label: 'SHA-256', cell: (c) => <Id id={c.sha256} n={16} /> },
          ]}
          empty="No certificate seen."
        />
      ) : view === 'services' ? (
        <DataList<ServicesRow>
          key="services"
          tenant={p.tenant}
          area="assets/services"
          caption="Listening services of agent hosts"
          noun={['host', 'hosts']}
          exportable={false}
          live={['scan']}
          columns={[
            { label: 'Host', cell: (h) => <Host tenant={p.tenant} agentId={h.agentId} hostname={h.hostname ?? names.get(h.agentId)} /> },
            {
              label: 'Listening',
              cell: (h) =>
                h.services.length ? (
                  <ul class="plain">
                    {h.services.map((s) => (
                      <li key={`${s.protocol}-${s.address}-${s.port}`}>
                        <code>{`${s.protocol} ${s.address.includes(':') ? `[${s.address}]` : s.address}:${s.port}`}</code>{' '}
                        <span class="muted small">
                          {s.name ?? s.exe ?? 'unknown process'}
                          {s.pid !== null ? ` (pid ${s.pid})` : ''}
                          {s.user ? `, ${s.user}` : ''}
                        </span>
                      </li>
                    ))}
                  </ul>
                ) : (
                  <span class="muted">nothing</span>
                ),
            },
            { label: 'Reported', cell: (h) => run(h.runId, fmtTime(h.observedAt)) },
          ]}
          empty="No agent host has reported its services with a scan yet."
        />
      ) : (
        <DataList<AddressRow>
          key="hosts"
          tenant={p.tenant}
          area="assets/hosts"
          caption="Hosts the scans found"
          noun={['host', 'hosts']}
          exportable={false}
          live={['scan']}
          columns={[
            { label: 'Address', cell: (a) => <a href={ports({ address: a.address, state: '' })}>{a.address}</a> },
            { label: 'Targets', cell: (a) => a.targets.join(', ') },
            {
              label: 'Open ports',
              cell: (a) =>
                a.openPorts.length ? (
                  <ul class="plain inline-list">
                    {a.openPorts.map((port) => (
                      <li key={port}>
                        <a href={ports({ address: a.address, port: String(port) })}>{port}</a>
                      </li>
                    ))}
                  </ul>
                ) : (
                  <span class="muted">none</span>
                ),
            },
            { label: 'Last scanned', cell: (a) => run(a.lastRunId, fmtTime(a.lastSeenAt)) },
          ]}
          empty="No host scanned yet."
        />
      )}
    </>
  );
}

import { useEffect, useState } from 'preact/hooks';
import { Badge, Facts, Host, PageHeading, ScrollBox, ScrollPre, Section } from '../components/bits.tsx';
import { DataList } from '../components/data-list.tsx';
import { ask } from '../components/dialog.tsx';
import { useAction } from '../lib/act.ts';
import { namesOf, useAgents } from '../lib/agents.ts';
import { api, tpath } from '../lib/api.ts';
import { canDispatch, dispatch } from '../lib/commands.ts';
import { count, fmtTime, plural } from '../lib/format.ts';
import { useLive } from '../lib/live.ts';
import { type PageProps, useReady } from '../lib/page.ts';
import { tenantHref, useWhere } from '../lib/router.ts';
import { type Command, commandColumns } from './agents.tsx';
import { LoadError } from './telemetry.tsx';

interface PendingUpgrade {
  key: string;
  package: string;
  architecture: string;
  from: string;
  to: string;
  security: boolean;
  cves: string[];
  keptBack: boolean;
  availableSince: string;
}

/** A host of `GET …/patches/hosts` (projections/patches, with its compliance now). */
interface PatchHostRow {
  id: string;
  agentId: string;
  hostname: string | null;
  takenAt: string;
  os: { prettyName: string } | null;
  reboot: { required: boolean; packages: string[] };
  packageCount: number;
  compliance: { oldestAgeDays: number | null };
  now: { thresholdDays: number; overThreshold: number; compliant: boolean };
  missingSecurityCount: number;
  pendingCount: number;
}

/** `GET …/patches/hosts/:agentId`: the host's patch view. */
interface PatchHostView extends Omit<PatchHostRow, 'missingSecurityCount' | 'pendingCount'> {
  listsRefreshed: boolean;
  warnings: string[];
  pending: PendingUpgrade[];
  missingSecurity: Array<PendingUpgrade & { ageDays: number; overThreshold: boolean }>;
  installed: Array<{ name: string; version: string; architecture: string; source: string; status: string; held: boolean }> | null;
  openFindings: Array<{ id: string; key: string; title: string; severity: string; lastSeenAt: string }>;
  jobs: JobRow[];
}

/** A package with pending upgrades (`GET …/patches/packages`). */
interface PackageRow {
  id: string;
  package: string;
  hosts: Record<string, { from: string; to: string; security: boolean; availableSince: string; cves: string[]; keptBack: boolean }>;
  hostCount: number;
  securityHosts: number;
  security: 'yes' | 'no';
  cves: string[];
}

/** An install-patches job (`GET …/patches/jobs`); its id is the command's. */
interface JobRow {
  id: string;
  agentId: string;
  commandId: string;
  mode: 'security' | 'packages';
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  succeeded: boolean;
  rebootRequired: boolean;
  packages: number;
}

/** `GET …/patches/jobs/:jobId`: per package the versions and apt's exit status. */
interface JobView extends Omit<JobRow, 'packages'> {
  hostname: string | null;
  listsRefreshed: boolean;
  recordedAt: string;
  results: Array<{
    package: string;
    from: string | null;
    target: string | null;
    to: string | null;
    outcome: string;
    exitCode: number | null;
    output: string;
    outputTruncated: boolean;
    alsoChanged: Array<{ package: string; from: string | null; to: string | null }>;
  }>;
}

interface Summary {
  hosts: number;
  compliant: number;
  needingReboot: number;
  withOverdueUpdates: number;
  missingSecurity: number;
  updatedAt: string | null;
  thresholdDays: number;
}

interface PatchSettings {
  window: { days: string[]; start: string; end: string; timeZone: string } | null;
  thresholdDays: number;
  nextWindowStart: string | null;
}

const VIEWS: Array<[string, string]> = [
  ['hosts', 'Hosts by compliance'],
  ['packages', 'Packages by hosts affected'],
  ['jobs', 'Patch jobs'],
];
const YES_NO: Array<[string, string]> = [
  ['yes', 'yes'],
  ['no', 'no'],
];

function windowText(s: PatchSettings | null): string {
  if (!s) return '';
  if (!s.window) return 'No maintenance window: install-patches runs as soon as the agent gets it.';
  const w = s.window;
  return `Maintenance window ${w.days.join(', ')} ${w.start}–${w.end} (${w.timeZone}); install-patches waits for it${s.nextWindowStart ? `, next from ${fmtTime(s.nextWindowStart)}` : ''}.`;
}

/** Reads the customer's maintenance window and threshold (shown where patches are sent). */
function useSettings(tenant: string): PatchSettings | null {
  const [s, setS] = useState<PatchSettings | null>(null);
  useEffect(() => {
    api
      .get<PatchSettings>(tpath(tenant, 'patch-settings'))
      .then(setS)
      .catch(() => setS(null));
  }, [tenant]);
  return s;
}

function Stat({ label, value, href, name }: { label: string; value: string; href: string; name: string }) {
  return (
    <a class="stat" href={href} data-stat={name}>
      <span class="value">{value}</span>
      <span class="label">{label}</span>
    </a>
  );
}

/** The compliance of a host now, as a word. */
function Compliance({ now, reboot }: { now: PatchHostRow['now']; reboot: boolean }) {
  return (
    <span>
      <Badge value={now.compliant ? 'compliant' : 'non-compliant'} />
      {now.overThreshold ? (
        <>
          {' '}
          <Badge value="overdue" />
        </>
      ) : null}
      {reboot ? (
        <>
          {' '}
          <Badge value="reboot" />
        </>
      ) : null}
    </span>
  );
}

function jobColumns(tenant: string, names: Map<string, string>, host = true) {
  return [
    { label: 'Job', cell: (j: JobRow) => <a href={tenantHref(tenant, 'patch-jobs', j.id)}>{fmtTime(j.finishedAt)}</a> },
    ...(host ? [{ label: 'Host', cell: (j: JobRow) => <Host tenant={tenant} agentId={j.agentId} hostname={names.get(j.agentId)} /> }] : []),
    { label: 'What', cell: (j: JobRow) => `${j.mode === 'security' ? 'all security updates' : 'named packages'}${j.dryRun ? ', dry run' : ''}` },
    { label: 'Outcome', cell: (j: JobRow) => <Badge value={j.succeeded ? 'succeeded' : 'failed'} /> },
    { label: 'Packages', cell: (j: JobRow) => count(j.packages) },
    { label: 'Reboot', cell: (j: JobRow) => (j.rebootRequired ? <Badge value="reboot" /> : 'no') },
  ];
}

/** The Patches page: the customer's compliance, then hosts, packages or jobs; `/patches/<agentId>` is one host. */
export function PatchesPage(p: PageProps) {
  const where = useWhere();
  const agents = useAgents(p.tenant);
  const settings = useSettings(p.tenant);
  const [summary, setSummary] = useState<Summary | null>(null);
  useEffect(() => {
    if (p.id) return;
    api
      .get<Summary>(tpath(p.tenant, 'patches'))
      .then(setSummary)
      .catch(() => setSummary(null));
  }, [p.tenant, p.id]);
  if (p.id) return <PatchHost {...p} id={p.id} settings={settings} />;
  const names = namesOf(agents);
  const view = VIEWS.some(([v]) => v === where.query.get('view')) ? where.query.get('view')! : 'hosts';
  const hosts = (q: Record<string, string>) => tenantHref(p.tenant, 'patches', undefined, q);
  return (
    <>
      <PageHeading>Patches</PageHeading>
      {summary ? (
        <div class="stats" data-patch-summary>
          <Stat label="hosts with an inventory" value={count(summary.hosts)} href={hosts({})} name="hosts" />
          <Stat label="compliant" value={`${count(summary.compliant)} / ${count(summary.hosts)}`} href={hosts({ compliant: 'yes' })} name="compliant" />
          <Stat
            label={`with security updates missing over ${summary.thresholdDays} days`}
            value={count(summary.withOverdueUpdates)}
            href={hosts({ compliant: 'no' })}
            name="overdue"
          />
          <Stat label="needing a reboot" value={count(summary.needingReboot)} href={hosts({ rebootRequired: 'yes' })} name="reboot" />
          <Stat label="missing security updates" value={count(summary.missingSecurity)} href={hosts({ view: 'packages', security: 'yes' })} name="missing" />
        </div>
      ) : null}
      <p class="muted">
        A host is compliant when no security update has been missing for longer than {summary?.thresholdDays ?? settings?.thresholdDays ?? 14} days and no
        reboot is pending. {windowText(settings)}
      </p>
      <nav class="tabs" aria-label="Patch views">
        {VIEWS.map(([v, label]) => (
          <a key={v} href={hosts(v === 'hosts' ? {} : { view: v })} aria-current={v === view ? 'page' : undefined}>
            {label}
          </a>
        ))}
      </nav>
      {view === 'packages' ? (
        <DataList<PackageRow>
          key="packages"
          tenant={p.tenant}
          area="patches/packages"
          caption="Packages by hosts affected"
          noun={['package', 'packages']}
          exportable={false}
          filters={[{ name: 'security', label: 'Security update', options: YES_NO }]}
          columns={[
            {
              label: 'Package',
              cell: (k) => (
                <span>
                  <strong>{k.package}</strong>
                  {k.security === 'yes' ? (
                    <>
                      {' '}
                      <Badge value="security" />
                    </>
                  ) : null}
                </span>
              ),
            },
            { label: 'Hosts affected', cell: (k) => `${count(k.hostCount)}${k.securityHosts ? ` (${count(k.securityHosts)} as a security update)` : ''}` },
            {
              label: 'Hosts and versions',
              cell: (k) => {
                const all = Object.entries(k.hosts);
                return (
                  <ul class="plain">
                    {all.slice(0, 5).map(([agentId, h]) => (
                      <li key={agentId}>
                        <a href={tenantHref(p.tenant, 'patches', agentId)}>{names.get(agentId) ?? agentId}</a>{' '}
                        <span class="muted small">
                          {h.from} → {h.to}
                          {h.keptBack ? ', kept back' : ''}
                        </span>
                      </li>
                    ))}
                    {all.length > 5 ? <li class="muted small">and {count(all.length - 5)} more</li> : null}
                  </ul>
                );
              },
            },
            { label: 'CVEs', cell: (k) => <span class="banner">{k.cves.join(', ') || '—'}</span> },
          ]}
          empty="No package has a pending upgrade."
        />
      ) : view === 'jobs' ? (
        <DataList<JobRow>
          key="jobs"
          tenant={p.tenant}
          area="patches/jobs"
          caption="Patch jobs"
          noun={['job', 'jobs']}
          exportable={false}
          live={['command']}
          columns={jobColumns(p.tenant, names)}
          empty="No install-patches job has reported yet."
        />
      ) : (
        <DataList<PatchHostRow>
          key="hosts"
          tenant={p.tenant}
          area="patches/hosts"
          caption="Hosts by compliance"
          noun={['host', 'hosts']}
          exportable={false}
          filters={[
            { name: 'compliant', label: 'Compliant', options: YES_NO },
            { name: 'rebootRequired', label: 'Reboot needed', options: YES_NO },
          ]}
          live={['command']}
          columns={[
            { label: 'Host', cell: (h) => <a href={tenantHref(p.tenant, 'patches', h.agentId)}>{h.hostname ?? names.get(h.agentId) ?? h.agentId}</a> },
            { label: 'Compliance', cell: (h) => <Compliance now={h.now} reboot={h.reboot.required} /> },
            {
              label: 'Missing security updates',
              cell: (h) =>
                h.missingSecurityCount ? (
                  <span>
                    {count(h.missingSecurityCount)}
                    <span class="block muted small">
                      {count(h.now.overThreshold)} over {h.now.thresholdDays} days
                      {h.compliance.oldestAgeDays !== null ? `, oldest ${plural(h.compliance.oldestAgeDays, 'day')}` : ''}
                    </span>
                  </span>
                ) : (
                  'none'
                ),
            },
            { label: 'Pending upgrades', cell: (h) => count(h.pendingCount) },
            { label: 'Reboot', cell: (h) => (h.reboot.required ? h.reboot.packages.join(', ') || 'required' : 'no') },
            { label: 'System', cell: (h) => h.os?.prettyName ?? '—' },
            { label: 'Inventory', cell: (h) => fmtTime(h.takenAt) },
          ]}
          empty="No host has sent a patch inventory."
        />
      )}
    </>
  );
}

/** One host: compliance, missing security updates by age, pending upgrades, jobs, and install-patches. */
function PatchHost(p: PageProps & { id: string; settings: PatchSettings | null }) {
  const agents = useAgents(p.tenant);
  const [h, setH] = useState<PatchHostView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = async (waitFor?: string) => {
    try {
      setH(await api.get<PatchHostView>(tpath(p.tenant, 'patches', 'hosts', p.id), waitFor ? { waitFor } : {}));
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => {
    void load();
  }, [p.id]);
  // A job's result and the fresh inventory after it come with the command's completion.
  useLive(['command'], (_c, token) => void load(token));
  useReady((h !== null && agents !== null) || error !== null);
  if (error && !h) return <LoadError err={error} what="the patch view of this host" />;
  if (!h || !agents) return <p class="muted">Loading…</p>;
  const names = namesOf(agents);
  const hostname = h.hostname ?? names.get(h.agentId) ?? h.agentId;
  return (
    <>
      <p>
        <a href={tenantHref(p.tenant, 'patches')}>← Patches</a>
      </p>
      <PageHeading>
        {hostname} <Compliance now={h.now} reboot={h.reboot.required} />
      </PageHeading>
      <InstallPatches {...p} agentId={h.agentId} hostname={hostname} missing={h.missingSecurity.map((m) => m.package)} />
      <Section title="Compliance">
        <Facts
          items={[
            ['Host', <Host key="h" tenant={p.tenant} agentId={h.agentId} hostname={hostname} />],
            ['System', h.os?.prettyName ?? '—'],
            ['Inventory taken', `${fmtTime(h.takenAt)}${h.listsRefreshed ? '' : ' (package lists not refreshed)'}`],
            ['Missing security updates', `${count(h.missingSecurity.length)}, ${count(h.now.overThreshold)} over ${h.now.thresholdDays} days`],
            ['Reboot', h.reboot.required ? `required (${h.reboot.packages.join(', ') || 'the system says so'})` : 'not required'],
            ['Installed packages', count(h.packageCount)],
            h.warnings.length ? ['Warnings', h.warnings.join('; ')] : null,
          ]}
        />
        <p class="muted small">{windowText(p.settings)}</p>
      </Section>
      <Section title="Missing security updates">
        {h.missingSecurity.length ? (
          <ScrollBox label="Missing security updates">
            <table data-table="missing-security">
              <thead>
                <tr>
                  {['Package', 'Installed', 'Available', 'Missing for', 'CVEs'].map((c) => (
                    <th scope="col" key={c}>
                      {c}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {h.missingSecurity.map((m) => (
                  <tr key={m.key}>
                    <td>
                      <strong>{m.package}</strong>
                    </td>
                    <td>{m.from}</td>
                    <td>{m.to}</td>
                    <td>
                      {plural(m.ageDays, 'day')} {m.overThreshold ? <Badge value="overdue" /> : null}
                    </td>
                    <td class="banner">{m.cves.join(', ') || '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollBox>
        ) : (
          <p class="empty">None: every security update the host's archives offer is installed.</p>
        )}
      </Section>
      <Section title="Pending upgrades">
        {h.pending.length ? (
          <ScrollBox label="Pending upgrades">
            <table data-table="pending">
              <thead>
                <tr>
                  {['Package', 'Installed', 'Available', 'Security', 'Known since'].map((c) => (
                    <th scope="col" key={c}>
                      {c}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {h.pending.map((m) => (
                  <tr key={m.key}>
                    <td>
                      {m.package}
                      {m.keptBack ? <span class="muted small"> (kept back)</span> : null}
                    </td>
                    <td>{m.from}</td>
                    <td>{m.to}</td>
                    <td>{m.security ? <Badge value="security" /> : 'no'}</td>
                    <td>{fmtTime(m.availableSince)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollBox>
        ) : (
          <p class="empty">No pending upgrade.</p>
        )}
      </Section>
      <Section title="Patch jobs">
        {h.jobs.length ? (
          <ScrollBox label="Patch jobs of this host">
            <table data-table="host-jobs">
              <thead>
                <tr>
                  {jobColumns(p.tenant, names, false).map((c) => (
                    <th scope="col" key={c.label}>
                      {c.label}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {h.jobs.map((j) => (
                  <tr key={j.id}>
                    {jobColumns(p.tenant, names, false).map((c) => (
                      <td key={c.label}>{c.cell(j)}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollBox>
        ) : (
          <p class="empty">No install-patches job has reported from this host.</p>
        )}
      </Section>
      <Section title="Commands sent to this host">
        <DataList<Command>
          tenant={p.tenant}
          area="commands"
          caption="Commands sent to this host"
          noun={['command', 'commands']}
          inAddress={false}
          exportable={false}
          pageSize={25}
          fixed={{ agentId: h.agentId }}
          live={['command']}
          columns={(refresh) => commandColumns({ tenant: p.tenant, canWrite: p.canWrite, host: false, refresh })}
          empty="No command sent to this host."
        />
      </Section>
      {h.openFindings.length ? (
        <Section title="Open patch findings">
          <ul class="plain">
            {h.openFindings.map((f) => (
              <li key={f.id}>
                <Badge value={f.severity} /> {f.title}
              </li>
            ))}
          </ul>
          <p>
            <a href={tenantHref(p.tenant, 'findings', undefined, { product: 'patch' })}>Patch findings</a>
          </p>
        </Section>
      ) : null}
      {h.installed ? (
        <Section title="Installed packages">
          <details>
            <summary>{plural(h.installed.length, 'package')}</summary>
            <ScrollBox label="Installed packages">
              <table data-table="installed">
                <thead>
                  <tr>
                    {['Package', 'Version', 'Architecture', 'Held'].map((c) => (
                      <th scope="col" key={c}>
                        {c}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {h.installed.map((x) => (
                    <tr key={`${x.name}:${x.architecture}`}>
                      <td>{x.name}</td>
                      <td>{x.version}</td>
                      <td>{x.architecture}</td>
                      <td>{x.held ? 'held' : ''}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </ScrollBox>
          </details>
        </Section>
      ) : null}
    </>
  );
}

const PACKAGE_RE = /^[a-z0-9][a-z0-9+.-]*$/;

/**
 * install-patches from a host's patch view: every security update, or named packages; a dry run
 * unless unticked. Sent through the command API, so the four-eyes policy may turn it into a request.
 */
function InstallPatches(p: PageProps & { agentId: string; hostname: string; missing: string[] }) {
  const dryRunField = { name: 'dryRun', label: 'Dry run: simulate with apt, change nothing', kind: 'checkbox' as const, value: true };
  const security = useAction(async () => {
    const v = await ask(`Install the security updates on ${p.hostname}?`, [dryRunField], {
      text: `Every pending security update (${plural(p.missing.length, 'package')} missing now). The agent runs apt non-interactively within the maintenance window, then sends the result per package and a fresh inventory.`,
      confirm: 'Send',
    });
    if (!v) return;
    await dispatch(p.tenant, p.agentId, 'install-patches', { mode: 'security', dryRun: v.dryRun === true }, `install-patches on ${p.hostname}`);
  });
  const named = useAction(async () => {
    const v = await ask(
      `Install packages on ${p.hostname}?`,
      [
        {
          name: 'packages',
          label: 'Packages',
          required: true,
          maxLength: 4000,
          value: p.missing.join(' '),
          hint: 'Names separated by spaces or commas; installed packages only, upgraded to the version the agent sees.',
        },
        dryRunField,
      ],
      { confirm: 'Send' },
    );
    if (!v) return;
    const packages = [
      ...new Set(
        String(v.packages)
          .split(/[\s,]+/)
          .filter(Boolean),
      ),
    ];
    const bad = packages.filter((x) => !PACKAGE_RE.test(x));
    if (bad.length || packages.length === 0) throw new Error(`not package names: ${bad.join(', ') || 'none given'}`);
    await dispatch(p.tenant, p.agentId, 'install-patches', { mode: 'packages', packages, dryRun: v.dryRun === true }, `install-patches on ${p.hostname}`);
  });
  if (!canDispatch(p, 'install-patches')) return null;
  return (
    <div class="toolbar">
      <button type="button" disabled={security.busy} onClick={() => void security.run()}>
        Install security updates…
      </button>
      <button type="button" disabled={named.busy} onClick={() => void named.run()}>
        Install packages…
      </button>
      <a href={tenantHref(p.tenant, 'patches', undefined, { view: 'jobs' })}>Every patch job</a>
    </div>
  );
}

/** A patch job's result (`/patch-jobs/<id>`, the install-patches command's id); the jobs list without one. */
export function PatchJobsPage(p: PageProps) {
  const agents = useAgents(p.tenant);
  if (p.id) return <PatchJob {...p} id={p.id} />;
  return (
    <>
      <PageHeading>Patch jobs</PageHeading>
      <DataList<JobRow>
        tenant={p.tenant}
        area="patches/jobs"
        caption="Patch jobs"
        noun={['job', 'jobs']}
        exportable={false}
        live={['command']}
        columns={jobColumns(p.tenant, namesOf(agents))}
        empty="No install-patches job has reported yet."
      />
    </>
  );
}

function PatchJob(p: PageProps & { id: string }) {
  const [j, setJ] = useState<JobView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = async (waitFor?: string) => {
    try {
      setJ(await api.get<JobView>(tpath(p.tenant, 'patches', 'jobs', p.id), waitFor ? { waitFor } : {}));
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => {
    void load();
  }, [p.id]);
  useLive(['command'], (c, token) => {
    if (c.some((x) => x.id === p.id || x.type === 'resync')) void load(token);
  });
  useReady(j !== null || error !== null);
  if (error && !j) return <LoadError err={error} what="this patch job (it has a result once the agent reported it)" />;
  if (!j) return <p class="muted">Loading…</p>;
  const hostname = j.hostname ?? j.agentId;
  return (
    <>
      <p>
        <a href={tenantHref(p.tenant, 'patches', j.agentId)}>← Patches of {hostname}</a>
      </p>
      <PageHeading>
        install-patches on {hostname} <Badge value={j.succeeded ? 'succeeded' : 'failed'} />
        {j.dryRun ? (
          <>
            {' '}
            <Badge value="dry-run" />
          </>
        ) : null}
      </PageHeading>
      <Facts
        items={[
          ['Host', <Host key="h" tenant={p.tenant} agentId={j.agentId} hostname={hostname} />],
          ['What', j.mode === 'security' ? 'all security updates' : 'named packages'],
          ['Dry run', j.dryRun ? 'yes: apt simulated, nothing changed' : 'no'],
          ['Ran', `${fmtTime(j.startedAt)} – ${fmtTime(j.finishedAt)}`],
          ['Package lists', j.listsRefreshed ? 'refreshed first' : 'not refreshed'],
          ['Reboot', j.rebootRequired ? 'required afterwards' : 'not required'],
          [
            'Command',
            <a key="c" href={tenantHref(p.tenant, 'commands', j.commandId)}>
              the install-patches command
            </a>,
          ],
        ]}
      />
      <Section title="Per package">
        <ScrollBox label="Per package">
          <table data-table="job-results">
            <thead>
              <tr>
                {['Package', 'From', 'To', 'Outcome', 'Exit status', 'Output'].map((c) => (
                  <th scope="col" key={c}>
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {j.results.map((r) => (
                <tr key={r.package} data-package={r.package}>
                  <td>
                    <strong>{r.package}</strong>
                    {r.alsoChanged.length ? (
                      <span class="block muted small">
                        also changed: {r.alsoChanged.map((a) => `${a.package} ${a.from ?? '-'} → ${a.to ?? '-'}`).join(', ')}
                      </span>
                    ) : null}
                  </td>
                  <td>{r.from ?? '—'}</td>
                  <td>
                    {r.to ?? '—'}
                    {r.target && r.target !== r.to ? <span class="block muted small">offered {r.target}</span> : null}
                  </td>
                  <td>
                    <Badge value={r.outcome} />
                  </td>
                  <td>{r.exitCode ?? '—'}</td>
                  <td>
                    {r.output ? (
                      <details>
                        <summary>apt's output{r.outputTruncated ? ' (its end)' : ''}</summary>
                        <ScrollPre label={`Output for ${r.package}`} kind="output">
                          {r.output}
                        </ScrollPre>
                      </details>
                    ) : (
                      '—'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollBox>
      </Section>
    </>
  );
}

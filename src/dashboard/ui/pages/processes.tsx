import { useEffect, useState } from 'preact/hooks';
import { Facts, Host, Id, PageHeading, Section } from '../components/bits.tsx';
import { DataList } from '../components/data-list.tsx';
import { ask } from '../components/dialog.tsx';
import { useAction } from '../lib/act.ts';
import { hostOptions, namesOf, useAgents } from '../lib/agents.ts';
import { api, tpath } from '../lib/api.ts';
import { canDispatch, dispatch } from '../lib/commands.ts';
import { fmtTime } from '../lib/format.ts';
import { type PageProps, useReady } from '../lib/page.ts';
import { tenantHref } from '../lib/router.ts';
import { HashLink, LoadError, ProofLink, ProofView } from './telemetry.tsx';

/** A process start as `GET …/processes` gives it (src/agent/telemetry.ts, projections/processes). */
export interface Process {
  id: string;
  /** The telemetry item, `<batch>:<index>`: what its proof is asked for. */
  itemId: string;
  agentId: string;
  pid: number;
  ppid: number;
  uid: number;
  user: string;
  exe: string;
  name: string;
  sha256: string | null;
  cmdline: string;
  cmdlineTruncated: boolean;
  startedAt: string;
  cwd: string | null;
  parentExe: string | null;
  parentName: string | null;
  parentCmdline: string | null;
  seenAt: string;
  batchId: string | null;
}

/** A connection or listener as `GET …/connections` gives it. */
interface Connection {
  id: string;
  itemId: string;
  agentId: string;
  protocol: string;
  state: string;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  pid: number | null;
  exe: string | null;
  user: string | null;
  seenAt: string;
}

/** A long command line, cut for the table; whole on its own page. */
function Cmdline({ text, truncated }: { text: string; truncated?: boolean }) {
  const cut = text.length > 160 ? `${text.slice(0, 160)}…` : text;
  return (
    <code class="cmdline" title={text}>
      {cut}
      {truncated ? <span class="muted small"> (cut by the agent)</span> : null}
    </code>
  );
}

export function ProcessesPage(p: PageProps) {
  const agents = useAgents(p.tenant);
  if (p.id) return <ProcessDetail {...p} id={p.id} />;
  const names = namesOf(agents);
  const list = (q: Record<string, string>) => tenantHref(p.tenant, 'processes', undefined, q);
  return (
    <>
      <PageHeading>Processes</PageHeading>
      <p class="muted">
        Every process the agents saw start, in the order Stockade received them, last received first: a host that was offline sends its backlog late, so its
        processes can come above newer ones of other hosts (<strong>Started</strong> is when each began). Search a host, a name, an executable's SHA-256 or a
        user; each row links to the proof that it is what the agent sent.
      </p>
      <DataList<Process>
        tenant={p.tenant}
        area="processes"
        caption="Processes"
        noun={['process', 'processes']}
        exportable={false}
        filters={[
          { name: 'agentId', label: 'Host', options: hostOptions(agents) },
          { name: 'name', label: 'Name', kind: 'text' },
          { name: 'sha256', label: 'SHA-256', kind: 'text' },
          { name: 'user', label: 'User', kind: 'text' },
          { name: 'exe', label: 'Executable', kind: 'text' },
          { name: 'pid', label: 'PID', kind: 'text' },
        ]}
        live={['telemetry']}
        columns={[
          { label: 'Started', cell: (x) => <time dateTime={x.startedAt}>{fmtTime(x.startedAt)}</time> },
          { label: 'Received', cell: (x) => <time dateTime={x.seenAt}>{fmtTime(x.seenAt)}</time> },
          { label: 'Host', cell: (x) => <Host tenant={p.tenant} agentId={x.agentId} hostname={names.get(x.agentId)} /> },
          {
            label: 'Process',
            cell: (x) => (
              <span>
                <a href={tenantHref(p.tenant, 'processes', x.id)}>{x.name}</a> <span class="muted small">pid {x.pid}</span>
              </span>
            ),
          },
          { label: 'User', cell: (x) => <a href={list({ user: x.user })}>{x.user}</a> },
          {
            label: 'Executable',
            cell: (x) => (
              <span>
                <code class="path">{x.exe}</code>
                {x.sha256 ? (
                  <span class="block">
                    <HashLink href={list({ sha256: x.sha256 })} sha256={x.sha256} />
                  </span>
                ) : null}
              </span>
            ),
          },
          { label: 'Command line', cell: (x) => <Cmdline text={x.cmdline} truncated={x.cmdlineTruncated} /> },
          { label: 'Parent', cell: (x) => (x.parentName ? `${x.parentName} (${x.ppid})` : String(x.ppid)) },
          { label: 'Proof', cell: (x) => <ProofLink tenant={p.tenant} itemId={x.itemId} /> },
        ]}
        empty="No process matches."
      />
    </>
  );
}

function ProcessDetail(p: PageProps & { id: string }) {
  const agents = useAgents(p.tenant);
  const [x, setX] = useState<Process | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api
      .get<Process>(tpath(p.tenant, 'processes', p.id))
      .then(setX)
      .catch(setError);
  }, [p.id]);
  useReady((x !== null && agents !== null) || error !== null);
  if (error) return <LoadError err={error} what="this process" />;
  if (!x || !agents) return <p class="muted">Loading…</p>;
  const names = namesOf(agents);
  const list = (q: Record<string, string>) => tenantHref(p.tenant, 'processes', undefined, q);
  return (
    <>
      <p>
        <a href={list({ agentId: x.agentId })}>← Processes on {names.get(x.agentId) ?? 'this host'}</a>
      </p>
      <PageHeading>
        {x.name} <span class="muted small">pid {x.pid}</span>
      </PageHeading>
      <ProcessActions {...p} process={x} hostname={names.get(x.agentId) ?? x.agentId} />
      <Section title="What the agent saw">
        <Facts
          items={[
            ['Host', <Host key="h" tenant={p.tenant} agentId={x.agentId} hostname={names.get(x.agentId)} />],
            ['Started', fmtTime(x.startedAt)],
            ['User', `${x.user} (uid ${x.uid})`],
            ['Executable', <code key="e">{x.exe}</code>],
            ['SHA-256', x.sha256 ? <a href={list({ sha256: x.sha256 })}>{x.sha256}</a> : 'not hashed (too large, or unreadable)'],
            ['Command line', <Cmdline key="c" text={x.cmdline} truncated={x.cmdlineTruncated} />],
            ['Working folder', x.cwd ?? '—'],
            ['Parent', x.parentName ? `${x.parentName} (pid ${x.ppid})${x.parentExe ? `, ${x.parentExe}` : ''}` : `pid ${x.ppid}`],
            x.parentCmdline ? ['Parent command line', <Cmdline key="pc" text={x.parentCmdline} />] : null,
            ['Reported', fmtTime(x.seenAt)],
            ['Telemetry item', <ProofLink key="s" tenant={p.tenant} itemId={x.itemId} label={x.itemId} />],
            ['Process id', <Id key="i" id={x.id} n={30} />],
          ]}
        />
        <p>
          <a href={tenantHref(p.tenant, 'connections', undefined, { agentId: x.agentId, pid: String(x.pid) })}>Connections of this process</a>
          {x.sha256 ? (
            <>
              {' · '}
              <a href={list({ sha256: x.sha256 })}>Every process of this executable</a>
            </>
          ) : null}
        </p>
      </Section>
      <Section title="Proof">
        <ProofView tenant={p.tenant} itemId={x.itemId} names={names} />
      </Section>
    </>
  );
}

/** Kill the process (only while its executable still has this hash), or collect its executable as evidence. */
function ProcessActions(p: PageProps & { process: Process; hostname: string }) {
  const x = p.process;
  const kill = useAction(async () => {
    const v = await ask(
      `Kill ${x.name} (pid ${x.pid}) on ${p.hostname}?`,
      [{ name: 'reason', label: 'Reason', maxLength: 500, value: 'ended by an operator' }],
      {
        text: x.sha256
          ? 'The agent ends the process only if the pid still runs this executable (same SHA-256): a pid reused by another program is left alone.'
          : 'This process has no SHA-256, so the agent cannot check that the pid was not reused.',
        confirm: 'Kill process',
        danger: true,
      },
    );
    if (!v) return;
    await dispatch(p.tenant, x.agentId, 'kill-process', { pid: x.pid, reason: v.reason, ...(x.sha256 ? { sha256: x.sha256 } : {}) }, `Kill ${x.name}`);
  });
  const collect = useAction(async () => {
    const v = await ask(`Collect ${x.exe} as evidence?`, [], {
      text: 'The agent uploads the file; its SHA-256 is sealed in the ledger and its chain of custody starts.',
      confirm: 'Collect',
    });
    if (!v) return;
    await dispatch(p.tenant, x.agentId, 'collect-evidence', { path: x.exe }, `Collect ${x.exe}`);
  });
  const canKill = canDispatch(p, 'kill-process') && x.pid >= 2;
  const canCollect = canDispatch(p, 'collect-evidence');
  if (!canKill && !canCollect) return null;
  return (
    <div class="toolbar">
      {canKill ? (
        <button type="button" class="danger" disabled={kill.busy} onClick={() => void kill.run()}>
          Kill process
        </button>
      ) : null}
      {canCollect ? (
        <button type="button" disabled={collect.busy} onClick={() => void collect.run()}>
          Collect the executable
        </button>
      ) : null}
      <a href={tenantHref(p.tenant, 'commands', undefined, {})}>Commands and their results</a>
    </div>
  );
}

export function ConnectionsPage(p: PageProps) {
  const agents = useAgents(p.tenant);
  const names = namesOf(agents);
  const list = (q: Record<string, string>) => tenantHref(p.tenant, 'connections', undefined, q);
  return (
    <>
      <PageHeading>Connections</PageHeading>
      <p class="muted">Connections and listeners the agents saw for the first time, with the process that held them, newest first.</p>
      <DataList<Connection>
        tenant={p.tenant}
        area="connections"
        caption="Connections"
        noun={['connection', 'connections']}
        exportable={false}
        filters={[
          { name: 'agentId', label: 'Host', options: hostOptions(agents) },
          { name: 'state', label: 'State', options: ['LISTEN', 'ESTABLISHED', 'SYN_SENT', 'TIME_WAIT', 'CLOSE_WAIT', 'UNCONN'] },
          { name: 'remoteAddress', label: 'Remote address', kind: 'text' },
          { name: 'remotePort', label: 'Remote port', kind: 'text' },
          { name: 'exe', label: 'Executable', kind: 'text' },
          { name: 'user', label: 'User', kind: 'text' },
          { name: 'pid', label: 'PID', kind: 'text' },
        ]}
        live={['telemetry']}
        columns={[
          { label: 'Seen', cell: (c) => <time dateTime={c.seenAt}>{fmtTime(c.seenAt)}</time> },
          { label: 'Host', cell: (c) => <Host tenant={p.tenant} agentId={c.agentId} hostname={names.get(c.agentId)} /> },
          { label: 'Protocol', cell: (c) => c.protocol },
          { label: 'State', cell: (c) => c.state },
          { label: 'Local', cell: (c) => <code>{`${c.localAddress}:${c.localPort}`}</code> },
          {
            label: 'Remote',
            cell: (c) => (
              <a href={list({ remoteAddress: c.remoteAddress })}>
                <code>{`${c.remoteAddress}:${c.remotePort}`}</code>
              </a>
            ),
          },
          {
            label: 'Process',
            cell: (c) =>
              c.pid !== null ? (
                <a href={tenantHref(p.tenant, 'processes', undefined, { agentId: c.agentId, pid: String(c.pid) })}>
                  {c.exe ?? 'pid'} {c.pid}
                  {c.user ? ` (${c.user})` : ''}
                </a>
              ) : (
                '—'
              ),
          },
          { label: 'Proof', cell: (c) => <ProofLink tenant={p.tenant} itemId={c.itemId} /> },
        ]}
        empty="No connection matches."
      />
    </>
  );
}

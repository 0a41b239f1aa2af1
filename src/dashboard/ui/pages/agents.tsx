import { useEffect, useState } from 'preact/hooks';
import { Ago, Badge, Facts, Host, Id, PageHeading, ScrollPre, Section, Who } from '../components/bits.tsx';
import { ArgsFields, argsOf } from '../components/command-form.tsx';
import { DataList } from '../components/data-list.tsx';
import { ask } from '../components/dialog.tsx';
import { useAction } from '../lib/act.ts';
import { api, tpath } from '../lib/api.ts';
import { fmtTime } from '../lib/format.ts';
import { useLive } from '../lib/live.ts';
import { notify } from '../lib/notices.tsx';
import { type PageProps, useReady } from '../lib/page.ts';
import { tenantHref } from '../lib/router.ts';
import { type Alert, alertColumns } from './alerts.tsx';
import { isPending, sentForApproval } from './approvals.tsx';
import { type Finding, findingColumns } from './findings.tsx';
import { AgentCollection } from './collection.tsx';
import { HostSection, IsolationBadge, IsolationButton, useIsolated } from './hosts.tsx';

export interface Agent {
  id: string;
  hostname: string;
  os: string;
  agentVersion: string;
  status: 'active' | 'revoked';
  connectivity: 'online' | 'offline' | 'revoked';
  enrolledAt: string;
  lastSeenAt: string;
  inventory: Record<string, unknown> | null;
  certNotAfter: string;
  revokedAt: string | null;
  revokedBy: string | null;
  revokedByName?: string | null;
  revokedByEmail?: string;
  revokeReason: string | null;
}

export interface Command {
  id: string;
  agentId: string;
  hostname?: string | null;
  action: string;
  args: Record<string, unknown>;
  status: 'pending' | 'delivered' | 'completed' | 'cancelled';
  dispatchedAt: string;
  dispatchedBy: string;
  dispatchedByName?: string | null;
  dispatchedByEmail?: string;
  outcome: string | null;
  output: string | null;
  cancelledBy?: string | null;
  cancelledByName?: string | null;
  cancelledByEmail?: string;
  cancelReason?: string | null;
}

function RevokeButton({ tenant, agent, after, label }: { tenant: string; agent: Agent; after: (token: string) => void; label: string }) {
  const revoke = useAction(async () => {
    const v = await ask(`Revoke ${agent.hostname}?`, [{ name: 'reason', label: 'Reason', required: true, maxLength: 500, value: 'revoked by an operator' }], {
      text: 'The agent is refused at once, even with a valid certificate. This cannot be undone; it would have to enroll again.',
      confirm: 'Revoke',
      danger: true,
    });
    if (!v) return;
    const out = await api.post<{ consistencyToken: string }>(tpath(tenant, 'agents', agent.id, 'revoke'), { reason: v.reason });
    notify(`${agent.hostname} revoked`);
    after(out.consistencyToken);
  });
  return (
    <button type="button" class="danger" disabled={revoke.busy} onClick={() => void revoke.run()}>
      {label}
    </button>
  );
}

export function AgentsPage(p: PageProps) {
  if (p.id) return <AgentDetail {...p} id={p.id} />;
  return <AgentList {...p} />;
}

function AgentList(p: PageProps) {
  // Isolation is EDR's: the column is there while EDR is on, or while a host is still isolated.
  const isolated = useIsolated(p.tenant);
  const network = (p.tenantDoc?.products.includes('edr') ?? false) || (isolated?.size ?? 0) > 0;
  return (
    <>
      <PageHeading>Agents</PageHeading>
      <DataList<Agent>
        tenant={p.tenant}
        area="agents"
        caption="Agents"
        noun={['agent', 'agents']}
        filters={[
          { name: 'status', label: 'Status', options: ['active', 'revoked'] },
          { name: 'q', label: 'Search', kind: 'search' },
        ]}
        sorts={[
          ['enrolledAt', 'Newest first'],
          ['hostname', 'Host name'],
        ]}
        live={['agent']}
        columns={(refresh) => [
          { label: 'Host', cell: (a) => <Host tenant={p.tenant} agentId={a.id} hostname={a.hostname} /> },
          { label: 'Status', cell: (a) => <Badge value={a.connectivity} /> },
          { label: 'Last seen', cell: (a) => <Ago at={a.lastSeenAt} /> },
          { label: 'OS', cell: (a) => a.os },
          { label: 'Version', cell: (a) => a.agentVersion },
          { label: 'Agent id', cell: (a) => <Id id={a.id} n={14} /> },
          ...(network
            ? [
                {
                  label: 'Network',
                  cell: (a: Agent) => (
                    <span class="row-actions" data-network={isolated?.has(a.id) ? 'isolated' : 'not-isolated'}>
                      <IsolationBadge host={isolated?.get(a.id)} />
                      {a.status === 'active' ? <IsolationButton page={p} agentId={a.id} hostname={a.hostname} isolated={isolated?.has(a.id) ?? false} /> : null}
                    </span>
                  ),
                },
              ]
            : []),
          ...(p.canWrite
            ? [
                {
                  label: 'Actions',
                  cell: (a: Agent) => (a.status === 'active' ? <RevokeButton tenant={p.tenant} agent={a} after={refresh} label="Revoke" /> : ''),
                },
              ]
            : []),
        ]}
        empty="No agents enrolled yet."
      />
    </>
  );
}

function AgentDetail(p: PageProps & { id: string }) {
  const [a, setA] = useState<Agent | null>(null);
  const [missing, setMissing] = useState(false);
  const load = async (waitFor?: string) => {
    try {
      setA(await api.get<Agent>(tpath(p.tenant, 'agents', p.id), waitFor ? { waitFor } : {}));
    } catch {
      setMissing(true);
    }
  };
  useEffect(() => {
    void load();
  }, [p.id]);
  useLive(['agent'], (changes, token) => {
    if (changes.some((c) => c.id === p.id || c.type === 'resync')) void load(token);
  });
  useReady(a !== null || missing);
  if (missing) return <PageHeading>Agent not found</PageHeading>;
  if (!a) return <p class="muted">Loading…</p>;
  const doc = p.tenantDoc!;
  const findingsOn = (p.session.areaProducts.findings ?? []).some((x) => doc.products.includes(x));
  return (
    <>
      <p>
        <a href={tenantHref(p.tenant, 'agents')}>← Agents</a>
      </p>
      <PageHeading>
        {a.hostname} <Badge value={a.connectivity} />
      </PageHeading>
      <Facts
        items={[
          ['Agent id', <code key="id">{a.id}</code>],
          ['OS', a.os],
          ['Version', a.agentVersion],
          ['Enrolled', fmtTime(a.enrolledAt)],
          ['Last seen', `${fmtTime(a.lastSeenAt)}`],
          ['Certificate until', fmtTime(a.certNotAfter)],
          a.status === 'revoked'
            ? [
                'Revoked',
                <>
                  {`${fmtTime(a.revokedAt)} by `}
                  <Who raw={a.revokedBy} name={a.revokedByName} email={a.revokedByEmail} />
                  {`: ${a.revokeReason}`}
                </>,
              ]
            : null,
        ]}
      />
      {p.canWrite && a.status === 'active' ? (
        <p>
          <RevokeButton tenant={p.tenant} agent={a} after={(t) => void load(t)} label="Revoke this agent" />
        </p>
      ) : null}
      <HostSection {...p} agentId={a.id} hostname={a.hostname} active={a.status === 'active'} />
      <Respond {...p} agent={a} />
      <Section title="Alerts">
        <DataList<Alert>
          tenant={p.tenant}
          area="alerts"
          caption={`Alerts on ${a.hostname}`}
          noun={['alert', 'alerts']}
          fixed={{ agentId: a.id }}
          inAddress={false}
          pageSize={25}
          exportable={false}
          filters={[{ name: 'status', label: 'Alert status', options: ['open', 'acknowledged', 'resolved'] }]}
          live={['alert']}
          columns={alertColumns({ tenant: p.tenant, canWrite: p.canWrite, host: false })}
          empty="No alerts on this host."
        />
      </Section>
      {findingsOn ? (
        <Section title="Findings">
          <DataList<Finding>
            tenant={p.tenant}
            area="findings"
            caption={`Findings on ${a.hostname}`}
            noun={['finding', 'findings']}
            fixed={{ agentId: a.id }}
            inAddress={false}
            pageSize={25}
            exportable={false}
            live={['finding']}
            columns={findingColumns({ tenant: p.tenant, canWrite: false, host: false })}
            empty="No findings on this host."
          />
        </Section>
      ) : null}
      <Section title="Inventory">
        {a.inventory ? (
          <ScrollPre label="Inventory" kind="json">
            {JSON.stringify(a.inventory, null, 2)}
          </ScrollPre>
        ) : (
          <p class="empty">No inventory reported yet.</p>
        )}
      </Section>
      <AgentCollection {...p} agentId={a.id} hostname={a.hostname} />
    </>
  );
}

/** Commands to this agent: the form per action, and the list with results and cancel. */
function Respond(p: PageProps & { agent: Agent }) {
  const doc = p.tenantDoc!;
  const actions = Object.entries(p.session.actions)
    .filter(([, product]) => product === null || doc.products.includes(product))
    .map(([k]) => k);
  const [action, setAction] = useState('ping');
  const schema = p.session.actionArgs[action] ?? {};
  const [listKey, setListKey] = useState(0);
  const [held, setHeld] = useState<{ action: string; expiresAt: string } | null>(null);
  const dispatch = useAction(async (form: HTMLFormElement) => {
    const out = await api.post<{ consistencyToken: string }>(tpath(p.tenant, 'agents', p.agent.id, 'commands'), { action, args: argsOf(form, schema) });
    // The customer's four-eyes policy gates this action: it waits for a second person.
    if (isPending(out)) {
      setHeld({ action, expiresAt: out.expiresAt });
      return sentForApproval(`${action} on ${p.agent.hostname}`, out);
    }
    setHeld(null);
    await api.get(tpath(p.tenant, 'commands'), { agentId: p.agent.id, limit: 1, waitFor: out.consistencyToken });
    setListKey((k) => k + 1);
    notify(`${action} dispatched`);
  });
  const why = doc.suspended
    ? 'This customer is suspended: nothing can be sent to its agents until it is resumed.'
    : p.agent.status === 'revoked'
      ? 'This agent is revoked and takes no commands.'
      : null;
  return (
    <section class="card" id="respond" aria-label="Commands">
      <h2>Commands</h2>
      {p.canWrite && why ? <p class="notice">{why}</p> : null}
      {p.canWrite && !why ? (
        <form
          class="command-form"
          aria-label="Dispatch a command"
          onSubmit={(ev) => {
            ev.preventDefault();
            const form = ev.currentTarget as HTMLFormElement;
            if (form.reportValidity()) void dispatch.run(form);
          }}
        >
          <div class="field">
            <label for="cmd-action">Command</label>
            <select id="cmd-action" name="action" value={action} onChange={(ev) => setAction((ev.currentTarget as HTMLSelectElement).value)}>
              {actions.map((x) => (
                <option key={x} value={x}>
                  {x}
                </option>
              ))}
            </select>
          </div>
          <fieldset key={action}>
            <legend>Arguments of {action}</legend>
            <ArgsFields action={action} schema={schema} />
          </fieldset>
          <button type="submit" class="primary" disabled={dispatch.busy}>
            Dispatch
          </button>
        </form>
      ) : null}
      <div aria-live="polite">
        {held ? (
          <p class="notice" data-sent-for-approval>
            {held.action} was sent for approval: this customer's four-eyes policy needs a second person to approve it before {fmtTime(held.expiresAt)}.{' '}
            <a href={tenantHref(p.tenant, 'approvals')}>See the request</a>
          </p>
        ) : null}
      </div>
      <DataList<Command>
        key={listKey}
        tenant={p.tenant}
        area="commands"
        caption={`Commands to ${p.agent.hostname}`}
        noun={['command', 'commands']}
        fixed={{ agentId: p.agent.id }}
        inAddress={false}
        pageSize={25}
        exportable={false}
        live={['command']}
        columns={(refresh) => commandColumns({ tenant: p.tenant, canWrite: p.canWrite, host: false, refresh })}
        empty="No commands sent to this agent."
      />
    </section>
  );
}

function CancelButton({ tenant, command, after }: { tenant: string; command: Command; after: (token?: string) => void }) {
  const cancel = useAction(async () => {
    const v = await ask(`Cancel ${command.action}?`, [{ name: 'reason', label: 'Reason', maxLength: 500 }], {
      text: 'The agent has not picked it up yet; once cancelled it never will.',
      confirm: 'Cancel command',
      danger: true,
    });
    if (!v) return;
    const out = await api.post<{ consistencyToken: string }>(tpath(tenant, 'commands', command.id, 'cancel'), v.reason ? { reason: v.reason } : {});
    notify(`${command.action} cancelled`);
    after(out.consistencyToken);
  });
  return (
    <button type="button" disabled={cancel.busy} onClick={() => void cancel.run()}>
      Cancel
    </button>
  );
}

/** Columns of command lists (an agent's page, the Commands page). */
export function commandColumns(p: { tenant: string; canWrite: boolean; host: boolean; refresh: (token?: string) => void }) {
  return [
    { label: 'Command', cell: (c: Command) => <a href={tenantHref(p.tenant, 'commands', c.id)}>{c.action}</a> },
    ...(p.host ? [{ label: 'Host', cell: (c: Command) => <Host tenant={p.tenant} agentId={c.agentId} hostname={c.hostname} /> }] : []),
    { label: 'Arguments', cell: (c: Command) => <code class="args">{JSON.stringify(c.args)}</code> },
    { label: 'Status', cell: (c: Command) => <Badge value={c.outcome ?? c.status} /> },
    {
      label: 'Dispatched',
      cell: (c: Command) => (
        <>
          {`${fmtTime(c.dispatchedAt)} by `}
          <Who raw={c.dispatchedBy} name={c.dispatchedByName} email={c.dispatchedByEmail} />
        </>
      ),
    },
    {
      label: 'Result',
      cell: (c: Command) =>
        c.output ? (
          <ScrollPre label={`Result of ${c.action}`} kind="output">
            {c.output}
          </ScrollPre>
        ) : c.cancelReason ? (
          `cancelled: ${c.cancelReason}`
        ) : (
          '—'
        ),
    },
    ...(p.canWrite
      ? [{ label: 'Actions', cell: (c: Command) => (c.status === 'pending' ? <CancelButton tenant={p.tenant} command={c} after={p.refresh} /> : '') }]
      : []),
  ];
}

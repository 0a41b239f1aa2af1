import { useEffect, useState } from 'preact/hooks';
import { Badge, PageHeading, ScrollBox, Section } from '../components/bits.tsx';
import { ArgsFields, argsOf } from '../components/command-form.tsx';
import { useAction } from '../lib/act.ts';
import { api, type ListPage, tpath } from '../lib/api.ts';
import { explain, ApiError } from '../lib/errors.ts';
import { plural } from '../lib/format.ts';
import { notify, notifyError } from '../lib/notices.tsx';
import { canOn, type PageProps, type TenantDoc, useReady } from '../lib/page.ts';
import { tenantHref } from '../lib/router.ts';
import type { Agent } from './agents.tsx';

/** One customer of a fan-out answer. */
interface FanoutResult {
  tenant: string;
  outcome: 'dispatched' | 'no-agents' | 'refused' | 'not-found';
  code?: string;
  commands: string[];
  approvals: string[];
  refused?: Array<{ agentId: string; code: string }>;
}

/** Actions four eyes can gate (a customer's policy decides; the answer says which went for approval). */
const GATEABLE = new Set(['isolate-host', 'kill-process', 'disable-account', 'reset-credentials', 'install-patches']);

/**
 * Fan-out: one agent command to a selection of customers (all their active agents, or the agents
 * picked), answered with a summary per customer — sent, sent for approval (four eyes), or refused
 * with the reason. Each command is written in its own customer's log and ledger.
 */
export function FanoutPage(p: PageProps) {
  const [tenants, setTenants] = useState<TenantDoc[] | null>(null);
  const actions = Object.keys(p.session.actions);
  const [action, setAction] = useState(actions.includes('collect-inventory') ? 'collect-inventory' : (actions[0] ?? 'ping'));
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [agents, setAgents] = useState<Record<string, string[]>>({});
  const [results, setResults] = useState<FanoutResult[] | null>(null);
  useEffect(() => {
    api.get<{ items: TenantDoc[] }>('/tenants').then(
      (r) => setTenants(r.items.filter((t) => canOn(p.session, t.id, 'commands.dispatch'))),
      (err) => {
        setTenants([]);
        notifyError(err);
      },
    );
  }, []);
  useReady(tenants !== null);
  const product = p.session.actions[action] ?? null;
  const schema = p.session.actionArgs[action] ?? {};
  const usable = (t: TenantDoc) => !t.suspended && (product === null || t.products.includes(product));
  const send = useAction(async (form: HTMLFormElement) => {
    const targets = [...picked].map((tenant) => ({ tenant, ...(agents[tenant]?.length ? { agentIds: agents[tenant] } : {}) }));
    const out = await api.post<{ results: FanoutResult[] }>('/fanout/commands', { action, args: argsOf(form, schema), targets });
    setResults(out.results);
    const sent = out.results.reduce((n, r) => n + r.commands.length, 0);
    const held = out.results.reduce((n, r) => n + r.approvals.length, 0);
    notify(`${action}: ${plural(sent, 'command')} sent${held ? `, ${plural(held, 'request')} sent for approval` : ''}`);
  });
  if (tenants === null) return <p class="muted">Loading…</p>;
  const names = new Map(tenants.map((t) => [t.id, t.name]));
  return (
    <>
      <PageHeading>Fan-out</PageHeading>
      <p>
        Send one command to the agents of several customers at once. Each customer gets its own commands, in its own log and ledger; a customer whose four-eyes
        policy gates the action gets a request for a second person instead.
      </p>
      <form
        class="command-form"
        aria-label="Fan-out command"
        onSubmit={(ev) => {
          ev.preventDefault();
          const form = ev.currentTarget as HTMLFormElement;
          if (picked.size === 0) return notify('Pick at least one customer.', 'info');
          if (form.reportValidity()) void send.run(form);
        }}
      >
        <div class="field">
          <label for="fanout-action">Command</label>
          <select id="fanout-action" name="action" value={action} onChange={(ev) => setAction((ev.currentTarget as HTMLSelectElement).value)}>
            {actions.map((x) => (
              <option key={x} value={x}>
                {x}
                {GATEABLE.has(x) ? ' (four eyes can apply)' : ''}
              </option>
            ))}
          </select>
        </div>
        <fieldset key={action}>
          <legend>Arguments of {action}</legend>
          <ArgsFields action={`fanout-${action}`} schema={schema} />
        </fieldset>
        <fieldset class="targets">
          <legend>Customers</legend>
          {tenants.length === 0 ? <p class="empty">You may send commands to no customer.</p> : null}
          <div class="toolbar">
            <button type="button" class="link" onClick={() => setPicked(new Set(tenants.filter(usable).map((t) => t.id)))}>
              Pick every customer it can go to
            </button>
            <button type="button" class="link" onClick={() => setPicked(new Set())}>
              Pick none
            </button>
          </div>
          <ul class="plain targets-list">
            {tenants.map((t) => {
              const why = t.suspended ? 'suspended' : product !== null && !t.products.includes(product) ? `${product} is off` : null;
              return (
                <li key={t.id}>
                  <div class="field inline">
                    <input
                      type="checkbox"
                      id={`fanout-t-${t.id}`}
                      checked={picked.has(t.id)}
                      disabled={why !== null}
                      onChange={(ev) => {
                        const on = (ev.currentTarget as HTMLInputElement).checked;
                        setPicked((s) => {
                          const n = new Set(s);
                          if (on) n.add(t.id);
                          else n.delete(t.id);
                          return n;
                        });
                      }}
                    />
                    <label for={`fanout-t-${t.id}`}>
                      {t.name} <span class="muted">({t.id})</span>
                      {why ? <span class="muted"> — {why}</span> : null}
                    </label>
                  </div>
                  {picked.has(t.id) ? (
                    <AgentPicker tenant={t.id} chosen={agents[t.id] ?? []} onChange={(ids) => setAgents((a) => ({ ...a, [t.id]: ids }))} />
                  ) : null}
                </li>
              );
            })}
          </ul>
        </fieldset>
        <button type="submit" class="primary" disabled={send.busy || picked.size === 0}>
          Send to {plural(picked.size, 'customer')}
        </button>
      </form>
      <div aria-live="polite">{results ? <Results results={results} names={names} action={action} /> : null}</div>
    </>
  );
}

/** The agents of one customer to send to: all active ones unless some are picked. */
function AgentPicker({ tenant, chosen, onChange }: { tenant: string; chosen: string[]; onChange: (ids: string[]) => void }) {
  const [list, setList] = useState<Agent[] | null>(null);
  const [open, setOpen] = useState(false);
  useEffect(() => {
    if (!open || list) return;
    api.get<ListPage<Agent>>(tpath(tenant, 'agents'), { status: 'active', sort: 'hostname', limit: 200 }).then(
      (r) => setList(r.items),
      (err) => notifyError(err),
    );
  }, [open]);
  return (
    <details class="agent-picker" onToggle={(ev) => setOpen((ev.currentTarget as HTMLDetailsElement).open)}>
      <summary>{chosen.length ? `${plural(chosen.length, 'agent')} picked` : 'All active agents'}</summary>
      {list === null ? (
        <p class="muted">Loading…</p>
      ) : list.length === 0 ? (
        <p class="empty">No active agents.</p>
      ) : (
        <ul class="plain">
          {list.map((a) => (
            <li key={a.id} class="field inline">
              <input
                type="checkbox"
                id={`fanout-a-${tenant}-${a.id}`}
                checked={chosen.includes(a.id)}
                onChange={(ev) => onChange((ev.currentTarget as HTMLInputElement).checked ? [...chosen, a.id] : chosen.filter((x) => x !== a.id))}
              />
              <label for={`fanout-a-${tenant}-${a.id}`}>
                {a.hostname} <span class="muted">({a.connectivity})</span>
              </label>
            </li>
          ))}
        </ul>
      )}
    </details>
  );
}

function sentence(code: string): string {
  return explain(new ApiError(0, code, null)).sentence;
}

function Results({ results, names, action }: { results: FanoutResult[]; names: Map<string, string>; action: string }) {
  return (
    <Section title={`Result of ${action}`}>
      <ScrollBox label="Result per customer">
        <table data-table="fanout-results">
          <thead>
            <tr>
              {['Customer', 'Outcome', 'Commands sent', 'Sent for approval', 'Refused'].map((h) => (
                <th scope="col" key={h}>
                  {h}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {results.map((r) => (
              <tr key={r.tenant} data-id={r.tenant}>
                <td>{names.get(r.tenant) ?? r.tenant}</td>
                <td>
                  <Badge value={r.outcome} />
                  {r.code ? (
                    <>
                      {' '}
                      {sentence(r.code)} <code>{r.code}</code>
                    </>
                  ) : null}
                </td>
                <td>{r.commands.length ? <a href={tenantHref(r.tenant, 'commands')}>{r.commands.length}</a> : '0'}</td>
                <td>{r.approvals.length ? <a href={tenantHref(r.tenant, 'approvals')}>{r.approvals.length}</a> : '0'}</td>
                <td>
                  {r.refused?.length
                    ? r.refused.map((x) => (
                        <span key={x.agentId} class="refused">
                          <a href={tenantHref(r.tenant, 'agents', x.agentId)}>{x.agentId.slice(0, 8)}</a>: {sentence(x.code)} <code>{x.code}</code>
                        </span>
                      ))
                    : '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollBox>
    </Section>
  );
}

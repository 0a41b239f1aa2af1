import { useEffect, useState } from 'preact/hooks';
import { Ago, Badge, Host, PageHeading, Section } from '../components/bits.tsx';
import { DataList } from '../components/data-list.tsx';
import { ask } from '../components/dialog.tsx';
import { useAction } from '../lib/act.ts';
import { api, tpath } from '../lib/api.ts';
import { fmtTime } from '../lib/format.ts';
import { useLive } from '../lib/live.ts';
import { notify, notifyError } from '../lib/notices.tsx';
import type { PageProps } from '../lib/page.ts';
import { tenantHref } from '../lib/router.ts';

/** Actions a customer's four-eyes policy can gate, with what they are (the server's GATED_ACTIONS). */
export const GATES: Array<[string, string]> = [
  ['isolate-host', 'Isolate a host from the network'],
  ['kill-process', 'Kill a process'],
  ['disable-account', 'Disable an account'],
  ['reset-credentials', 'Reset credentials'],
  ['install-patches', 'Install patches'],
  ['suspend-tenant', 'Suspend the customer'],
  ['delete-tenant', 'Delete the customer'],
  ['detection-rule-live', 'Put a custom detection rule live'],
  ['role-change', "Change someone's roles on the customer"],
];

interface Policy {
  fourEyes: string[];
  approvalExpiryMinutes: number;
}

type Action =
  | { kind: 'dispatch'; agentId: string; action: string; args: Record<string, unknown> }
  | { kind: 'suspend'; reason: string }
  | { kind: 'access'; userId: string; roles: string[] }
  | { kind: 'erase'; subject: string; reference?: string }
  | { kind: 'offboard' }
  | { kind: 'custom-rule'; ruleId: string; name: string; yaml: string; replaces: string | null };

interface Approval {
  id: string;
  gate: string;
  action: Action;
  requester: { actorId: string; userId: string | null };
  expiresAt: string;
  status: 'pending' | 'approved' | 'rejected' | 'executed';
  requestedAt: string;
  decidedBy: { actorId: string; userId: string | null } | null;
  requesterName?: string | null;
  decidedByName?: string | null;
  decidedAt: string | null;
  reason: string | null;
  result: { outcome: 'issued' | 'refused'; ref: string } | null;
}

/** An answer of a gated action: it was not done, it waits for a second person. */
export interface Pending {
  approvalId: string;
  status: 'pending';
  gate: string;
  expiresAt: string;
}

/** Whether an answer is a four-eyes request rather than the action done. */
export function isPending(out: unknown): out is Pending {
  return (
    typeof out === 'object' &&
    out !== null &&
    (out as { status?: unknown }).status === 'pending' &&
    typeof (out as { approvalId?: unknown }).approvalId === 'string'
  );
}

/** The notice for an action that went for approval. */
export function sentForApproval(what: string, p: Pending): void {
  notify(`${what} sent for approval: a second person must approve it before ${fmtTime(p.expiresAt)}.`, 'info');
}

/**
 * Four eyes on a customer: its policy (which actions need a second person, how long a request
 * waits) and the requests. Whoever holds approvals.decide — and the action's own permission —
 * approves or rejects other people's requests; the requester sees their own without those buttons
 * (and the server refuses them anyway, STK_ERR_APPROVAL_SELF).
 */
export function ApprovalsPage(p: PageProps) {
  const me = p.session.principal.kind === 'user' ? p.session.principal.id : null;
  const [names, setNames] = useState<Record<string, string>>({});
  const [hosts, setHosts] = useState<Record<string, string>>({});
  useEffect(() => {
    // Requests name agents by id; the page shows their host names (the first 200 agents by name).
    api.get<{ items: Array<{ id: string; hostname: string }> }>(tpath(p.tenant, 'agents'), { sort: 'hostname', limit: 200 }).then(
      (r) => setHosts(Object.fromEntries(r.items.map((a) => [a.id, a.hostname]))),
      () => {},
    );
  }, [p.tenant]);
  useEffect(() => {
    if (!p.can('access.read')) return;
    api.get<{ items: Array<{ userId: string; name: string | null }> }>(tpath(p.tenant, 'access')).then(
      (r) => setNames(Object.fromEntries(r.items.filter((x) => x.name).map((x) => [x.userId, x.name!]))),
      () => {},
    );
  }, [p.tenant]);
  const who = (x: { actorId: string; userId: string | null } | null, named?: string | null): string => {
    if (!x) return '—';
    if (x.userId && x.userId === me) return 'you';
    if (named) return named;
    if (x.userId && names[x.userId]) return names[x.userId]!;
    return x.actorId === 'admin' ? 'the admin key' : x.actorId;
  };
  return (
    <>
      <PageHeading>Approvals</PageHeading>
      <PolicySection {...p} />
      <Section title="Requests">
        <DataList<Approval>
          tenant={p.tenant}
          area="approvals"
          caption="Four-eyes requests"
          noun={['request', 'requests']}
          defaults={{ status: 'pending' }}
          exportable={false}
          filters={[{ name: 'status', label: 'Status', options: ['pending', 'approved', 'rejected', 'executed'] }]}
          live={['approval']}
          columns={(refresh) => [
            { label: 'Requested', cell: (a) => <Ago at={a.requestedAt} /> },
            { label: 'What', cell: (a) => <What tenant={p.tenant} a={a} names={names} hosts={hosts} /> },
            { label: 'Requester', cell: (a) => <span title={a.requester.actorId}>{who(a.requester, a.requesterName)}</span> },
            {
              label: 'Expires',
              cell: (a) =>
                a.status === 'pending' && Date.parse(a.expiresAt) <= Date.now() ? (
                  <Badge value="expired" />
                ) : (
                  <time dateTime={a.expiresAt}>{fmtTime(a.expiresAt)}</time>
                ),
            },
            { label: 'Status', cell: (a) => <Badge value={a.status} /> },
            {
              label: 'Decision',
              cell: (a) =>
                a.decidedBy ? (
                  <span>
                    {who(a.decidedBy, a.decidedByName)}
                    {a.reason ? `: ${a.reason}` : ''}
                    {a.result ? (
                      a.result.outcome === 'issued' ? (
                        a.action.kind === 'dispatch' ? (
                          <>
                            {' · '}
                            <a href={tenantHref(p.tenant, 'commands', a.result.ref)}>command issued</a>
                          </>
                        ) : (
                          ' · done'
                        )
                      ) : (
                        <>
                          {' · refused '}
                          <code>{a.result.ref}</code>
                        </>
                      )
                    ) : null}
                  </span>
                ) : (
                  '—'
                ),
            },
            {
              label: 'Actions',
              cell: (a) => (
                <Decide
                  tenant={p.tenant}
                  a={a}
                  mine={a.requester.userId !== null && a.requester.userId === me}
                  can={p.can('approvals.decide')}
                  after={refresh}
                />
              ),
            },
          ]}
          empty="No requests."
        />
      </Section>
    </>
  );
}

function What({ tenant, a, names, hosts }: { tenant: string; a: Approval; names: Record<string, string>; hosts: Record<string, string> }) {
  const x = a.action;
  if (x.kind === 'dispatch') {
    return (
      <span>
        <code>{x.action}</code> on <Host tenant={tenant} agentId={x.agentId} hostname={hosts[x.agentId]} />
        {Object.keys(x.args).length ? <code class="args"> {JSON.stringify(x.args)}</code> : null}
      </span>
    );
  }
  if (x.kind === 'suspend') return <span>Suspend the customer: {x.reason}</span>;
  if (x.kind === 'erase') {
    return (
      <span>
        Erase <code>{x.subject}</code>
        {x.reference ? ` (${x.reference})` : ''}: its keys are destroyed, for good
      </span>
    );
  }
  if (x.kind === 'offboard') return <span>Offboard the customer: every key, stream and view of it is removed, for good</span>;
  if (x.kind === 'custom-rule') {
    return (
      <span>
        {x.replaces ? 'Replace' : 'Put live'} the custom detection rule <code>{x.ruleId}</code> ({x.name})
        <details>
          <summary>Rule</summary>
          <pre>{x.yaml}</pre>
        </details>
      </span>
    );
  }
  return (
    <span>
      Roles of {names[x.userId] ?? x.userId}: {x.roles.length ? x.roles.join(', ') : 'none'}
    </span>
  );
}

function Decide({ tenant, a, mine, can, after }: { tenant: string; a: Approval; mine: boolean; can: boolean; after: (token?: string) => void }) {
  const approve = useAction(async () => {
    const ok = await ask('Approve this request?', [], { text: 'The action is issued at once, in your name as the second person.', confirm: 'Approve' });
    if (!ok) return;
    const out = await api.post<Approval & { consistencyToken: string }>(tpath(tenant, 'approvals', a.id, 'approve'));
    notify(out.result?.outcome === 'refused' ? `Approved, but the action was refused (${out.result.ref})` : 'Approved: the action was issued');
    after(out.consistencyToken);
  });
  const reject = useAction(async () => {
    const v = await ask('Reject this request?', [{ name: 'reason', label: 'Reason', required: true, maxLength: 500 }], { confirm: 'Reject', danger: true });
    if (!v) return;
    const out = await api.post<{ consistencyToken: string }>(tpath(tenant, 'approvals', a.id, 'reject'), { reason: v.reason });
    notify('Request rejected');
    after(out.consistencyToken);
  });
  if (a.status !== 'pending') return null;
  if (Date.parse(a.expiresAt) <= Date.now()) return <span class="muted">expired</span>;
  if (mine) return <span class="muted">Waiting for a second person</span>;
  if (!can) return <span class="muted">Waiting for an approver</span>;
  return (
    <div class="row-actions">
      <button type="button" class="primary" disabled={approve.busy} onClick={() => void approve.run()}>
        Approve
      </button>
      <button type="button" class="danger" disabled={reject.busy} onClick={() => void reject.run()}>
        Reject
      </button>
    </div>
  );
}

function PolicySection(p: PageProps) {
  const [policy, setPolicy] = useState<Policy | null>(null);
  const load = async (waitFor?: string) => {
    try {
      setPolicy(await api.get<Policy>(tpath(p.tenant, 'policy'), waitFor ? { waitFor } : {}));
    } catch (err) {
      notifyError(err, () => void load(waitFor));
    }
  };
  useEffect(() => {
    void load();
  }, [p.tenant]);
  useLive(['policy'], (_c, token) => void load(token));
  const save = useAction(async (form: HTMLFormElement) => {
    const f = new FormData(form);
    const out = await api.put<Policy & { consistencyToken: string }>(tpath(p.tenant, 'policy'), {
      fourEyes: GATES.map(([g]) => g).filter((g) => f.get(`gate-${g}`) === 'on'),
      approvalExpiryMinutes: Number(f.get('expiry')),
    });
    setPolicy(out);
    notify('Four-eyes policy saved');
  });
  if (!policy) return <p class="muted">Loading…</p>;
  const editable = p.can('policy.manage');
  return (
    <Section title="Four-eyes policy">
      <p>The actions ticked here need a second person: asking for one makes a request, and only an approval by someone else issues it.</p>
      <form
        aria-label="Four-eyes policy"
        key={JSON.stringify(policy)}
        onSubmit={(ev) => {
          ev.preventDefault();
          const form = ev.currentTarget as HTMLFormElement;
          if (form.reportValidity()) void save.run(form);
        }}
      >
        <fieldset class="gates">
          <legend>Actions that need a second person</legend>
          {GATES.map(([g, text]) => (
            <div class="field inline" key={g}>
              <input type="checkbox" id={`gate-${g}`} name={`gate-${g}`} defaultChecked={policy.fourEyes.includes(g)} disabled={!editable} />
              <label for={`gate-${g}`}>
                {text} <code class="muted">{g}</code>
              </label>
            </div>
          ))}
        </fieldset>
        <div class="field">
          <label for="approval-expiry">A request waits (minutes)</label>
          <input
            id="approval-expiry"
            name="expiry"
            type="number"
            inputMode="numeric"
            min={1}
            max={7 * 24 * 60}
            step={1}
            required
            defaultValue={String(policy.approvalExpiryMinutes)}
            disabled={!editable}
          />
        </div>
        {editable ? (
          <button type="submit" disabled={save.busy}>
            Save policy
          </button>
        ) : (
          <p class="muted small">Only a customer admin or an MSP admin changes this.</p>
        )}
      </form>
    </Section>
  );
}

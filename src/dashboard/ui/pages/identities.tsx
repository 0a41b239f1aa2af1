import { useEffect, useState } from 'preact/hooks';
import { Badge, Facts, Host, PageHeading, ScrollBox, Section } from '../components/bits.tsx';
import { DataList } from '../components/data-list.tsx';
import { ask } from '../components/dialog.tsx';
import { useAction } from '../lib/act.ts';
import { hostOptions, namesOf, useAgents } from '../lib/agents.ts';
import { api, tpath } from '../lib/api.ts';
import { canDispatch, dispatch } from '../lib/commands.ts';
import { fmtTime } from '../lib/format.ts';
import { useLive } from '../lib/live.ts';
import { type PageProps, useReady } from '../lib/page.ts';
import { tenantHref, useWhere } from '../lib/router.ts';
import type { Finding } from './findings.tsx';
import { LoadError, ProofLink } from './telemetry.tsx';

/** An account as `GET …/identities` gives it (projections/identities). */
interface Identity {
  id: string;
  agentId: string;
  source: 'local' | 'directory';
  account: string;
  uid: number | null;
  sid: string | null;
  present: boolean;
  privileged: boolean;
  groups: string[];
  privilegedGroups: string[];
  sudo: string[];
  keys: string[];
  flags: string[];
  risky: boolean;
  enabled: boolean | null;
  firstSeenAt: string;
  lastChangedAt: string;
  lastChange: string;
  changes: number;
}

interface IdentityChange {
  id: string;
  /** The telemetry item, `<batch>:<index>`; absent in a change projected before items were named (rebuild the model). */
  itemId?: string;
  agentId: string;
  identityId: string;
  at: string;
  source: 'local' | 'directory';
  change: string;
  account: string;
  uid: number | null;
  group: string | null;
  privileged: boolean;
  details: Record<string, unknown>;
}

interface IdentityGroup {
  id: string;
  agentId: string;
  source: 'local' | 'directory';
  group: string;
  privileged: boolean;
  members: string[];
}

/** `GET …/identities/:identityId`: the account, its recent changes and the identity findings about it. */
type IdentityView = Identity & { history: IdentityChange[]; findings: Finding[] };

/** What each risky (or notable) flag means. */
const FLAG_TEXT: Record<string, string> = {
  'extra-uid-0': 'a second account with uid 0: the powers of root under another name',
  'empty-password': 'no password: anyone may log in as it',
  'sudo-no-password': 'sudo without a password',
  DONT_REQ_PREAUTH: 'Kerberos pre-authentication not required: AS-REP roastable',
  DONT_EXPIRE_PASSWORD: 'its password never expires',
  PASSWD_NOTREQD: 'no password required',
  spn: 'a service principal name on a user account: Kerberoastable',
  ACCOUNTDISABLE: 'disabled in the directory',
};
const RISKY = new Set(['extra-uid-0', 'empty-password', 'sudo-no-password', 'DONT_REQ_PREAUTH', 'DONT_EXPIRE_PASSWORD', 'PASSWD_NOTREQD', 'spn']);
const CHANGES = ['added', 'removed', 'modified', 'group-member-added', 'group-member-removed', 'key-added', 'key-removed', 'sudo-added', 'sudo-removed'];
const YES_NO: Array<[string, string]> = [
  ['true', 'yes'],
  ['false', 'no'],
];
/** lock-account and expire-account take a local account name of this form (src/domain/actions.ts). */
const LOCAL_ACCOUNT = /^[a-z_][a-z0-9_.-]*\$?$/;

function Flags({ flags }: { flags: string[] }) {
  if (!flags.length) return <span class="muted">none</span>;
  return (
    <span class="flags">
      {flags.map((f) => (
        <span key={f} class={`badge ${RISKY.has(f) ? 'b-risky' : ''}`} title={FLAG_TEXT[f] ?? f}>
          {f}
        </span>
      ))}
    </span>
  );
}

/** A change in words. */
function changeText(c: Pick<IdentityChange, 'change' | 'group' | 'details'>): string {
  const d = c.details ?? {};
  const base = d.baseline === true ? ' (first collection)' : '';
  switch (c.change) {
    case 'group-member-added':
      return `added to ${c.group}${base}`;
    case 'group-member-removed':
      return `removed from ${c.group}`;
    case 'key-added':
      return `SSH key added ${typeof d.fingerprint === 'string' ? d.fingerprint : ''}${base}`;
    case 'key-removed':
      return `SSH key removed ${typeof d.fingerprint === 'string' ? d.fingerprint : ''}`;
    case 'modified': {
      const what =
        typeof d.what === 'string'
          ? d.what
          : d.changes && typeof d.changes === 'object'
            ? Object.keys(d.changes).join(', ')
            : Array.isArray(d.flags)
              ? `flags ${d.flags.join(', ') || 'none'}`
              : '';
      return `modified${what ? `: ${what}` : ''}`;
    }
    default:
      return `${c.change}${base}`;
  }
}

const VIEWS: Array<[string, string]> = [
  ['accounts', 'Accounts'],
  ['groups', 'Privileged groups'],
  ['changes', 'History of changes'],
];

export function IdentitiesPage(p: PageProps) {
  const where = useWhere();
  const agents = useAgents(p.tenant);
  if (p.id) return <IdentityDetail {...p} id={p.id} />;
  const view = where.query.get('view') ?? 'accounts';
  const host = where.query.get('agentId');
  const names = namesOf(agents);
  const hostCell = (agentId: string) => <Host tenant={p.tenant} agentId={agentId} hostname={names.get(agentId)} />;
  const accountLink = (account: string, agentId: string) => tenantHref(p.tenant, 'identities', undefined, { account, agentId });
  return (
    <>
      <PageHeading>Identities</PageHeading>
      <nav class="tabs" aria-label="Identity views">
        {VIEWS.map(([v, label]) => (
          <a
            key={v}
            href={tenantHref(p.tenant, 'identities', undefined, { ...(v === 'accounts' ? {} : { view: v }), ...(host ? { agentId: host } : {}) })}
            aria-current={v === view ? 'page' : undefined}
          >
            {label}
          </a>
        ))}
      </nav>
      {view === 'groups' ? (
        <DataList<IdentityGroup>
          key="groups"
          tenant={p.tenant}
          area="identity-groups"
          caption="Privileged groups"
          noun={['group', 'groups']}
          exportable={false}
          defaults={{ privileged: 'true' }}
          filters={[
            { name: 'agentId', label: 'Host', options: hostOptions(agents) },
            { name: 'privileged', label: 'Privileged', options: YES_NO },
            { name: 'group', label: 'Group', kind: 'text' },
          ]}
          live={['telemetry']}
          columns={[
            { label: 'Group', cell: (g) => <strong>{g.group}</strong> },
            { label: 'Host', cell: (g) => hostCell(g.agentId) },
            { label: 'Source', cell: (g) => g.source },
            { label: 'Privileged', cell: (g) => (g.privileged ? <Badge value="privileged" /> : 'no') },
            {
              label: 'Members',
              cell: (g) =>
                g.members.length ? (
                  <ul class="plain inline-list">
                    {g.members.map((m) => (
                      <li key={m}>
                        <a href={accountLink(m, g.agentId)}>{m}</a>
                      </li>
                    ))}
                  </ul>
                ) : (
                  <span class="muted">none</span>
                ),
            },
          ]}
          empty="No group matches."
        />
      ) : view === 'changes' ? (
        <DataList<IdentityChange>
          key="changes"
          tenant={p.tenant}
          area="identity-changes"
          caption="History of account changes"
          noun={['change', 'changes']}
          exportable={false}
          filters={[
            { name: 'agentId', label: 'Host', options: hostOptions(agents) },
            { name: 'change', label: 'Change', options: CHANGES },
            { name: 'account', label: 'Account', kind: 'text' },
          ]}
          live={['telemetry']}
          columns={[
            { label: 'When', cell: (c) => <time dateTime={c.at}>{fmtTime(c.at)}</time> },
            { label: 'Host', cell: (c) => hostCell(c.agentId) },
            { label: 'Account', cell: (c) => <a href={tenantHref(p.tenant, 'identities', c.identityId)}>{c.account}</a> },
            { label: 'Change', cell: (c) => changeText(c) },
            { label: 'Privileged', cell: (c) => (c.privileged ? <Badge value="privileged" /> : '') },
            {
              label: 'Proof',
              cell: (c) => {
                c.itemId ? <ProofLink tenant={p.tenant} itemId={c.itemId} /> : null;
              },
            },
          ]}
          empty="No change matches."
        />
      ) : (
        <DataList<Identity>
          key="accounts"
          tenant={p.tenant}
          area="identities"
          caption="Accounts"
          noun={['account', 'accounts']}
          exportable={false}
          defaults={{ present: 'true' }}
          filters={[
            { name: 'agentId', label: 'Host', options: hostOptions(agents) },
            { name: 'account', label: 'Account', kind: 'text' },
            { name: 'source', label: 'Source', options: ['local', 'directory'] },
            { name: 'privileged', label: 'Privileged', options: YES_NO },
            { name: 'risky', label: 'Risky', options: YES_NO },
            {
              name: 'present',
              label: 'Present',
              options: [
                ['true', 'present'],
                ['false', 'removed'],
              ],
            },
          ]}
          live={['telemetry']}
          columns={[
            {
              label: 'Account',
              cell: (i) => (
                <span>
                  <a href={tenantHref(p.tenant, 'identities', i.id)}>{i.account}</a>
                  {i.risky ? (
                    <>
                      {' '}
                      <Badge value="risky" />
                    </>
                  ) : null}
                  {i.privileged ? (
                    <>
                      {' '}
                      <Badge value="privileged" />
                    </>
                  ) : null}
                </span>
              ),
            },
            { label: 'Host', cell: (i) => hostCell(i.agentId) },
            { label: 'Source', cell: (i) => i.source },
            { label: 'uid / SID', cell: (i) => (i.sid ? <code>{i.sid}</code> : i.uid === null ? '—' : String(i.uid)) },
            { label: 'Privileged groups', cell: (i) => i.privilegedGroups.join(', ') || (i.sudo.length ? 'sudo' : i.uid === 0 ? 'uid 0' : '—') },
            { label: 'Flags', cell: (i) => <Flags flags={i.flags} /> },
            { label: 'Last change', cell: (i) => `${i.lastChange}, ${fmtTime(i.lastChangedAt)}` },
          ]}
          empty="No account matches."
        />
      )}
    </>
  );
}

function IdentityDetail(p: PageProps & { id: string }) {
  const agents = useAgents(p.tenant);
  const [i, setI] = useState<IdentityView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = async (waitFor?: string) => {
    try {
      setI(await api.get<IdentityView>(tpath(p.tenant, 'identities', p.id), waitFor ? { waitFor } : {}));
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => {
    void load();
  }, [p.id]);
  useLive(['telemetry', 'finding'], (_c, token) => void load(token));
  useReady((i !== null && agents !== null) || error !== null);
  if (error && !i) return <LoadError err={error} what="this account" />;
  if (!i || !agents) return <p class="muted">Loading…</p>;
  const names = namesOf(agents);
  return (
    <>
      <p>
        <a href={tenantHref(p.tenant, 'identities', undefined, { agentId: i.agentId })}>← Accounts on {names.get(i.agentId) ?? 'this host'}</a>
      </p>
      <PageHeading>
        {i.account} {i.risky ? <Badge value="risky" /> : null} {i.privileged ? <Badge value="privileged" /> : null}
        {!i.present ? <Badge value="removed" /> : null}
      </PageHeading>
      <AccountActions {...p} identity={i} hostname={names.get(i.agentId) ?? i.agentId} />
      <Section title="The account">
        <Facts
          items={[
            ['Host', <Host key="h" tenant={p.tenant} agentId={i.agentId} hostname={names.get(i.agentId)} />],
            ['Source', i.source === 'local' ? 'a local account of the host' : 'a directory account'],
            i.uid !== null ? ['uid', String(i.uid)] : null,
            i.sid ? ['SID', <code key="s">{i.sid}</code>] : null,
            i.enabled !== null ? ['Enabled', i.enabled ? 'yes' : 'no'] : null,
            ['Groups', i.groups.join(', ') || '—'],
            ['Privileged groups', i.privilegedGroups.join(', ') || '—'],
            ['Sudo', i.sudo.length ? i.sudo.join('; ') : '—'],
            [
              'SSH keys',
              i.keys.length
                ? i.keys.map((k) => (
                    <code key={k} class="block">
                      {k}
                    </code>
                  ))
                : '—',
            ],
            [
              'Flags',
              i.flags.length ? (
                <ul class="plain" key="f">
                  {i.flags.map((f) => (
                    <li key={f}>
                      <span class={`badge ${RISKY.has(f) ? 'b-risky' : ''}`}>{f}</span> {FLAG_TEXT[f] ?? ''}
                    </li>
                  ))}
                </ul>
              ) : (
                'none'
              ),
            ],
            ['First seen', fmtTime(i.firstSeenAt)],
            ['Last change', `${i.lastChange}, ${fmtTime(i.lastChangedAt)} (${i.changes} in all)`],
          ]}
        />
      </Section>
      <Section title="Findings about this account">
        {i.findings.length ? (
          <ScrollBox label="Findings about this account">
            <table data-table="identity-findings">
              <thead>
                <tr>
                  {['Severity', 'Finding', 'State', 'Reported'].map((h) => (
                    <th scope="col" key={h}>
                      {h}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {i.findings.map((f) => (
                  <tr key={f.id} data-id={f.id}>
                    <td>
                      <Badge value={f.severity} />
                    </td>
                    <td>
                      <a href={`${tenantHref(p.tenant, 'findings')}?state=&q=${encodeURIComponent(f.subject)}`}>{f.title}</a>{' '}
                      <span class="muted small">{f.subject}</span>
                    </td>
                    <td>
                      <Badge value={f.state} />
                    </td>
                    <td>{fmtTime(f.reportedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollBox>
        ) : (
          <p class="empty">No identity finding names this account.</p>
        )}
      </Section>
      <Section title="History of changes">
        {i.history.length ? (
          <ScrollBox label="History of changes">
            <table data-table="identity-history">
              <thead>
                <tr>
                  {['When', 'Change', 'Privileged', 'Proof'].map((h) => (
                    <th scope="col" key={h}>
                      {h}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {i.history.map((c) => (
                  <tr key={c.id}>
                    <td>
                      <time dateTime={c.at}>{fmtTime(c.at)}</time>
                    </td>
                    <td>{changeText(c)}</td>
                    <td>{c.privileged ? <Badge value="privileged" /> : ''}</td>
                    <td>{c.itemId ? <ProofLink tenant={p.tenant} itemId={c.itemId} /> : null}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollBox>
        ) : (
          <p class="empty">No change recorded.</p>
        )}
      </Section>
    </>
  );
}

/** Disable, reset credentials, lock, expire: agent commands on the account, each asked first. */
function AccountActions(p: PageProps & { identity: IdentityView; hostname: string }) {
  const i = p.identity;
  const local = i.source === 'local';
  const actions: Array<[string, string, string]> = [
    ['disable-account', 'Disable', local ? 'The account is locked and expired on the host (usermod).' : 'The directory sets ACCOUNTDISABLE on the account.'],
    [
      'reset-credentials',
      'Reset credentials',
      local ? 'The password must be changed at the next login (chage).' : 'The password must be changed at the next logon.',
    ],
    ...(local && LOCAL_ACCOUNT.test(i.account)
      ? ([
          ['lock-account', 'Lock', 'The password is locked (usermod -L): key logins still work until the account is expired.'],
          ['expire-account', 'Expire', 'The account expires now (usermod -e 1): no login of any kind.'],
        ] as Array<[string, string, string]>)
      : []),
  ];
  const offered = actions.filter(([a]) => canDispatch(p, a));
  const act = useAction(async (action: string, label: string, text: string) => {
    const v = await ask(`${label} ${i.account} on ${p.hostname}?`, [{ name: 'reason', label: 'Reason', maxLength: 500, required: true }], {
      text,
      confirm: label,
      danger: true,
    });
    if (!v) return;
    const args: Record<string, unknown> = { account: i.account, reason: v.reason };
    if (action === 'disable-account' || action === 'reset-credentials') args.source = i.source;
    await dispatch(p.tenant, i.agentId, action, args, `${label} ${i.account}`);
  });
  if (!offered.length || !i.present) return null;
  return (
    <div class="toolbar">
      {offered.map(([action, label, text]) => (
        <button key={action} type="button" class="danger" disabled={act.busy} onClick={() => void act.run(action, label, text)}>
          {label}
        </button>
      ))}
      <a href={tenantHref(p.tenant, 'agents', i.agentId)}>Commands on {p.hostname}</a>
    </div>
  );
}

import { useEffect, useRef, useState } from 'preact/hooks';
import { Ago, Badge, Facts, Field, PageHeading, ScrollBox, Section } from '../components/bits.tsx';
import { ask } from '../components/dialog.tsx';
import { CopyButton } from '../components/mfa.tsx';
import { useAction } from '../lib/act.ts';
import { api, tpath } from '../lib/api.ts';
import { fmtTime, plural } from '../lib/format.ts';
import { notify, notifyError } from '../lib/notices.tsx';
import { canOn, type PageProps, type TenantDoc, useReady } from '../lib/page.ts';
import { INSTALL_ROLES, roleTitle, TENANT_ROLES } from '../lib/roles.ts';
import { readQuery, setQuery, useWhere } from '../lib/router.ts';
import { isPending, sentForApproval } from './approvals.tsx';

/** A user as `GET /users` gives them. */
export interface User {
  id: string;
  name: string;
  email: string;
  status: 'invited' | 'active' | 'disabled';
  sso: { issuer: string; subject: string } | null;
  hasPassword: boolean;
  mfa: boolean;
  recoveryCodesLeft: number;
  invitationExpiresAt: string | null;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  lastSignInAt?: string | null;
  lastSignInMethod?: string | null;
}

interface UserDetail extends User {
  roles: { install: string[]; tenants: Array<{ tenant: string; roles: string[] }> };
}

interface Invitation {
  token: string;
  path: string;
  expiresAt: string;
}

const DEFAULTS = { q: '', status: '' };

/** The people of the install: search, status, MFA, last sign-in; invitations; one person's page. */
export function PeoplePage(p: PageProps) {
  if (p.id) return <Person {...p} id={p.id} />;
  return <People {...p} />;
}

function People(p: PageProps) {
  useWhere();
  const values = readQuery(DEFAULTS);
  const [page, setPage] = useState<{ items: User[]; nextCursor: string | null; total: number } | null>(null);
  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  const [invited, setInvited] = useState<{ name: string; email: string; invitation: Invitation } | null>(null);
  const gen = useRef(0);
  const cursor = cursors[cursors.length - 1] ?? null;
  const load = async () => {
    const mine = ++gen.current;
    setPage(null);
    try {
      const out = await api.get<{ items: User[]; nextCursor: string | null; total: number }>('/users', {
        q: values.q,
        status: values.status,
        limit: 50,
        ...(cursor ? { cursor } : {}),
      });
      if (mine === gen.current) setPage(out);
    } catch (err) {
      if (mine === gen.current) notifyError(err, () => void load());
    }
  };
  useEffect(() => {
    setCursors([null]);
  }, [values.q, values.status]);
  useEffect(() => {
    void load();
  }, [values.q, values.status, cursor]);
  useReady(page !== null);
  const invite = useAction(async (form: HTMLFormElement) => {
    const f = new FormData(form);
    const out = await api.post<{ id: string; name: string; email: string; invitation: Invitation }>('/users', {
      name: String(f.get('name')).trim(),
      email: String(f.get('email')).trim(),
      expiresInHours: Number(f.get('hours')),
    });
    setInvited({ name: out.name, email: out.email, invitation: out.invitation });
    form.reset();
    notify(`${out.name} invited`);
    await load();
  });
  return (
    <>
      <PageHeading>People</PageHeading>
      {p.can('users.manage') ? (
        <Section title="Invite someone">
          <form
            class="inline-form"
            aria-label="Invite someone"
            onSubmit={(ev) => {
              ev.preventDefault();
              const form = ev.currentTarget as HTMLFormElement;
              if (form.reportValidity()) void invite.run(form);
            }}
          >
            <Field label="Name" id="invite-name">
              <input id="invite-name" name="name" required maxLength={200} autoComplete="off" />
            </Field>
            <Field label="E-mail" id="invite-email">
              <input id="invite-email" name="email" type="email" required maxLength={254} autoComplete="off" spellcheck={false} />
            </Field>
            <Field label="Link valid for (hours)" id="invite-hours">
              <input id="invite-hours" name="hours" type="number" inputMode="numeric" required min={1} max={720} step={1} defaultValue="72" />
            </Field>
            <button type="submit" class="primary" disabled={invite.busy}>
              Invite
            </button>
          </form>
          <div aria-live="polite">{invited ? <InvitationLink name={invited.name} email={invited.email} invitation={invited.invitation} /> : null}</div>
        </Section>
      ) : null}
      <fieldset class="filters">
        <legend class="sr">Filters of people</legend>
        <form
          class="field inline search"
          aria-label="Search people"
          onSubmit={(ev) => {
            ev.preventDefault();
            setQuery({ q: ((ev.currentTarget as HTMLFormElement).elements.namedItem('q') as HTMLInputElement).value.trim() }, DEFAULTS);
          }}
        >
          <label for="people-q">Search</label>
          <input id="people-q" key={values.q} name="q" type="search" maxLength={100} defaultValue={values.q} placeholder="name or e-mail" />
          <button type="submit">Go</button>
        </form>
        <div class="field inline">
          <label for="people-status">Status</label>
          <select
            id="people-status"
            name="status"
            value={values.status}
            onChange={(ev) => setQuery({ status: (ev.currentTarget as HTMLSelectElement).value }, DEFAULTS)}
          >
            <option value="">any</option>
            {['invited', 'active', 'disabled'].map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
      </fieldset>
      <div class="list-bar">
        <p class="total">{page ? plural(page.total, 'person', 'people') : 'Loading…'}</p>
        {p.can('install.audit') ? (
          <p class="export">
            The install's audit trail (people, roles, sign-ins, break-glass):{' '}
            <a href={api.href('/audit/export', { format: 'csv' })} download>
              CSV
            </a>{' '}
            <a href={api.href('/audit/export', { format: 'jsonl' })} download>
              JSON lines
            </a>
          </p>
        ) : null}
      </div>
      <ScrollBox label="People" busy={page === null}>
        <table data-table="people">
          <thead>
            <tr>
              {['Person', 'Status', 'MFA', 'Last sign-in', 'Invited'].map((h) => (
                <th scope="col" key={h}>
                  {h}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {page === null ? (
              <tr class="placeholder">
                <td colSpan={5}>Loading…</td>
              </tr>
            ) : page.items.length === 0 ? (
              <tr class="placeholder">
                <td colSpan={5} class="empty">
                  {values.q || values.status ? 'Nobody matches.' : 'No people yet: invite the first one above.'}
                </td>
              </tr>
            ) : (
              page.items.map((u) => (
                <tr key={u.id} data-id={u.id}>
                  <td>
                    <a href={`/ui/people/${u.id}`}>{u.name}</a>
                    <span class="muted small block">{u.email}</span>
                  </td>
                  <td>
                    <Badge value={u.status} />
                  </td>
                  <td>{u.sso ? 'single sign-on' : u.mfa ? <Badge value="on" /> : <Badge value="off" />}</td>
                  <td>{u.lastSignInAt ? <Ago at={u.lastSignInAt} /> : 'never'}</td>
                  <td>
                    <time dateTime={u.createdAt}>{fmtTime(u.createdAt)}</time>
                  </td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </ScrollBox>
      <div class="pager">
        <button type="button" disabled={cursors.length <= 1 || page === null} onClick={() => setCursors((c) => c.slice(0, -1))}>
          Previous page
        </button>
        <span class="muted">Page {cursors.length}</span>
        <button type="button" disabled={!page?.nextCursor} onClick={() => page?.nextCursor && setCursors((c) => [...c, page.nextCursor])}>
          Next page
        </button>
      </div>
    </>
  );
}

/** The invitation link, shown once (Stockade keeps only its hash). */
function InvitationLink({ name, email, invitation }: { name: string; email: string; invitation: Invitation }) {
  const link = `${location.origin}${invitation.path}`;
  return (
    <div class="once" data-once data-invitation>
      <h3>Invitation for {name}</h3>
      <p>
        Send this link to {email} yourself: it is shown only now, works once, and until {fmtTime(invitation.expiresAt)}.
      </p>
      <div class="copyrow">
        <input class="secret" readOnly value={link} aria-label={`Invitation link for ${name}`} />
        <CopyButton value={link} what="Invitation link" />
      </div>
    </div>
  );
}

function Person(p: PageProps & { id: string }) {
  const [u, setU] = useState<UserDetail | null>(null);
  const [missing, setMissing] = useState(false);
  const [invitation, setInvitation] = useState<Invitation | null>(null);
  const load = async () => {
    try {
      setU(await api.get<UserDetail>(`/users/${encodeURIComponent(p.id)}`));
    } catch {
      setMissing(true);
    }
  };
  useEffect(() => {
    void load();
  }, [p.id]);
  useReady(u !== null || missing);
  const manage = p.can('users.manage');
  const useUserChange = (what: string, confirm: { title: string; text: string; label: string; danger?: boolean; reason?: boolean }, done: string) =>
    useAction(async () => {
      const v = await ask(confirm.title, confirm.reason ? [{ name: 'reason', label: 'Reason', required: true, maxLength: 500 }] : [], {
        text: confirm.text,
        confirm: confirm.label,
        danger: confirm.danger ?? false,
      });
      if (!v) return;
      await api.post(`/users/${encodeURIComponent(p.id)}/${what}`, confirm.reason ? { reason: v.reason } : {});
      notify(done);
      await load();
    });
  const disable = useUserChange(
    'disable',
    {
      title: `Disable ${u?.name ?? ''}?`,
      text: 'Every session and API token of theirs stops working at once, on every process.',
      label: 'Disable',
      danger: true,
      reason: true,
    },
    'Disabled',
  );
  const enable = useUserChange('enable', { title: `Enable ${u?.name ?? ''} again?`, text: 'Their old sessions stay ended.', label: 'Enable' }, 'Enabled');
  const resetMfa = useUserChange(
    'reset-mfa',
    {
      title: `Reset the MFA of ${u?.name ?? ''}?`,
      text: 'Their authenticator and recovery codes are removed and their sessions end; they set MFA up again at their next sign-in.',
      label: 'Reset MFA',
      danger: true,
    },
    'MFA reset',
  );
  const endSessions = useUserChange(
    'end-sessions',
    { title: `End every session of ${u?.name ?? ''}?`, text: 'Every browser signed in as them is signed out.', label: 'End sessions', danger: true },
    'Sessions ended',
  );
  const reinvite = useAction(async () => {
    const out = await api.post<{ invitation: Invitation }>(`/users/${encodeURIComponent(p.id)}/invitation`, {});
    setInvitation(out.invitation);
    notify('New invitation made; the old link no longer works');
    await load();
  });
  if (missing) return <PageHeading>Person not found</PageHeading>;
  if (!u) return <p class="muted">Loading…</p>;
  return (
    <>
      <p>
        <a href="/ui/people">← People</a>
      </p>
      <PageHeading>
        {u.name} <Badge value={u.status} />
      </PageHeading>
      <Facts
        items={[
          ['E-mail', u.email || '—'],
          ['Signs in with', u.sso ? `single sign-on (${u.sso.issuer}, ${u.sso.subject})` : u.hasPassword ? 'password' : 'nothing yet (invitation open)'],
          ['MFA', u.sso ? "the identity provider's" : u.mfa ? `on, ${plural(u.recoveryCodesLeft, 'recovery code')} left` : 'off'],
          ['Last sign-in', u.lastSignInAt ? `${fmtTime(u.lastSignInAt)} (${u.lastSignInMethod ?? ''})` : 'never'],
          u.invitationExpiresAt ? ['Invitation valid until', fmtTime(u.invitationExpiresAt)] : null,
          ['Invited', `${fmtTime(u.createdAt)} by ${u.createdBy}`],
        ]}
      />
      {manage ? (
        <div class="toolbar">
          {u.status === 'disabled' ? (
            <button type="button" disabled={enable.busy} onClick={() => void enable.run()}>
              Enable
            </button>
          ) : (
            <button type="button" class="danger" disabled={disable.busy} onClick={() => void disable.run()}>
              Disable
            </button>
          )}
          {u.mfa ? (
            <button type="button" class="danger" disabled={resetMfa.busy} onClick={() => void resetMfa.run()}>
              Reset MFA
            </button>
          ) : null}
          {u.status === 'active' ? (
            <button type="button" disabled={endSessions.busy} onClick={() => void endSessions.run()}>
              End sessions
            </button>
          ) : null}
          {u.status === 'invited' ? (
            <button type="button" disabled={reinvite.busy} onClick={() => void reinvite.run()}>
              New invitation link
            </button>
          ) : null}
        </div>
      ) : null}
      <div aria-live="polite">{invitation ? <InvitationLink name={u.name} email={u.email} invitation={invitation} /> : null}</div>
      <InstallRoles {...p} user={u} reload={load} />
      <CustomerRoles {...p} user={u} reload={load} />
    </>
  );
}

function InstallRoles(p: PageProps & { user: UserDetail; reload: () => Promise<void> }) {
  const save = useAction(async (form: HTMLFormElement) => {
    const f = new FormData(form);
    const roles = INSTALL_ROLES.filter((r) => f.get(`install-${r}`) === 'on');
    await api.put(`/users/${encodeURIComponent(p.user.id)}/roles`, { roles });
    notify('Install-wide roles saved');
    await p.reload();
  });
  const manage = p.can('users.manage');
  return (
    <Section title="Install-wide roles">
      <p class="muted small">These reach every customer, present and future.</p>
      <form
        aria-label="Install-wide roles"
        key={p.user.roles.install.join(',')}
        onSubmit={(ev) => {
          ev.preventDefault();
          void save.run(ev.currentTarget as HTMLFormElement);
        }}
      >
        <fieldset class="gates">
          <legend class="sr">Install-wide roles of {p.user.name}</legend>
          {INSTALL_ROLES.map((r) => (
            <div class="field inline" key={r}>
              <input type="checkbox" id={`install-${r}`} name={`install-${r}`} defaultChecked={p.user.roles.install.includes(r)} disabled={!manage} />
              <label for={`install-${r}`}>
                <strong>{r}</strong> — {roleTitle(r)}
              </label>
            </div>
          ))}
        </fieldset>
        {manage ? (
          <button type="submit" disabled={save.busy}>
            Save install-wide roles
          </button>
        ) : null}
      </form>
    </Section>
  );
}

function CustomerRoles(p: PageProps & { user: UserDetail; reload: () => Promise<void> }) {
  const [tenants, setTenants] = useState<TenantDoc[]>([]);
  useEffect(() => {
    api.get<{ items: TenantDoc[] }>('/tenants').then(
      (r) => setTenants(r.items),
      () => {},
    );
  }, []);
  const names = new Map(tenants.map((t) => [t.id, t.name]));
  const setRoles = async (tenant: string, roles: string[]) => {
    const out = await api.put(tpath(tenant, 'access'), { userId: p.user.id, roles });
    if (isPending(out)) return sentForApproval(`The role change on ${names.get(tenant) ?? tenant}`, out);
    notify(`Roles on ${names.get(tenant) ?? tenant} saved`);
    await p.reload();
  };
  const edit = useAction(async (tenant: string, current: string[]) => {
    const v = await ask(
      `Roles of ${p.user.name} on ${names.get(tenant) ?? tenant}`,
      TENANT_ROLES.map((r) => ({ name: r, label: `${r}: ${roleTitle(r)}`, kind: 'checkbox' as const, value: current.includes(r) })),
      { confirm: 'Save roles' },
    );
    if (!v) return;
    await setRoles(
      tenant,
      TENANT_ROLES.filter((r) => v[r] === true),
    );
  });
  const add = useAction(async (form: HTMLFormElement) => {
    const f = new FormData(form);
    await setRoles(String(f.get('tenant')), [String(f.get('role'))]);
  });
  const held = new Set(p.user.roles.tenants.map((t) => t.tenant));
  const grantable = tenants.filter((t) => !held.has(t.id) && canOn(p.session, t.id, 'access.manage'));
  return (
    <Section title="Roles on customers">
      {p.user.roles.tenants.length === 0 ? (
        <p class="empty">No role on any customer you can see.</p>
      ) : (
        <ScrollBox label="Roles on customers">
          <table data-table="user-roles">
            <thead>
              <tr>
                {['Customer', 'Roles', 'Actions'].map((h) => (
                  <th scope="col" key={h}>
                    {h}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {p.user.roles.tenants.map((t) => (
                <tr key={t.tenant} data-id={t.tenant}>
                  <td>
                    <a href={`/ui/t/${t.tenant}/access`}>{names.get(t.tenant) ?? t.tenant}</a>
                  </td>
                  <td>{t.roles.join(', ')}</td>
                  <td>
                    {canOn(p.session, t.tenant, 'access.manage') ? (
                      <button type="button" disabled={edit.busy} onClick={() => void edit.run(t.tenant, t.roles)}>
                        Change roles
                      </button>
                    ) : (
                      ''
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollBox>
      )}
      {grantable.length ? (
        <form
          class="inline-form"
          aria-label="Give a role on a customer"
          onSubmit={(ev) => {
            ev.preventDefault();
            void add.run(ev.currentTarget as HTMLFormElement);
          }}
        >
          <Field label="Customer" id="role-tenant">
            <select id="role-tenant" name="tenant">
              {grantable.map((t) => (
                <option key={t.id} value={t.id}>
                  {`${t.name} (${t.id})`}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Role" id="role-role">
            <select id="role-role" name="role">
              {TENANT_ROLES.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </Field>
          <button type="submit" disabled={add.busy}>
            Give role
          </button>
        </form>
      ) : null}
    </Section>
  );
}

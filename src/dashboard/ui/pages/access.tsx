import { useEffect, useState } from 'preact/hooks';
import { Badge, Field, PageHeading, ScrollBox, Section } from '../components/bits.tsx';
import { ask } from '../components/dialog.tsx';
import { useAction } from '../lib/act.ts';
import { api, tpath } from '../lib/api.ts';
import { fmtTime } from '../lib/format.ts';
import { useLive } from '../lib/live.ts';
import { notify, notifyError } from '../lib/notices.tsx';
import { type PageProps, useReady } from '../lib/page.ts';
import { ABILITIES, roleTitle, rolesAllow, TENANT_ROLES } from '../lib/roles.ts';
import { isPending, sentForApproval } from './approvals.tsx';

interface Holder {
  userId: string;
  name: string | null;
  email: string | null;
  status: string | null;
  roles: string[];
  updatedAt: string;
  updatedBy: string;
}

interface UserLite {
  id: string;
  name: string;
  email: string;
  status: string;
}

/**
 * Who can do what on one customer: every person holding a role on it, and what those roles allow
 * (from the roles table). Whoever holds access.manage changes them (never beyond their own rights;
 * a customer's four-eyes policy can make a change a request for a second person).
 */
export function AccessPage(p: PageProps) {
  const [items, setItems] = useState<Holder[] | null>(null);
  const load = async (waitFor?: string) => {
    try {
      setItems((await api.get<{ items: Holder[] }>(tpath(p.tenant, 'access'), waitFor ? { waitFor } : {})).items);
    } catch (err) {
      notifyError(err, () => void load(waitFor));
    }
  };
  useEffect(() => {
    void load();
  }, [p.tenant]);
  useLive(['access'], (_c, token) => void load(token));
  useReady(items !== null);
  const manage = p.can('access.manage');
  const setRoles = async (userId: string, roles: string[], who: string) => {
    const out = await api.put<{ consistencyToken: string }>(tpath(p.tenant, 'access'), { userId, roles });
    if (isPending(out)) return sentForApproval(`The role change of ${who}`, out);
    notify(roles.length ? `Roles of ${who} set` : `${who} has no role here any more`);
    await load(out.consistencyToken);
  };
  const edit = useAction(async (h: Holder) => {
    const who = h.name ?? h.userId;
    const v = await ask(
      `Roles of ${who} on ${p.tenantDoc?.name ?? p.tenant}`,
      TENANT_ROLES.map((r) => ({ name: r, label: `${r}: ${roleTitle(r)}`, kind: 'checkbox' as const, value: h.roles.includes(r) })),
      { confirm: 'Save roles' },
    );
    if (!v) return;
    await setRoles(
      h.userId,
      TENANT_ROLES.filter((r) => v[r] === true),
      who,
    );
  });
  return (
    <>
      <PageHeading>People and roles</PageHeading>
      <p>
        People holding a role on {p.tenantDoc?.name ?? p.tenant}. MSP owners, MSP admins and install-wide auditors reach every customer as well; they are listed
        under People.
      </p>
      {items === null ? (
        <p class="muted">Loading…</p>
      ) : items.length === 0 ? (
        <p class="empty">Nobody holds a role on this customer yet.</p>
      ) : (
        <ScrollBox label="Who can do what">
          <table data-table="access" class="matrix">
            <caption class="sr">Who can do what on this customer</caption>
            <thead>
              <tr>
                <th scope="col">Person</th>
                <th scope="col">Roles</th>
                {ABILITIES.map(([perm, label]) => (
                  <th scope="col" key={perm} title={perm}>
                    {label}
                  </th>
                ))}
                <th scope="col">Changed</th>
                {manage ? <th scope="col">Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {items.map((h) => (
                <tr key={h.userId} data-id={h.userId}>
                  <th scope="row">
                    {h.name ?? h.userId}
                    {h.email ? <span class="muted small block">{h.email}</span> : null}
                    {h.status && h.status !== 'active' ? <Badge value={h.status} /> : null}
                  </th>
                  <td>{h.roles.join(', ') || '—'}</td>
                  {ABILITIES.map(([perm]) => {
                    const yes = rolesAllow(h.roles, perm);
                    return (
                      <td key={perm} class={yes ? 'yes' : 'no'}>
                        <span aria-hidden="true">{yes ? '✓' : '·'}</span>
                        <span class="sr">{yes ? 'yes' : 'no'}</span>
                      </td>
                    );
                  })}
                  <td>
                    <time dateTime={h.updatedAt}>{fmtTime(h.updatedAt)}</time>
                  </td>
                  {manage ? (
                    <td>
                      <button type="button" disabled={edit.busy} onClick={() => void edit.run(h)}>
                        Change roles
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollBox>
      )}
      {manage && p.can('users.read') ? <Grant {...p} held={new Set((items ?? []).map((h) => h.userId))} setRoles={setRoles} /> : null}
    </>
  );
}

/** Gives a role on this customer to a user of the install (for those who may list users). */
function Grant(p: PageProps & { held: Set<string>; setRoles: (userId: string, roles: string[], who: string) => Promise<void> }) {
  const [users, setUsers] = useState<UserLite[] | null>(null);
  useEffect(() => {
    api.get<{ items: UserLite[] }>('/users').then(
      (r) => setUsers(r.items.filter((u) => u.status !== 'disabled')),
      () => setUsers([]),
    );
  }, []);
  const grant = useAction(async (form: HTMLFormElement) => {
    const f = new FormData(form);
    const userId = String(f.get('user'));
    const u = users?.find((x) => x.id === userId);
    await p.setRoles(userId, [String(f.get('role'))], u?.name ?? userId);
    form.reset();
  });
  const candidates = (users ?? []).filter((u) => !p.held.has(u.id));
  return (
    <Section title="Give someone a role here">
      {users === null ? (
        <p class="muted">Loading…</p>
      ) : candidates.length === 0 ? (
        <p class="empty">Every user of the install already holds a role here. Invite more people under People.</p>
      ) : (
        <form
          class="inline-form"
          aria-label="Give a role on this customer"
          onSubmit={(ev) => {
            ev.preventDefault();
            const form = ev.currentTarget as HTMLFormElement;
            if (form.reportValidity()) void grant.run(form);
          }}
        >
          <Field label="Person" id="grant-user">
            <select id="grant-user" name="user" required>
              {candidates.map((u) => (
                <option key={u.id} value={u.id}>
                  {`${u.name} (${u.email})`}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Role" id="grant-role">
            <select id="grant-role" name="role">
              {TENANT_ROLES.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </Field>
          <button type="submit" disabled={grant.busy}>
            Give role
          </button>
        </form>
      )}
    </Section>
  );
}

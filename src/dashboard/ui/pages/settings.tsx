import { useEffect, useState } from 'preact/hooks';
import { Ago, Badge, Field, PageHeading, ScrollBox, Section, whoText } from '../components/bits.tsx';
import { ask } from '../components/dialog.tsx';
import { CopyButton } from '../components/mfa.tsx';
import { useAction } from '../lib/act.ts';
import { api, type ListPage, tpath } from '../lib/api.ts';
import { fmtTime } from '../lib/format.ts';
import { useLive } from '../lib/live.ts';
import { notify, notifyError } from '../lib/notices.tsx';
import { canOn, type PageProps, type TenantDoc, useReady } from '../lib/page.ts';
import { INSTALL_ROLES, ROLE_NAMES, roleTitle } from '../lib/roles.ts';
import type { TokenRow } from './account.tsx';

interface Settings {
  mfaForAll: boolean;
  mfaForRoles: string[];
  tokenDefaultDays: number;
  tokenMaxDays: number;
  sessionIdleMinutes: number;
  sessionAbsoluteMinutes: number;
  suspendedReads: string[];
}

/**
 * The install's sign-in policy (settings.manage): who must use MFA (everyone, or holders of some
 * roles), how long API tokens live by default and at most, and how long a session lasts.
 */
export function SignInPolicyPage(_p: PageProps) {
  const [s, setS] = useState<Settings | null>(null);
  useEffect(() => {
    api.get<Settings>('/settings').then(setS, (err) => notifyError(err));
  }, []);
  useReady(s !== null);
  const save = useAction(async (form: HTMLFormElement) => {
    const f = new FormData(form);
    const num = (k: string) => Number(f.get(k));
    if (num('tokenDefaultDays') > num('tokenMaxDays')) {
      notify('The default lifetime of a token cannot be longer than its maximum.', 'error');
      return;
    }
    const out = await api.patch<Settings>('/settings', {
      mfaForAll: f.get('mfaForAll') === 'on',
      mfaForRoles: ROLE_NAMES.filter((r) => f.get(`mfa-${r}`) === 'on'),
      tokenDefaultDays: num('tokenDefaultDays'),
      tokenMaxDays: num('tokenMaxDays'),
      sessionIdleMinutes: num('sessionIdleMinutes'),
      sessionAbsoluteMinutes: num('sessionAbsoluteMinutes'),
    });
    setS(out);
    notify('Sign-in policy saved');
  });
  if (!s) return <p class="muted">Loading…</p>;
  const number = (name: keyof Settings, label: string, min: number, max: number, hint: string) => (
    <Field label={label} id={`set-${name}`} hint={hint}>
      <input
        id={`set-${name}`}
        name={name}
        type="number"
        inputMode="numeric"
        required
        min={min}
        max={max}
        step={1}
        defaultValue={String(s[name])}
        aria-describedby={`set-${name}-hint`}
      />
    </Field>
  );
  return (
    <>
      <PageHeading>Sign-in policy</PageHeading>
      <form
        aria-label="Sign-in policy"
        key={JSON.stringify(s)}
        onSubmit={(ev) => {
          ev.preventDefault();
          const form = ev.currentTarget as HTMLFormElement;
          if (form.reportValidity()) void save.run(form);
        }}
      >
        <Section title="Second factor (MFA)">
          <p class="muted small">
            A person who must use MFA and has none can, after signing in with their password, only set it up. People who sign in with single sign-on use their
            identity provider's second factor.
          </p>
          <div class="field inline">
            <input type="checkbox" id="mfaForAll" name="mfaForAll" defaultChecked={s.mfaForAll} />
            <label for="mfaForAll">Everyone must use MFA</label>
          </div>
          <fieldset class="gates">
            <legend>Or holders of these roles (on any customer or install-wide)</legend>
            {ROLE_NAMES.map((r) => (
              <div class="field inline" key={r}>
                <input type="checkbox" id={`mfa-${r}`} name={`mfa-${r}`} defaultChecked={s.mfaForRoles.includes(r)} />
                <label for={`mfa-${r}`}>
                  <strong>{r}</strong> — {roleTitle(r)}
                </label>
              </div>
            ))}
          </fieldset>
        </Section>
        <Section title="API tokens">
          <div class="inline-form">
            {number('tokenDefaultDays', 'Lifetime when none is asked (days)', 1, 3650, 'Tokens made without an expiry get this one.')}
            {number('tokenMaxDays', 'Longest lifetime (days)', 1, 3650, 'A longer one is refused.')}
          </div>
        </Section>
        <Section title="Sessions">
          <div class="inline-form">
            {number('sessionIdleMinutes', 'Ends after this long unused (minutes)', 1, 480, 'At most 480.')}
            {number('sessionAbsoluteMinutes', 'Ends this long after sign-in (minutes)', 5, 480, 'At most 480.')}
          </div>
        </Section>
        <p>
          <button type="submit" class="primary" disabled={save.busy}>
            Save sign-in policy
          </button>
        </p>
      </form>
      <p class="muted small">Install-wide roles: {INSTALL_ROLES.join(', ')}. Roles are given on each person's page under People.</p>
    </>
  );
}

interface ServiceToken extends TokenRow {
  createdByName?: string | null;
  tenant: string;
}

/**
 * Service accounts: the API tokens of machines, per customer (owner: the customer's service account,
 * named by the token's label), with role, expiry and last use; make one (within the install's
 * maximum lifetime) and revoke. Only customers where the session holds tokens.manage are listed.
 */
export function ServiceAccountsPage(p: PageProps) {
  const [tenants, setTenants] = useState<TenantDoc[] | null>(null);
  const [tokens, setTokens] = useState<ServiceToken[] | null>(null);
  const [shown, setShown] = useState<{ tenant: string; label: string; token: string; expiresAt: string } | null>(null);
  const load = async (list = tenants) => {
    if (!list) return;
    try {
      const pages = await Promise.all(list.map((t) => api.get<ListPage<TokenRow>>(tpath(t.id, 'tokens'), { limit: 200 })));
      setTokens(pages.flatMap((pg, i) => pg.items.map((x) => ({ ...x, tenant: list[i]!.id }))));
    } catch (err) {
      notifyError(err, () => void load(list));
    }
  };
  useEffect(() => {
    api.get<{ items: TenantDoc[] }>('/tenants').then(
      (r) => {
        const mine = r.items.filter((t) => canOn(p.session, t.id, 'tokens.manage'));
        setTenants(mine);
        void load(mine);
      },
      (err) => {
        setTenants([]);
        setTokens([]);
        notifyError(err);
      },
    );
  }, []);
  useLive(['token'], () => void load());
  useReady(tokens !== null);
  const create = useAction(async (form: HTMLFormElement) => {
    const f = new FormData(form);
    const tenant = String(f.get('tenant'));
    const label = String(f.get('label')).trim();
    const out = await api.post<{ token: string; expiresAt: string }>(tpath(tenant, 'tokens'), {
      role: String(f.get('role')),
      label,
      expiresInDays: Number(f.get('days')),
    });
    setShown({ tenant, label, token: out.token, expiresAt: out.expiresAt });
    form.reset();
    notify('Service token created');
    await load();
  });
  const revoke = useAction(async (t: ServiceToken) => {
    const ok = await ask(`Revoke "${t.label || t.id}" of ${t.tenant}?`, [], {
      text: 'Whatever uses it is refused from now on.',
      confirm: 'Revoke token',
      danger: true,
    });
    if (!ok) return;
    await api.post(tpath(t.tenant, 'tokens', t.id, 'revoke'));
    notify('Token revoked');
    await load();
  });
  if (tenants === null || tokens === null) return <p class="muted">Loading…</p>;
  const names = new Map(tenants.map((t) => [t.id, t.name]));
  const active = tokens.filter((t) => !t.revoked);
  return (
    <>
      <PageHeading>Service accounts</PageHeading>
      <p>Machines call the API with a customer's service token: an operator (reads and acts) or an auditor (reads). Every token expires.</p>
      <Section title="New service token">
        <form
          class="inline-form"
          aria-label="New service token"
          onSubmit={(ev) => {
            ev.preventDefault();
            const form = ev.currentTarget as HTMLFormElement;
            if (form.reportValidity()) void create.run(form);
          }}
        >
          <Field label="Customer" id="svc-tenant">
            <select id="svc-tenant" name="tenant" required>
              {tenants.map((t) => (
                <option key={t.id} value={t.id}>
                  {`${t.name} (${t.id})`}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Service account" id="svc-label">
            <input id="svc-label" name="label" required maxLength={200} placeholder="e.g. siem-export" autoComplete="off" />
          </Field>
          <Field label="Role" id="svc-role">
            <select id="svc-role" name="role">
              <option value="operator">operator (read and act)</option>
              <option value="auditor">auditor (read only)</option>
            </select>
          </Field>
          <Field label="Expires in (days)" id="svc-days">
            <input id="svc-days" name="days" type="number" inputMode="numeric" required min={1} max={3650} step={1} defaultValue="90" />
          </Field>
          <button type="submit" disabled={create.busy || tenants.length === 0}>
            Create token
          </button>
        </form>
        <div aria-live="polite">
          {shown ? (
            <div class="once" data-once>
              <h3>
                Token of {shown.label} on {names.get(shown.tenant) ?? shown.tenant}
              </h3>
              <p>Shown only now: Stockade keeps only its hash. It works until {fmtTime(shown.expiresAt)}.</p>
              <div class="copyrow">
                <input class="secret" readOnly value={shown.token} aria-label="The new service token" />
                <CopyButton value={shown.token} what="Token" />
              </div>
            </div>
          ) : null}
        </div>
      </Section>
      <Section title="Tokens">
        {active.length === 0 ? (
          <p class="empty">No service tokens.</p>
        ) : (
          <ScrollBox label="Service tokens">
            <table data-table="service-tokens">
              <thead>
                <tr>
                  {['Customer', 'Service account', 'Role', 'Expires', 'Last used', 'Made', 'Actions'].map((h) => (
                    <th scope="col" key={h}>
                      {h}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {active.map((t) => {
                  const expired = t.expiresAt !== null && Date.parse(t.expiresAt) <= Date.now();
                  return (
                    <tr key={t.id} data-id={t.id}>
                      <td>{names.get(t.tenant) ?? t.tenant}</td>
                      <td title={t.id}>{t.owner.kind === 'user' ? `a person (${t.owner.id})` : t.label || t.owner.id}</td>
                      <td>{t.role ?? '—'}</td>
                      <td>{t.expiresAt ? expired ? <Badge value="expired" /> : <time dateTime={t.expiresAt}>{fmtTime(t.expiresAt)}</time> : 'never'}</td>
                      <td>{t.lastUsedAt ? <Ago at={t.lastUsedAt} /> : 'never'}</td>
                      <td>{`${fmtTime(t.createdAt)} by ${whoText(t.createdBy, t.createdByName)}`}</td>
                      <td>
                        <button type="button" class="danger" disabled={revoke.busy} onClick={() => void revoke.run(t)}>
                          Revoke
                        </button>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </ScrollBox>
        )}
      </Section>
    </>
  );
}

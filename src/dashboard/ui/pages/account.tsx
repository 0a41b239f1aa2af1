import { useEffect, useState } from 'preact/hooks';
import { Ago, Badge, Facts, Field, PageHeading, ScrollBox, Section } from '../components/bits.tsx';
import { ask } from '../components/dialog.tsx';
import { CopyButton, RecoveryCodes, TotpSetup } from '../components/mfa.tsx';
import { useAction } from '../lib/act.ts';
import { api, markLeaving, request } from '../lib/api.ts';
import { fmtTime } from '../lib/format.ts';
import { reconnectLive } from '../lib/live.ts';
import { notify, notifyError } from '../lib/notices.tsx';
import { type PageProps, useReady } from '../lib/page.ts';

/** `GET /me` of a person. */
export interface Me {
  kind: 'user';
  id: string;
  name: string;
  email: string;
  sso: { issuer: string; subject: string } | null;
  hasPassword: boolean;
  mfa: { enrolled: boolean; required: boolean; pending: boolean; recoveryCodesLeft: number };
  roles: { install: string[]; tenants: Array<{ tenant: string; roles: string[] }> };
  tokenDays: { default: number; max: number };
}

interface SessionRow {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  ip: string;
  userAgent: string;
  sso: boolean;
  current: boolean;
}

export interface TokenRow {
  id: string;
  label: string;
  role: string | null;
  owner: { kind: string; id: string };
  expiresAt: string | null;
  revoked: boolean;
  createdAt: string;
  createdBy: string;
  lastUsedAt: string | null;
}

/** Signs this browser out (the session is gone on the server already, or goes now) and goes to sign-in. */
async function backToSignIn(): Promise<void> {
  markLeaving();
  await request('DELETE', '/ui/session').catch(() => {});
  reconnectLive();
  location.assign('/ui/login');
}

/** A browser's user agent as people say it: the browser and the system, roughly. */
function browserOf(ua: string): string {
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /Firefox\//.test(ua)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(ua)
        ? 'Chrome'
        : /Safari\//.test(ua)
          ? 'Safari'
          : 'A browser';
  const os = /Windows/.test(ua)
    ? 'Windows'
    : /Mac OS X/.test(ua)
      ? 'macOS'
      : /Android/.test(ua)
        ? 'Android'
        : /iPhone|iPad/.test(ua)
          ? 'iOS'
          : /Linux/.test(ua)
            ? 'Linux'
            : '';
  return os ? `${browser} on ${os}` : browser;
}

/**
 * My account: who I am and my roles, my sessions (end one or all), my second factor (set up, new
 * recovery codes, move to a new phone), my API tokens (create within the install's maximum, last
 * use, revoke) and my password. A person who must set up MFA before anything else sees only that.
 */
export function AccountPage(_p: PageProps) {
  const [me, setMe] = useState<Me | null>(null);
  const load = async () => {
    try {
      setMe(await api.get<Me>('/me'));
    } catch (err) {
      notifyError(err, () => void load());
    }
  };
  useEffect(() => {
    void load();
  }, []);
  useReady(me !== null);
  if (!me) return <p class="muted">Loading…</p>;
  if (me.mfa.pending) return <ForcedMfa me={me} />;
  return (
    <>
      <PageHeading>My account</PageHeading>
      <Facts
        items={[
          ['Name', me.name],
          ['E-mail', me.email || '—'],
          ['Signed in with', me.sso ? `single sign-on (${me.sso.issuer})` : 'password'],
          ['Install-wide roles', me.roles.install.join(', ') || 'none'],
          ['Roles on customers', me.roles.tenants.length ? me.roles.tenants.map((t) => `${t.tenant}: ${t.roles.join(', ')}`).join('; ') : 'none'],
        ]}
      />
      <Sessions />
      {me.sso ? null : <Mfa me={me} reload={load} />}
      <Tokens me={me} />
      {me.hasPassword ? <Password /> : null}
    </>
  );
}

/** The only page of a session that must set up MFA first. */
function ForcedMfa({ me }: { me: Me }) {
  const [codes, setCodes] = useState<string[] | null>(null);
  const [saved, setSaved] = useState(false);
  return (
    <>
      <PageHeading>Set up a second factor</PageHeading>
      <p>
        This install asks {me.name} to sign in with a second factor: a code from an authenticator app on your phone, on top of your password. Set it up now;
        then sign in again with your password and a code.
      </p>
      <Section title="Authenticator app">
        {codes ? (
          <>
            <RecoveryCodes codes={codes} onSaved={setSaved} />
            <p>
              <button type="button" class="primary" disabled={!saved} onClick={() => void backToSignIn()}>
                Sign in again with a code
              </button>
            </p>
          </>
        ) : (
          <TotpSetup onDone={setCodes} />
        )}
      </Section>
      <p>
        <button type="button" class="link" onClick={() => void backToSignIn()}>
          Sign out without setting it up
        </button>
      </p>
    </>
  );
}

function Sessions() {
  const [items, setItems] = useState<SessionRow[] | null>(null);
  const load = async () => {
    try {
      setItems((await api.get<{ items: SessionRow[] }>('/me/sessions')).items);
    } catch (err) {
      notifyError(err, () => void load());
    }
  };
  useEffect(() => {
    void load();
  }, []);
  const end = useAction(async (s: SessionRow) => {
    const ok = await ask(`End the session of ${browserOf(s.userAgent)} (${s.ip || 'unknown address'})?`, [], {
      text: 'That browser is signed out at its next request, on every Stockade process.',
      confirm: 'End session',
      danger: true,
    });
    if (!ok) return;
    await api.del(`/me/sessions/${s.id}`);
    notify('Session ended');
    await load();
  });
  const endAll = useAction(async () => {
    const ok = await ask('End every session of yours?', [], {
      text: 'Every browser signed in as you is signed out, this one included.',
      confirm: 'End all sessions',
      danger: true,
    });
    if (!ok) return;
    await api.post('/me/sessions/end-all');
    await backToSignIn();
  });
  return (
    <Section title="My sessions">
      {items === null ? (
        <p class="muted">Loading…</p>
      ) : (
        <ScrollBox label="My sessions">
          <table data-table="sessions">
            <thead>
              <tr>
                {['Browser', 'Address', 'Signed in', 'Last used', 'Ends', 'Actions'].map((h) => (
                  <th scope="col" key={h}>
                    {h}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {items.map((s) => (
                <tr key={s.id} data-id={s.id} class={s.current ? 'current' : undefined}>
                  <td title={s.userAgent}>
                    {browserOf(s.userAgent)}
                    {s.sso ? ' · single sign-on' : ''}
                    {s.current ? (
                      <>
                        {' '}
                        <span class="badge b-this-session">this browser</span>
                      </>
                    ) : null}
                  </td>
                  <td>{s.ip || '—'}</td>
                  <td>
                    <time dateTime={s.createdAt}>{fmtTime(s.createdAt)}</time>
                  </td>
                  <td>
                    <Ago at={s.lastSeenAt} />
                  </td>
                  <td>
                    <time dateTime={s.expiresAt}>{fmtTime(s.expiresAt)}</time>
                  </td>
                  <td>
                    {s.current ? (
                      ''
                    ) : (
                      <button type="button" class="danger" disabled={end.busy} onClick={() => void end.run(s)}>
                        End session
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollBox>
      )}
      <div class="toolbar">
        <button type="button" class="danger" disabled={endAll.busy} onClick={() => void endAll.run()}>
          End all my sessions
        </button>
      </div>
    </Section>
  );
}

/** A code from the authenticator app, asked in a dialog. */
async function askCode(title: string, text: string, confirm: string, danger = false): Promise<string | null> {
  const v = await ask(title, [{ name: 'code', label: 'Code the app shows now', required: true, maxLength: 6 }], { text, confirm, danger });
  return v ? String(v.code) : null;
}

function Mfa({ me, reload }: { me: Me; reload: () => Promise<void> }) {
  const [codes, setCodes] = useState<string[] | null>(null);
  const fresh = useAction(async () => {
    const code = await askCode('New recovery codes', 'Your current recovery codes stop working; the new ones are shown once.', 'Make new codes');
    if (!code) return;
    const out = await api.post<{ recoveryCodes: string[] }>('/me/recovery-codes', { code });
    setCodes(out.recoveryCodes);
    await reload();
  });
  const reset = useAction(async () => {
    const code = await askCode(
      'Move to a new authenticator',
      'Your authenticator and recovery codes are removed and every session of yours ends. Sign in again and set up the new app (the install may ask for it at once).',
      'Remove my authenticator',
      true,
    );
    if (!code) return;
    await api.post('/me/mfa/reset', { code });
    await backToSignIn();
  });
  return (
    <Section title="Second factor (MFA)">
      {me.mfa.enrolled ? (
        <>
          <p>
            <Badge value="on" /> You sign in with a code from your authenticator app. {me.mfa.recoveryCodesLeft} recovery code
            {me.mfa.recoveryCodesLeft === 1 ? '' : 's'} left.
          </p>
          {codes ? <RecoveryCodes codes={codes} /> : null}
          <div class="toolbar">
            <button type="button" disabled={fresh.busy} onClick={() => void fresh.run()}>
              New recovery codes
            </button>
            <button type="button" class="danger" disabled={reset.busy} onClick={() => void reset.run()}>
              Move to a new authenticator
            </button>
          </div>
        </>
      ) : codes ? (
        <RecoveryCodes codes={codes} />
      ) : (
        <>
          <p>
            <Badge value="off" />{' '}
            {me.mfa.required ? 'This install requires a second factor for you.' : 'A second factor keeps your account safe if your password leaks.'}
          </p>
          <TotpSetup
            onDone={(c) => {
              setCodes(c);
              void reload();
            }}
          />
        </>
      )}
    </Section>
  );
}

function Tokens({ me }: { me: Me }) {
  const [items, setItems] = useState<TokenRow[] | null>(null);
  const [shown, setShown] = useState<{ label: string; token: string; expiresAt: string } | null>(null);
  const load = async () => {
    try {
      setItems((await api.get<{ items: TokenRow[] }>('/me/tokens')).items);
    } catch (err) {
      notifyError(err, () => void load());
    }
  };
  useEffect(() => {
    void load();
  }, []);
  const create = useAction(async (form: HTMLFormElement) => {
    const f = new FormData(form);
    const days = Number(f.get('days'));
    const out = await api.post<{ token: string; label: string; expiresAt: string }>('/me/tokens', {
      label: String(f.get('label')).trim(),
      expiresInDays: days,
    });
    setShown({ label: out.label, token: out.token, expiresAt: out.expiresAt });
    form.reset();
    notify('Token created');
    await load();
  });
  const revoke = useAction(async (t: TokenRow) => {
    const ok = await ask(`Revoke the token "${t.label}"?`, [], { text: 'Whatever uses it is refused from now on.', confirm: 'Revoke token', danger: true });
    if (!ok) return;
    await api.post(`/me/tokens/${t.id}/revoke`);
    notify('Token revoked');
    await load();
  });
  const live = (items ?? []).filter((t) => !t.revoked);
  return (
    <Section title="My API tokens">
      <p class="muted small">For scripts and tools that call the API as you: a token has your roles while you are active, and ends on its expiry.</p>
      <form
        class="inline-form"
        aria-label="New API token"
        onSubmit={(ev) => {
          ev.preventDefault();
          const form = ev.currentTarget as HTMLFormElement;
          if (form.reportValidity()) void create.run(form);
        }}
      >
        <Field label="Label" id="token-label" class="grow">
          <input id="token-label" name="label" required maxLength={200} placeholder="what it is for" autoComplete="off" />
        </Field>
        <Field label="Expires in (days)" id="token-days" hint={`At most ${me.tokenDays.max} days on this install.`}>
          <input
            id="token-days"
            name="days"
            type="number"
            inputMode="numeric"
            required
            min={1}
            max={me.tokenDays.max}
            step={1}
            defaultValue={String(Math.min(me.tokenDays.default, me.tokenDays.max))}
            aria-describedby="token-days-hint"
          />
        </Field>
        <button type="submit" disabled={create.busy}>
          Create token
        </button>
      </form>
      <div aria-live="polite">
        {shown ? (
          <div class="once" data-once>
            <h3>Token "{shown.label}"</h3>
            <p>Shown only now: Stockade keeps only its hash. It works until {fmtTime(shown.expiresAt)}.</p>
            <div class="copyrow">
              <input class="secret" readOnly value={shown.token} aria-label="The new token" />
              <CopyButton value={shown.token} what="Token" />
            </div>
          </div>
        ) : null}
      </div>
      {items === null ? (
        <p class="muted">Loading…</p>
      ) : live.length === 0 ? (
        <p class="empty">No API tokens.</p>
      ) : (
        <ScrollBox label="My API tokens">
          <table data-table="my-tokens">
            <thead>
              <tr>
                {['Label', 'Created', 'Expires', 'Last used', 'Actions'].map((h) => (
                  <th scope="col" key={h}>
                    {h}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {live.map((t) => (
                <tr key={t.id} data-id={t.id}>
                  <td title={t.id}>{t.label}</td>
                  <td>
                    <time dateTime={t.createdAt}>{fmtTime(t.createdAt)}</time>
                  </td>
                  <td>{t.expiresAt ? <time dateTime={t.expiresAt}>{fmtTime(t.expiresAt)}</time> : 'never'}</td>
                  <td>{t.lastUsedAt ? <Ago at={t.lastUsedAt} /> : 'never'}</td>
                  <td>
                    <button type="button" class="danger" disabled={revoke.busy} onClick={() => void revoke.run(t)}>
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollBox>
      )}
    </Section>
  );
}

function Password() {
  const change = useAction(async (form: HTMLFormElement) => {
    const f = new FormData(form);
    if (f.get('password') !== f.get('again')) {
      notify('The two new passwords are not the same. Type the same password twice.', 'error');
      return;
    }
    await api.post('/me/password', { current: String(f.get('current')), password: String(f.get('password')) });
    await backToSignIn();
  });
  return (
    <Section title="Password">
      <form
        class="inline-form"
        aria-label="Change my password"
        onSubmit={(ev) => {
          ev.preventDefault();
          const form = ev.currentTarget as HTMLFormElement;
          if (form.reportValidity()) void change.run(form);
        }}
      >
        <Field label="Current password" id="pw-current">
          <input id="pw-current" name="current" type="password" autoComplete="current-password" required maxLength={1024} />
        </Field>
        <Field label="New password" id="pw-new">
          <input id="pw-new" name="password" type="password" autoComplete="new-password" required minLength={12} maxLength={256} />
        </Field>
        <Field label="Repeat the new password" id="pw-again">
          <input id="pw-again" name="again" type="password" autoComplete="new-password" required maxLength={256} />
        </Field>
        <button type="submit" disabled={change.busy}>
          Change password
        </button>
      </form>
      <p class="muted small">Changing it signs you out everywhere; sign in again with the new one.</p>
    </Section>
  );
}

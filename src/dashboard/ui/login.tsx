/**
 * The pages before a session: sign-in (`/ui/login`) and accepting an invitation (`/ui/invite#<token>`).
 *
 * Sign-in: e-mail and password, then the code of an authenticator app (or a recovery code) when the
 * person has MFA; single sign-on when the install has it set up; the admin key or a tenant token as
 * before. What comes back is an HttpOnly session cookie; the browser then returns to the page it was
 * on when its session ended (`?next=`). The invitation's token is in the address's fragment, which
 * the browser never sends to any server (no log or proxy sees it); it goes once, in the body of the
 * accept request.
 */
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, explain } from './lib/errors.ts';

const params = new URLSearchParams(location.search);
const next = params.get('next');
/** Remembers the e-mail between the invitation page and sign-in, in this tab only. */
const EMAIL_KEY = 'stk-signin-email';

/** An answer's error as an ApiError (the API's `{error: {code, message, data}}`). */
async function failure(res: Response): Promise<ApiError> {
  const body = (await res.json().catch(() => null)) as {
    error?: { code?: string; message?: string; data?: Record<string, unknown>; requestId?: string };
  } | null;
  const e = body?.error;
  const data = { ...(e?.data ?? {}) };
  const retry = Number(res.headers.get('retry-after'));
  if (retry > 0 && data.retryAfterSeconds === undefined) data.retryAfterSeconds = retry;
  return new ApiError(res.status, e?.code ?? (res.status >= 500 ? 'STK_ERR_UNAVAILABLE' : 'STK_ERR_INTERNAL'), e?.message ?? null, data, e?.requestId ?? null);
}

async function post(url: string, body: unknown): Promise<Response> {
  try {
    return await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'STK_ERR_UNAVAILABLE', null);
  }
}

/** An error line: the sentence, and the code for support. */
function Problem({ error, id }: { error: ApiError | string | null; id: string }) {
  if (!error) return <p class="error" id={id} role="alert" />;
  if (typeof error === 'string') {
    return (
      <p class="error" id={id} role="alert">
        {error}
      </p>
    );
  }
  const e = explain(error);
  return (
    <p class="error" id={id} role="alert">
      {e.sentence} <code class="error-code">{e.code}</code>
    </p>
  );
}

function useFocus<T extends HTMLElement>(when: unknown) {
  const ref = useRef<T>(null);
  useEffect(() => {
    ref.current?.focus();
  }, [when]);
  return ref;
}

/** E-mail and password, then a code when the account has MFA. */
function PasswordForm() {
  const [email, setEmail] = useState(() => sessionStorage.getItem(EMAIL_KEY) ?? '');
  const [password, setPassword] = useState('');
  const [step, setStep] = useState<'password' | 'code'>('password');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | string | null>(null);
  const first = useFocus<HTMLInputElement>(step);
  const submit = async (ev: Event) => {
    ev.preventDefault();
    if (busy) return;
    const form = ev.currentTarget as HTMLFormElement;
    const code = step === 'code' ? String(new FormData(form).get('code') ?? '').trim() : '';
    if (!email.trim() || !password) return setError('Enter your e-mail address and your password.');
    if (step === 'code' && !code) return setError('Enter the 6-digit code of your authenticator app, or a recovery code.');
    setBusy(true);
    setError(null);
    try {
      const res = await post(`/ui/session/password${next ? `?next=${encodeURIComponent(next)}` : ''}`, {
        email: email.trim(),
        password,
        ...(code ? { code } : {}),
      });
      if (res.status === 201) {
        sessionStorage.removeItem(EMAIL_KEY);
        location.assign(((await res.json()) as { home: string }).home);
        return;
      }
      const err = await failure(res);
      if (err.code === 'STK_ERR_MFA_REQUIRED' && step === 'password') {
        setStep('code');
        return;
      }
      if (step === 'code') (form.elements.namedItem('code') as HTMLInputElement | null)?.select();
      setError(err);
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'STK_ERR_UNAVAILABLE', null));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form id="signin-password" aria-label="Sign in with e-mail and password" noValidate onSubmit={submit}>
      {step === 'password' ? (
        <>
          <label for="email">E-mail</label>
          <input
            id="email"
            name="email"
            type="email"
            autoComplete="username"
            required
            maxLength={254}
            value={email}
            ref={first}
            onInput={(ev) => setEmail((ev.currentTarget as HTMLInputElement).value)}
          />
          <label for="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            autoComplete="current-password"
            required
            maxLength={1024}
            value={password}
            onInput={(ev) => setPassword((ev.currentTarget as HTMLInputElement).value)}
          />
        </>
      ) : (
        <>
          <p class="muted small" id="code-for">
            Signing in as <strong>{email}</strong>.{' '}
            <button
              type="button"
              class="link"
              onClick={() => {
                setStep('password');
                setPassword('');
                setError(null);
              }}
            >
              Use another account
            </button>
          </p>
          <label for="code">Code from your authenticator app</label>
          <input
            id="code"
            name="code"
            inputMode="numeric"
            autoComplete="one-time-code"
            required
            maxLength={40}
            spellcheck={false}
            ref={first}
            aria-describedby="code-hint signin-password-error"
          />
          <p class="hint" id="code-hint">
            The 6 digits your app shows now; or one of your recovery codes (each works once).
          </p>
        </>
      )}
      <Problem error={error} id="signin-password-error" />
      <button type="submit" class="primary" disabled={busy}>
        {step === 'code' ? 'Verify code' : 'Sign in'}
      </button>
    </form>
  );
}

/** The admin key (break-glass) or a customer's service token. */
function KeyForm() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (ev: Event) => {
    ev.preventDefault();
    if (busy) return;
    const field = (ev.currentTarget as HTMLFormElement).elements.namedItem('credential') as HTMLInputElement;
    const credential = field.value.trim();
    if (!credential) return setError('Enter the admin key or a tenant token.');
    setBusy(true);
    setError(null);
    let res: Response;
    try {
      res = await post(`/ui/session${next ? `?next=${encodeURIComponent(next)}` : ''}`, { credential });
    } catch {
      setBusy(false);
      return setError('Stockade could not be reached. Check the connection, then try again.');
    }
    if (res.status === 201) {
      location.assign(((await res.json()) as { home: string }).home);
      return;
    }
    setBusy(false);
    field.value = '';
    setError(
      res.status === 401
        ? 'That key or token is not valid.'
        : res.status === 429
          ? 'Too many failed attempts from here; wait a minute and try again.'
          : `Sign-in failed (${res.status}). Try again in a moment.`,
    );
  };
  return (
    <form id="signin" aria-label="Sign in with a key or token" noValidate onSubmit={submit}>
      <label for="credential">Admin key or tenant token</label>
      <input id="credential" name="credential" type="password" autoComplete="off" required maxLength={200} aria-describedby="credential-hint" />
      <p class="hint" id="credential-hint">
        The admin key is in <code>&lt;data&gt;/admin.key</code> and is for recovery only (every use is recorded); an admin hands out tenant tokens.
      </p>
      <p class="error" id="error" role="alert">
        {error}
      </p>
      <button type="submit" disabled={busy}>
        Sign in with key
      </button>
    </form>
  );
}

function SignInPage() {
  const [sso, setSso] = useState(false);
  const ssoError = params.get('error');
  useEffect(() => {
    void fetch('/ui/sign-in-options', { credentials: 'same-origin' })
      .then((r) => (r.ok ? (r.json() as Promise<{ sso: boolean }>) : { sso: false }))
      .then(
        (o) => setSso(o.sso),
        () => {},
      );
  }, []);
  return (
    <>
      <h1>Sign in to Stockade</h1>
      {ssoError === 'STK_ERR_FORBIDDEN' ? (
        <p class="error" id="sso-error" role="alert">
          Single sign-on worked, but your identity provider gives you no role on this install. Ask an administrator to map your group to a role.{' '}
          <code class="error-code">{ssoError}</code>
        </p>
      ) : ssoError && /^STK_ERR_[A-Z_]+$/.test(ssoError) ? (
        <Problem error={new ApiError(0, ssoError, null)} id="sso-error" />
      ) : null}
      {sso ? (
        <p class="sso">
          <a class="button primary" href="/ui/sso/start" id="sso-start">
            Sign in with single sign-on
          </a>
        </p>
      ) : null}
      <PasswordForm />
      <section class="key-signin" aria-labelledby="key-heading">
        <h2 id="key-heading">With a key or a token</h2>
        <KeyForm />
      </section>
    </>
  );
}

/** `/ui/invite#<token>`: the invited person chooses a password. */
function InvitePage() {
  const token = location.hash.replace(/^#/, '').trim();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const first = useFocus<HTMLInputElement>(token);
  const heading = useFocus<HTMLHeadingElement>(done);
  const submit = async (ev: Event) => {
    ev.preventDefault();
    if (busy) return;
    const f = new FormData(ev.currentTarget as HTMLFormElement);
    const password = String(f.get('password') ?? '');
    if (!password) return setError('Choose a password.');
    if (password !== String(f.get('again') ?? '')) return setError('The two passwords are not the same. Type the same password twice.');
    setBusy(true);
    setError(null);
    try {
      const res = await post('/api/v1/invitations/accept', { token, password });
      if (res.ok) {
        const out = (await res.json()) as { email: string };
        sessionStorage.setItem(EMAIL_KEY, out.email);
        // The token is spent: keep it out of the history from here on.
        history.replaceState(null, '', '/ui/invite');
        setDone(out.email);
        return;
      }
      setError(await failure(res));
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'STK_ERR_UNAVAILABLE', null));
    } finally {
      setBusy(false);
    }
  };
  if (done) {
    return (
      <>
        <h1 tabIndex={-1} ref={heading}>
          Your password is set
        </h1>
        <p>
          You can now sign in as <strong>{done}</strong>. If your organisation requires it, you will set up a second factor (an authenticator app) right after.
        </p>
        <p>
          <a class="button primary" href="/ui/login">
            Go to sign-in
          </a>
        </p>
      </>
    );
  }
  if (!/^[A-Za-z0-9_.-]{10,100}$/.test(token)) {
    return (
      <>
        <h1>Invitation</h1>
        <p class="error" role="alert">
          This invitation link is incomplete. Open the whole link you were sent, or ask for a new one.
        </p>
      </>
    );
  }
  return (
    <>
      <h1>Welcome to Stockade</h1>
      <p>Choose the password you will sign in with.</p>
      <form id="accept" aria-label="Accept the invitation" noValidate onSubmit={submit}>
        <label for="new-password">New password</label>
        <input
          id="new-password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          maxLength={256}
          ref={first}
          aria-describedby="password-rules accept-error"
        />
        <p class="hint" id="password-rules">
          At least 12 characters; not a common password, a plain run (abcdef, 123456) or one repeated character; not containing your name or e-mail. A few
          random words make a good one.
        </p>
        <label for="again">Repeat the password</label>
        <input id="again" name="again" type="password" autoComplete="new-password" required maxLength={256} />
        <Problem error={error} id="accept-error" />
        <button type="submit" class="primary" disabled={busy}>
          Set password
        </button>
      </form>
    </>
  );
}

const root = document.getElementById('main')!;
root.replaceChildren();
if (location.pathname.replace(/\/+$/, '') === '/ui/invite') {
  document.title = 'Invitation · Stockade';
  render(<InvitePage />, root);
} else {
  render(<SignInPage />, root);
}

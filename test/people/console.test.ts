import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { newId } from '../../src/ids.ts';
import { totpCode } from '../../src/people/totp.ts';
import { apiCall, freshTenant, stockadeFixture } from '../dashboard/stack.ts';

/**
 * What the console's people pages need of the server, over HTTP against a real Stockade: the pages'
 * addresses and who may open them, the sign-in page's options, single sign-on failures that land on
 * the sign-in page, a session that must set up MFA (nothing else, not even a token), moving to a
 * new authenticator with a code, people found by name with their last sign-in, people named in a
 * customer's audit, and the newest refused attempts of a customer.
 */
const test = suite('people: the console routes (pages, MFA, search, audit names, refusals)');

type Stack = Awaited<ReturnType<typeof stockadeFixture>>;
let s: Stack;
const PASSWORD = 'violet-kestrel-harbour-42';
const tenant = freshTenant('pc');
const other = freshTenant('pc-other');

test.before(async () => {
  s = await stockadeFixture();
  try {
    for (const t of [tenant, other]) assert.is((await admin('POST', '/tenants', { id: t, name: `Customer ${t}` })).status, 201);
  } catch (err) {
    await s.close();
    throw err;
  }
});
test.after(async () => {
  await s?.close();
});

const admin = (method: string, path: string, body?: unknown) => apiCall(s.base, s.adminKey, method, path, body);

/** A person with a password and roles on customers (or install-wide under `install`). */
async function person(name: string, roles: Record<string, string[]>): Promise<{ id: string; email: string }> {
  const email = `${newId()
    .slice(0, 8)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, 'x')}@example.test`;
  const u = await admin('POST', '/users', { name, email });
  assert.is(u.status, 201);
  const a = await fetch(`${s.base}/api/v1/invitations/accept`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: u.body.invitation.token, password: PASSWORD }),
  });
  assert.is(a.status, 200);
  for (const [t, rs] of Object.entries(roles)) {
    const r =
      t === 'install'
        ? await admin('PUT', `/users/${u.body.id}/roles`, { roles: rs })
        : await admin('PUT', `/tenants/${t}/access`, { userId: u.body.id, roles: rs });
    assert.is(r.status, 200, JSON.stringify(r.body));
  }
  return { id: u.body.id, email };
}

interface UiSession {
  cookie: string;
  csrf: string;
  home: string;
  mfaPending: boolean;
}

async function signIn(email: string, code?: string): Promise<UiSession> {
  const res = await fetch(`${s.base}/ui/session/password`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: s.base },
    body: JSON.stringify({ email, password: PASSWORD, ...(code ? { code } : {}) }),
  });
  const body = (await res.json()) as any;
  assert.is(res.status, 201, JSON.stringify(body));
  return { cookie: (res.headers.get('set-cookie') ?? '').split(';')[0]!, csrf: body.csrf, home: body.home, mfaPending: body.mfaPending };
}

function ui(x: UiSession, method: string, path: string, body?: unknown) {
  return fetch(`${s.base}/ui${path}`, {
    method,
    redirect: 'manual',
    headers: { cookie: x.cookie, origin: s.base, 'x-csrf-token': x.csrf, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  }).then(async (r) => ({ status: r.status, location: r.headers.get('location'), body: (await r.json().catch(() => null)) as any }));
}

test('the sign-in page offers single sign-on only when it is set up; the invitation page needs no session; an SSO failure in a browser lands on sign-in', async () => {
  const options = await (await fetch(`${s.base}/ui/sign-in-options`)).json();
  assert.equal(options, { sso: false });
  const invite = await fetch(`${s.base}/ui/invite`);
  assert.is(invite.status, 200);
  assert.ok((await invite.text()).includes('/ui/assets/login.js'));
  const browser = await fetch(`${s.base}/ui/sso/start`, { headers: { accept: 'text/html,application/xhtml+xml' }, redirect: 'manual' });
  assert.is(browser.status, 303);
  assert.is(browser.headers.get('location'), '/ui/login?error=STK_ERR_SSO_FAILED');
  const client = await fetch(`${s.base}/ui/sso/start`, { redirect: 'manual' });
  assert.is((await client.json()).error.code, 'STK_ERR_SSO_FAILED');
});

test('install pages: an MSP analyst lands on the all-customers overview and cannot open People; an MSP admin can; a customer analyst of one customer lands on it', async () => {
  const analyst = await signIn((await person('Ann Alyst', { [tenant]: ['msp-analyst'] })).email);
  assert.is(analyst.home, '/ui/overview');
  assert.is((await ui(analyst, 'GET', '/overview')).status, 200);
  assert.is((await ui(analyst, 'GET', '/fanout')).status, 200);
  assert.is((await ui(analyst, 'GET', '/people')).status, 404);
  assert.is((await ui(analyst, 'GET', '/sign-in-policy')).status, 404);
  assert.is((await ui(analyst, 'GET', '/account')).status, 200);
  assert.is((await ui(analyst, 'GET', `/t/${tenant}/approvals`)).status, 200);
  assert.is((await ui(analyst, 'GET', `/t/${other}/approvals`)).status, 404);
  const mspAdmin = await signIn((await person('Mo Admin', { install: ['msp-admin'] })).email);
  assert.is((await ui(mspAdmin, 'GET', '/people')).status, 200);
  assert.is((await ui(mspAdmin, 'GET', `/people/${newId()}`)).status, 200);
  assert.is((await ui(mspAdmin, 'GET', '/sign-in-policy')).status, 404, 'settings.manage is the MSP owner’s');
  const customer = await signIn((await person('Cus Tomer', { [tenant]: ['customer-analyst'] })).email);
  assert.is(customer.home, `/ui/t/${tenant}/overview`);
  assert.is((await ui(customer, 'GET', '/overview')).status, 404);
  assert.is((await ui(customer, 'GET', `/t/${tenant}/access`)).status, 200);
  // The admin key is no person: no account page.
  const key = await fetch(`${s.base}/ui/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: s.base },
    body: JSON.stringify({ credential: s.adminKey }),
  });
  const keySession = { cookie: (key.headers.get('set-cookie') ?? '').split(';')[0]!, csrf: '', home: '', mfaPending: false };
  assert.is((await ui(keySession, 'GET', '/account')).status, 404);
  assert.is((await ui(keySession, 'GET', '/people')).status, 200);
});

test('a session that must set up MFA reaches only its account page, and cannot make an API token to skip it', async () => {
  assert.is((await admin('PATCH', '/settings', { mfaForRoles: ['auditor'] })).status, 200);
  try {
    const p = await person('Aud Itor', { [tenant]: ['auditor'] });
    const x = await signIn(p.email);
    assert.is(x.mfaPending, true);
    assert.is(x.home, '/ui/account');
    const page = await ui(x, 'GET', `/t/${tenant}/overview`);
    assert.is(page.status, 303);
    assert.is(page.location, '/ui/account');
    const token = await ui(x, 'POST', '/api/me/tokens', { label: 'skip mfa' });
    assert.is(token.status, 403);
    assert.is(token.body.error.code, 'STK_ERR_MFA_REQUIRED');
    const me = await ui(x, 'GET', '/api/me');
    assert.equal(me.body.mfa.pending, true);
    assert.equal(me.body.tokenDays, { default: 90, max: 365 });
  } finally {
    await admin('PATCH', '/settings', { mfaForRoles: [] });
  }
});

test('moving to a new authenticator needs a current code; it removes MFA and ends every session', async () => {
  const p = await person('Mo Ving', { [tenant]: ['customer-analyst'] });
  const x = await signIn(p.email);
  const start = await ui(x, 'POST', '/api/me/mfa/totp');
  const confirmCode = totpCode(start.body.secret, Date.now());
  const confirmed = await ui(x, 'POST', '/api/me/mfa/totp/confirm', { ticket: start.body.ticket, code: confirmCode });
  assert.is(confirmed.status, 200);
  // Signed in with a recovery code, so that the next TOTP step is still free for the reset.
  const y = await signIn(p.email, confirmed.body.recoveryCodes[0]);
  const wrong = await ui(y, 'POST', '/api/me/mfa/reset', { code: confirmCode === '000000' ? '111111' : '000000' });
  assert.is(wrong.body.error.code, 'STK_ERR_MFA_INVALID');
  // The code of the set-up was used: it resets nothing (and a wrong code does not end the session).
  const replay = await ui(y, 'POST', '/api/me/mfa/reset', { code: confirmCode });
  assert.is(replay.body.error.code, 'STK_ERR_MFA_REPLAYED');
  const reset = await ui(y, 'POST', '/api/me/mfa/reset', { code: totpCode(start.body.secret, Date.now() + 30_000) });
  assert.is(reset.status, 200, JSON.stringify(reset.body));
  assert.is((await ui(y, 'GET', '/api/me')).status, 401, 'every session ended');
  const z = await signIn(p.email);
  const me = await ui(z, 'GET', '/api/me');
  assert.is(me.body.mfa.enrolled, false);
  const none = await ui(z, 'POST', '/api/me/mfa/reset', { code: '123456' });
  assert.is(none.body.error.code, 'STK_ERR_INVALID_TRANSITION');
});

test('people are found by a part of their name or e-mail, with a total, and show their last sign-in', async () => {
  const p = await person('Zelda Quartermaine', { [tenant]: ['customer-analyst'] });
  await person('Someone Else', { [tenant]: ['customer-analyst'] });
  await signIn(p.email);
  assert.ok(await s.stk.runtime.readModels!.projector.waitFor(await s.stk.runtime.log.lastPosition(), 10_000));
  const found = await admin('GET', '/users?q=quarterm');
  assert.is(found.status, 200, JSON.stringify(found.body));
  assert.equal(
    found.body.items.map((u: any) => u.email),
    [p.email],
  );
  assert.is(found.body.total, 1);
  assert.ok(found.body.items[0].lastSignInAt, JSON.stringify(found.body.items[0]));
  assert.is(found.body.items[0].lastSignInMethod, 'password');
  const byMail = await admin('GET', `/users?q=${encodeURIComponent(p.email.slice(0, 6).toUpperCase())}`);
  assert.ok(byMail.body.items.some((u: any) => u.id === p.id));
});

test("a customer's audit names the people who acted, and whoever may export it sees its newest refused attempts (not another customer's)", async () => {
  const doer = await person('Dee Oer', { [tenant]: ['customer-admin'] });
  const x = await signIn(doer.email);
  const renamed = await ui(x, 'PUT', `/api/tenants/${tenant}/policy`, { approvalExpiryMinutes: 45 });
  assert.is(renamed.status, 200, JSON.stringify(renamed.body));
  // Refused: a customer admin may not suspend (recorded under the customer); and a probe of another customer.
  assert.is((await ui(x, 'POST', `/api/tenants/${tenant}/suspend`, { reason: 'no' })).status, 403);
  assert.is((await ui(x, 'GET', `/api/tenants/${other}/alerts`)).status, 404);
  const audit = await ui(x, 'GET', `/api/tenants/${tenant}/audit?aggregateType=policy&waitFor=${renamed.body.consistencyToken}`);
  const entry = audit.body.items.find((a: any) => a.action === 'policy.changed');
  assert.is(entry.actorName, 'Dee Oer');
  assert.match(entry.via, /^session:/);
  const refusals = await ui(x, 'GET', `/api/tenants/${tenant}/audit/refusals?limit=5`);
  assert.is(refusals.status, 200, JSON.stringify(refusals.body));
  assert.is(refusals.body.items[0].code, 'STK_ERR_FORBIDDEN');
  assert.is(refusals.body.items[0].route, `/api/v1/tenants/:tenant/suspend`);
  assert.is(refusals.body.items[0].actor, `user:${doer.id}`);
  assert.not.ok(
    refusals.body.items.some((r: any) => r.route.endsWith('/alerts')),
    "another customer's probe is not this customer's",
  );
  // An analyst reads the audit but not the refused attempts (audit.export).
  const analyst = await signIn((await person('Ana Lyst', { [tenant]: ['customer-analyst'] })).email);
  const denied = await ui(analyst, 'GET', `/api/tenants/${tenant}/audit/refusals`);
  assert.is(denied.status, 403);
  assert.is(denied.body.error.code, 'STK_ERR_FORBIDDEN');
});

test.run();

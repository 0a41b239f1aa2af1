import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { userDecider } from '../../commands/users/decider.ts';
import { execute } from '../../src/domain/execute.ts';
import { newId } from '../../src/ids.ts';
import { INSTALL_TENANT } from '../../src/people/install.ts';
import { mintInvitation } from '../../src/people/invitations.ts';
import { LOCKOUT_FREE_FAILURES } from '../../src/people/lockout.ts';
import { totpCode } from '../../src/people/totp.ts';
import { apiCall, freshTenant, stockadeFixture } from '../dashboard/stack.ts';

/**
 * People signing in to two API processes of one install (one NATS, each with its own read models):
 * invitations, the password policy, lock-out counted across processes, TOTP that works once on
 * every process, recovery codes, sessions a user lists and ends, and a disable that ends every
 * session on both processes at once.
 */
const test = suite('people: invitations, sign-in, MFA and sessions on two API processes');

type Stack = Awaited<ReturnType<typeof stockadeFixture>>;
let a: Stack;
let b: Stack;
const PASSWORD = 'violet-kestrel-harbour-42';

test.before(async () => {
  a = await stockadeFixture();
  try {
    b = await stockadeFixture({ role: 'api', natsUrl: a.stk.natsUrl, adminKey: a.adminKey });
  } catch (err) {
    await a.close();
    throw err;
  }
});
test.after(async () => {
  await b?.close();
  await a?.close();
});

const admin = (method: string, path: string, body?: unknown) => apiCall(a.base, a.adminKey, method, path, body);
const last = () => a.stk.runtime.log.lastPosition();

async function invite(name = 'Grace Hopper'): Promise<{ id: string; email: string; token: string }> {
  const email = `${newId()
    .slice(0, 8)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, 'x')}@example.test`;
  const r = await admin('POST', '/users', { name, email });
  assert.is(r.status, 201, JSON.stringify(r.body));
  return { id: r.body.id, email, token: r.body.invitation.token };
}

async function accept(token: string, password: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${a.base}/api/v1/invitations/accept`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, password }),
  });
  return { status: res.status, body: await res.json() };
}

async function signIn(base: string, email: string, password: string, code?: string) {
  const res = await fetch(`${base}/ui/session/password`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: base },
    body: JSON.stringify({ email, password, ...(code ? { code } : {}) }),
  });
  const body = (await res.json().catch(() => ({}))) as any;
  return { status: res.status, body, cookie: (res.headers.get('set-cookie') ?? '').split(';')[0]!, retryAfter: res.headers.get('retry-after') };
}

function ui(base: string, s: { cookie: string; body: { csrf?: string } }, method: string, path: string, body?: unknown) {
  return fetch(`${base}/ui${path}`, {
    method,
    headers: { cookie: s.cookie, origin: base, 'x-csrf-token': s.body.csrf ?? '', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  }).then(async (r) => ({ status: r.status, body: (await r.json().catch(() => null)) as any }));
}

test('an invitation: a weak password and a used or expired invitation are refused with their code and write nothing', async () => {
  const u = await invite();
  let before = await last();
  for (const [pw, reason] of [
    ['short', 'too-short'],
    ['Password123456', 'common'],
    ['grace-hopper-navy', 'personal'],
  ]) {
    const r = await accept(u.token, pw!);
    assert.is(r.status, 400);
    assert.is(r.body.error.code, 'STK_ERR_PASSWORD_WEAK');
    assert.is(r.body.error.data.reason, reason);
  }
  assert.is(await last(), before, 'a weak password wrote nothing');
  assert.is((await accept(u.token, PASSWORD)).status, 200);
  before = await last();
  const again = await accept(u.token, `${PASSWORD}-2`);
  assert.is(again.status, 410);
  assert.is(again.body.error.code, 'STK_ERR_INVITATION_INVALID');
  // An invitation that expired (written as the API writes one, an hour in the past).
  const inv = mintInvitation();
  const id = newId();
  await execute(
    a.stk.runtime.log,
    { tenant: INSTALL_TENANT, id },
    userDecider,
    {
      kind: 'invite',
      user: {
        name: 'Late',
        email: `${id.toLowerCase().replace(/[^a-z0-9]/g, 'x')}@example.test`,
        invitation: { lookup: inv.lookup, hash: inv.hash, expiresAt: new Date(Date.now() - 3600_000).toISOString() },
      },
    },
    { actor: { kind: 'operator', id: 'admin' }, known: 'new' },
  );
  await a.stk.runtime.readModels!.projector.waitFor(await last(), 5000);
  before = await last();
  const expired = await accept(inv.secret, PASSWORD);
  assert.is(expired.status, 410);
  assert.is(expired.body.error.code, 'STK_ERR_INVITATION_INVALID');
  const forged = await accept(`stk_inv_${inv.lookup}.${'A'.repeat(43)}`, PASSWORD);
  assert.is(forged.status, 410);
  assert.is(await last(), before, 'refused invitations wrote nothing');
});

test('a session made on one process is the user on the other; lock-out is counted across both', async () => {
  const u = await invite();
  assert.is((await accept(u.token, PASSWORD)).status, 200);
  await b.stk.runtime.readModels!.projector.waitFor(await last(), 5000);
  const s = await signIn(a.base, u.email, PASSWORD);
  assert.is(s.status, 201, JSON.stringify(s.body));
  const onB = await ui(b.base, s, 'GET', '/session');
  assert.is(onB.status, 200);
  assert.equal(onB.body.principal, { kind: 'user', id: u.id, name: 'Grace Hopper', sso: null, mfaPending: false });
  assert.is(onB.body.breakGlass, false);
  const me = await ui(b.base, s, 'GET', '/api/me');
  assert.is(me.body.kind, 'user');
  assert.is(me.body.id, u.id);

  // Wrong passwords alternate between the processes; the account waits after the free ones.
  for (let i = 0; i < LOCKOUT_FREE_FAILURES; i++) {
    const r = await signIn(i % 2 ? b.base : a.base, u.email, 'wrong-password-123');
    assert.is(r.status, 401, `failure ${i}`);
  }
  for (const base of [a.base, b.base]) {
    const r = await signIn(base, u.email, PASSWORD);
    assert.is(r.status, 429, 'the right password too waits');
    assert.is(r.body.error.code, 'STK_ERR_ACCOUNT_LOCKED');
    assert.ok(Number(r.retryAfter) >= 1);
  }
  // An unknown e-mail is counted and answered the same way: no account list by probing.
  const ghost = await signIn(a.base, 'nobody@example.test', 'wrong-password-123');
  assert.is(ghost.status, 401);
  assert.is(ghost.body.error.code, 'STK_ERR_AUTH_REQUIRED');
});

test('TOTP: set up through the session; a code works once on every process; a recovery code works once', async () => {
  const u = await invite('Katherine Johnson');
  assert.is((await accept(u.token, PASSWORD)).status, 200);
  await b.stk.runtime.readModels!.projector.waitFor(await last(), 5000);
  const s = await signIn(a.base, u.email, PASSWORD);
  const start = await ui(a.base, s, 'POST', '/api/me/mfa/totp', {});
  assert.is(start.status, 200, JSON.stringify(start.body));
  assert.match(start.body.uri, /^otpauth:\/\/totp\//);
  const t0 = Date.now();
  const confirm = await ui(a.base, s, 'POST', '/api/me/mfa/totp/confirm', { ticket: start.body.ticket, code: totpCode(start.body.secret, t0) });
  assert.is(confirm.status, 200, JSON.stringify(confirm.body));
  const recovery = confirm.body.recoveryCodes as string[];
  assert.is(recovery.length, 10);

  const noCode = await signIn(a.base, u.email, PASSWORD);
  assert.is(noCode.status, 403);
  assert.is(noCode.body.error.code, 'STK_ERR_MFA_REQUIRED');
  const before = await last();
  const used = await signIn(b.base, u.email, PASSWORD, totpCode(start.body.secret, t0));
  assert.is(used.status, 401, 'the code used to confirm the set-up is spent');
  assert.is(used.body.error.code, 'STK_ERR_MFA_REPLAYED');
  assert.is(await last(), before, 'a replayed code wrote nothing');
  const next = totpCode(start.body.secret, t0 + 30_000);
  const ok = await signIn(a.base, u.email, PASSWORD, next);
  assert.is(ok.status, 201, JSON.stringify(ok.body));
  const replay = await signIn(b.base, u.email, PASSWORD, next);
  assert.is(replay.status, 401);
  assert.is(replay.body.error.code, 'STK_ERR_MFA_REPLAYED');
  const wrong = await signIn(a.base, u.email, PASSWORD, '000000');
  assert.is(wrong.body.error.code, 'STK_ERR_MFA_INVALID');

  const viaRecovery = await signIn(b.base, u.email, PASSWORD, recovery[2]);
  assert.is(viaRecovery.status, 201, JSON.stringify(viaRecovery.body));
  const twice = await signIn(a.base, u.email, PASSWORD, recovery[2]);
  assert.is(twice.status, 401);
  assert.is(twice.body.error.code, 'STK_ERR_MFA_INVALID');
});

test('sessions: a user lists them and ends one; disabling the user ends the rest on both processes at once', async () => {
  const u = await invite('Mary Jackson');
  assert.is((await accept(u.token, PASSWORD)).status, 200);
  await b.stk.runtime.readModels!.projector.waitFor(await last(), 5000);
  const s1 = await signIn(a.base, u.email, PASSWORD);
  const s2 = await signIn(b.base, u.email, PASSWORD);
  const s3 = await signIn(a.base, u.email, PASSWORD);
  const list = await ui(b.base, s1, 'GET', '/api/me/sessions');
  assert.is(list.status, 200);
  assert.is(list.body.items.length, 3);
  assert.is(list.body.items.filter((x: any) => x.current).length, 1);
  const other = list.body.items.find((x: any) => !x.current);
  const ended = await fetch(`${a.base}/ui/api/me/sessions/${other.id}`, {
    method: 'DELETE',
    headers: { cookie: s1.cookie, origin: a.base, 'x-csrf-token': s1.body.csrf },
  });
  assert.is(ended.status, 204);
  const alive = [s1, s2, s3].filter(async () => true);
  const statuses = await Promise.all(alive.map((s) => ui(a.base, s, 'GET', '/session').then((r) => r.status)));
  assert.is(statuses.filter((x) => x === 401).length, 1, 'exactly the ended session is gone');

  // Disable through process A; process B refuses at its very next request, without waiting for its projector.
  const disabled = await admin('POST', `/users/${u.id}/disable`, { reason: 'left the company' });
  assert.is(disabled.status, 200, JSON.stringify(disabled.body));
  for (const s of [s1, s2, s3]) {
    for (const base of [a.base, b.base]) {
      assert.is((await ui(base, s, 'GET', '/session')).status, 401);
      assert.is((await ui(base, s, 'GET', '/api/me')).status, 401);
    }
  }
  assert.is((await signIn(b.base, u.email, PASSWORD)).status, 401);
});

test('the admin key is break-glass: its use is a sealed event of the install, and the session says so', async () => {
  const before = await last();
  const tenant = freshTenant('bg');
  // A second process's first use of the key starts an episode on record.
  assert.is((await apiCall(b.base, a.adminKey, 'POST', '/tenants', { id: tenant, name: 'Break glass' })).status, 201);
  const records = (await a.stk.runtime.log.readTenant(INSTALL_TENANT, before)).flatMap((r) => r.events).filter((e) => e.type === 'admin-key.used');
  assert.ok(records.length >= 1, 'the use of the admin key is on record');
  assert.is((records[0]!.data as { route: string }).route, '/api/v1/tenants');
  const me = await apiCall(a.base, a.adminKey, 'GET', '/me');
  assert.equal({ kind: me.body.kind, breakGlass: me.body.breakGlass }, { kind: 'admin', breakGlass: true });
  const res = await fetch(`${a.base}/ui/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: a.base },
    body: JSON.stringify({ credential: a.adminKey }),
  });
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  const view = await (await fetch(`${a.base}/ui/session`, { headers: { cookie } })).json();
  assert.is(view.breakGlass, true);
  // Customers cannot reserve Stockade's own tenant ids.
  const reserved = await admin('POST', '/tenants', { id: 'stk-install', name: 'x' });
  assert.is(reserved.status, 400);
  assert.is(reserved.body.error.code, 'STK_ERR_TENANT_RESERVED');
});

test.run();

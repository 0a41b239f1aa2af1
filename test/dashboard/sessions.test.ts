import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SESSION_BUCKET } from '../../src/dashboard/mod.ts';
import { apiCall, freshTenant, stockadeFixture } from './stack.ts';
import { settled } from './ui.ts';

/**
 * Dashboard sessions without a browser: shared by every API process through NATS KV, useless to
 * whoever reads the bucket, ended everywhere by a sign-out; and the live stream carries one
 * tenant's events only.
 */
const test = suite('dashboard sessions and live stream');

type Stack = Awaited<ReturnType<typeof stockadeFixture>>;
let a: Stack;
let b: Stack;

test.before(async () => {
  a = await stockadeFixture();
  try {
    // A second API process of the same install: same NATS, its own LevelDB and projector.
    b = await stockadeFixture({ role: 'api', natsUrl: a.stk.natsUrl, adminKey: a.adminKey });
  } catch (err) {
    console.error('second API process could not start:', err);
    await a.close();
    throw err;
  }
});

test.after(async () => {
  await b?.close();
  await a?.close();
});

async function signIn(base: string, credential: string): Promise<{ status: number; cookie: string; csrf: string }> {
  const res = await fetch(`${base}/ui/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: base },
    body: JSON.stringify({ credential }),
  });
  const setCookie = res.headers.get('set-cookie') ?? '';
  const body = res.status === 201 ? await res.json() : {};
  return { status: res.status, cookie: setCookie.split(';')[0]!, csrf: body.csrf ?? '' };
}

async function newTenantWithToken(): Promise<{ id: string; token: string; tokenId: string; consistencyToken: string }> {
  const id = freshTenant('sess');
  assert.is((await apiCall(a.base, a.adminKey, 'POST', '/tenants', { id, name: `Tenant ${id}` })).status, 201);
  const tok = await apiCall(a.base, a.adminKey, 'POST', `/tenants/${id}/tokens`, { role: 'operator' });
  assert.is(tok.status, 201);
  // Signing in with the token reads the read models: let them reach the token first.
  assert.is((await apiCall(a.base, a.adminKey, 'GET', `/tenants/${id}?waitFor=${tok.body.consistencyToken}`)).status, 200);
  return { id, token: tok.body.token, tokenId: tok.body.id, consistencyToken: tok.body.consistencyToken as string };
}

test('a session made on one API process works on another, and a sign-out on either ends it on both', async () => {
  const t = await newTenantWithToken();
  // Process B has projected the token before it is asked to honour it.
  assert.is((await apiCall(b.base, b.adminKey, 'GET', `/tenants/${t.id}/tokens?waitFor=${t.consistencyToken}`)).status, 200);
  const s = await signIn(a.base, t.token);
  assert.is(s.status, 201);
  assert.match(s.cookie, /^stk_session=[A-Za-z0-9_-]{43}$/);

  const onB = await fetch(`${b.base}/ui/session`, { headers: { cookie: s.cookie } });
  assert.is(onB.status, 200);
  const view = await onB.json();
  assert.equal(view.principal, { kind: 'token', tenant: t.id, role: 'operator' });
  assert.is(view.csrf, s.csrf, 'the CSRF token is the same on every process');
  const list = await fetch(`${b.base}/ui/api/tenants/${t.id}/alerts`, { headers: { cookie: s.cookie } });
  assert.is(list.status, 200);

  const out = await fetch(`${b.base}/ui/session`, { method: 'DELETE', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, origin: b.base } });
  assert.is(out.status, 204);
  assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/);
  assert.is((await fetch(`${a.base}/ui/session`, { headers: { cookie: s.cookie } })).status, 401);
  assert.is((await fetch(`${a.base}/ui/api/tenants/${t.id}/alerts`, { headers: { cookie: s.cookie } })).status, 401);
});

test('a token revoked by an admin ends the dashboard sessions made with it', async () => {
  const t = await newTenantWithToken();
  const s = await signIn(a.base, t.token);
  assert.is((await fetch(`${a.base}/ui/api/tenants/${t.id}/alerts`, { headers: { cookie: s.cookie } })).status, 200);
  assert.is((await apiCall(a.base, a.adminKey, 'POST', `/tenants/${t.id}/tokens/${t.tokenId}/revoke`, {})).status, 200);
  const page = await fetch(`${a.base}/ui/t/${t.id}/alerts`, { headers: { cookie: s.cookie }, redirect: 'manual' });
  assert.is(page.status, 303);
  // To sign-in, and back to this page afterwards.
  assert.is(page.headers.get('location'), `/ui/login?next=${encodeURIComponent(`/ui/t/${t.id}/alerts`)}`);
  assert.match(page.headers.get('set-cookie') ?? '', /Max-Age=0/);
  assert.is((await fetch(`${a.base}/ui/session`, { headers: { cookie: s.cookie } })).status, 401);
});

test('the session bucket holds nothing usable: no credential, no tenant, keys are hashes', async () => {
  const t = await newTenantWithToken();
  const admin = await signIn(a.base, a.adminKey);
  const tenant = await signIn(a.base, t.token);
  assert.is(admin.status, 201);
  assert.is(tenant.status, 201);
  const kv = await a.stk.runtime.streams.bucket(SESSION_BUCKET);
  const keys: string[] = [];
  for await (const k of await kv.keys()) keys.push(k);
  assert.ok(keys.length >= 2);
  for (const k of keys) {
    assert.match(k, /^s\.[0-9a-f]{64}$/);
    const raw = (await kv.get(k))?.string() ?? '';
    for (const secret of [a.adminKey, t.token, t.id, admin.cookie.split('=')[1]!, tenant.cookie.split('=')[1]!]) {
      assert.not.ok(raw.includes(secret), 'a session entry shows a secret or the tenant in plaintext');
    }
  }
});

test('a forged, altered or unknown cookie is no session; a wrong credential makes none', async () => {
  const s = await signIn(a.base, a.adminKey);
  const sid = s.cookie.split('=')[1]!;
  const altered = `${sid.slice(0, -1)}${sid.endsWith('A') ? 'B' : 'A'}`;
  for (const cookie of [`stk_session=${altered}`, 'stk_session=../../etc', `stk_session=${'A'.repeat(43)}`, 'stk_session=']) {
    assert.is((await fetch(`${a.base}/ui/session`, { headers: { cookie } })).status, 401, cookie);
    assert.is((await fetch(`${a.base}/ui/api/tenants`, { headers: { cookie } })).status, 401, cookie);
  }
  const wrong = await signIn(a.base, 'stk_tok_AAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
  assert.is(wrong.status, 401);
  assert.is(wrong.cookie, '');
  // A sign-in posted from another site is refused before the credential is even checked.
  const foreign = await fetch(`${a.base}/ui/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: 'http://evil.example' },
    body: JSON.stringify({ credential: a.adminKey }),
  });
  assert.is(foreign.status, 403);
  assert.is(foreign.headers.get('set-cookie'), null);
});

test('every dashboard response carries the strict CSP; the credential never reaches the page', async () => {
  const s = await signIn(a.base, a.adminKey);
  for (const path of [
    '/ui/login',
    '/ui/customers',
    '/ui/assets/app.js',
    '/ui/session',
    '/ui/api/tenants',
    '/ui/t/nope/overview',
    '/ui/assets/nope.js',
    '/ui/no/such/page',
  ]) {
    const res = await fetch(`${a.base}${path}`, { headers: { cookie: s.cookie } });
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.ok(csp.includes("default-src 'none'") && csp.includes("script-src 'self'") && !csp.includes('unsafe'), `${path}: ${csp}`);
    assert.is(res.headers.get('x-frame-options'), 'DENY');
    assert.not.ok((await res.text()).includes(a.adminKey), `${path} shows the admin key`);
  }
});

test("live stream: only the chosen tenant's events, and only for a session that may see it", async () => {
  const mine = await newTenantWithToken();
  const other = await newTenantWithToken();
  const s = await signIn(a.base, mine.token);
  assert.is((await fetch(`${a.base}/ui/live/${other.id}`, { headers: { cookie: s.cookie } })).status, 404);
  assert.is((await fetch(`${a.base}/ui/live/${mine.id}`)).status, 401);

  const res = await fetch(`${a.base}/ui/live/${mine.id}`, { headers: { cookie: s.cookie } });
  assert.is(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  const next = async (pattern: RegExp): Promise<string> => {
    for (;;) {
      const m = pattern.exec(buf);
      if (m) {
        buf = buf.slice(m.index + m[0].length);
        return m[0];
      }
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended before ${pattern}`);
      buf += value;
    }
  };
  try {
    await next(/event: ready\n.*\n\n/);
    // The other tenant's incident is appended first: had it leaked, it would arrive first.
    const theirs = await apiCall(a.base, a.adminKey, 'POST', `/tenants/${other.id}/incidents`, { title: 'theirs', severity: 'low' });
    const ours = await apiCall(a.base, mine.token, 'POST', `/tenants/${mine.id}/incidents`, { title: 'ours', severity: 'low' });
    assert.is(theirs.status, 201);
    assert.is(ours.status, 201);
    const got = await next(/event: change\ndata: .*\n\n/);
    const change = JSON.parse(got.split('data: ')[1]!);
    assert.equal(
      { tenant: change.tenant, kind: change.kind, type: change.type, id: change.id },
      { tenant: mine.id, kind: 'incident', type: 'incident.opened', id: ours.body.id },
    );
    assert.not.ok(got.includes(theirs.body.id));
  } finally {
    // Left open on purpose: the server ends it when it shuts down (after this suite), the path a
    // browser left open on the page takes.
    reader.releaseLock();
  }
});

test('one stream for several customers (the tabs of a browser): each change says whose it is; one customer the session cannot see refuses the whole stream', async () => {
  const one = await newTenantWithToken();
  const two = await newTenantWithToken();
  const token = await signIn(a.base, one.token);
  const mixed = await fetch(`${a.base}/ui/live?tenant=${one.id}&tenant=${two.id}`, { headers: { cookie: token.cookie } });
  assert.is(mixed.status, 404);
  const admin = await signIn(a.base, a.adminKey);
  const res = await fetch(`${a.base}/ui/live?tenant=${one.id}&tenant=${two.id}`, { headers: { cookie: admin.cookie } });
  assert.is(res.status, 200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  const until = async (n: number): Promise<Array<{ tenant: string; id: string }>> => {
    for (;;) {
      const events = [...buf.matchAll(/event: change\ndata: (.*)\n\n/g)].map((m) => JSON.parse(m[1]!) as { tenant: string; id: string });
      if (events.length >= n) return events;
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended');
      buf += value;
    }
  };
  try {
    while (!/event: ready\ndata: (.*)\n\n/.test(buf)) buf += (await reader.read()).value ?? '';
    const ready = JSON.parse(/event: ready\ndata: (.*)\n\n/.exec(buf)![1]!) as { tokens: Record<string, string> };
    assert.equal(Object.keys(ready.tokens).sort(), [one.id, two.id].sort());
    const i1 = await apiCall(a.base, a.adminKey, 'POST', `/tenants/${one.id}/incidents`, { title: 'one', severity: 'low' });
    const i2 = await apiCall(a.base, a.adminKey, 'POST', `/tenants/${two.id}/incidents`, { title: 'two', severity: 'low' });
    const got = await until(2);
    assert.ok(got.some((e) => e.tenant === one.id && e.id === i1.body.id));
    assert.ok(got.some((e) => e.tenant === two.id && e.id === i2.body.id));
  } finally {
    reader.releaseLock();
  }
});

test("an MSP analyst of A and B, on A's page: A's stream never carries B's changes; C, not assigned, gives no stream at all", async () => {
  const [A, B, C] = [await newTenantWithToken(), await newTenantWithToken(), await newTenantWithToken()];
  const email = `analyst-${A.id}@msp.example`;
  const password = 'violet-kestrel-harbour-42';
  const u = await apiCall(a.base, a.adminKey, 'POST', '/users', { name: 'Alex Analyst', email });
  assert.is(u.status, 201, JSON.stringify(u.body));
  const accepted = await fetch(`${a.base}/api/v1/invitations/accept`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: u.body.invitation.token, password }),
  });
  assert.is(accepted.status, 200);
  for (const t of [A, B])
    assert.is((await apiCall(a.base, a.adminKey, 'PUT', `/tenants/${t.id}/access`, { userId: u.body.id, roles: ['msp-analyst'] })).status, 200);
  await settled(a, B.id);
  const signedIn = await fetch(`${a.base}/ui/session/password`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: a.base },
    body: JSON.stringify({ email, password }),
  });
  assert.is(signedIn.status, 201, await signedIn.clone().text());
  const cookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0]!;

  // C is not theirs: no stream of it, alone or with one of theirs, and the answer is a missing customer's.
  for (const path of [`/ui/live/${C.id}`, `/ui/live?tenant=${A.id}&tenant=${C.id}`, '/ui/live/no-such-customer']) {
    const r = await fetch(`${a.base}${path}`, { headers: { cookie } });
    assert.is(r.status, 404, path);
    assert.is(((await r.json()) as { error: { code: string } }).error.code, 'STK_ERR_NOT_FOUND');
  }

  const res = await fetch(`${a.base}/ui/live/${A.id}`, { headers: { cookie } });
  assert.is(res.status, 200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  const changes = async (until: (seen: Array<{ tenant: string; id: string }>) => boolean) => {
    for (;;) {
      const seen = [...buf.matchAll(/event: change\ndata: (.*)\n\n/g)].map((m) => JSON.parse(m[1]!) as { tenant: string; id: string });
      if (until(seen)) return seen;
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended');
      buf += value;
    }
  };
  try {
    const ready = await changes(() => /event: ready\ndata: .*\n\n/.test(buf));
    assert.equal(ready, []);
    assert.equal(Object.keys(JSON.parse(/event: ready\ndata: (.*)\n\n/.exec(buf)![1]!).tokens), [A.id]);
    // B's and C's changes are appended first, by the analyst (B) and the admin (C): had they leaked, they would arrive first.
    const b = await apiCall(a.base, B.token, 'POST', `/tenants/${B.id}/incidents`, { title: 'B only', severity: 'high' });
    const c = await apiCall(a.base, C.token, 'POST', `/tenants/${C.id}/incidents`, { title: 'C only', severity: 'high' });
    const mine = await apiCall(a.base, A.token, 'POST', `/tenants/${A.id}/incidents`, { title: 'A', severity: 'low' });
    assert.equal([b.status, c.status, mine.status], [201, 201, 201]);
    const seen = await changes((x) => x.some((e) => e.id === mine.body.id));
    assert.ok(
      seen.every((e) => e.tenant === A.id),
      JSON.stringify(seen),
    );
    assert.not.ok(buf.includes(b.body.id) || buf.includes(c.body.id) || buf.includes(B.id) || buf.includes(C.id), "nothing of B's or C's on A's stream");
  } finally {
    reader.releaseLock();
  }
});

test('one session holds at most 8 live streams; another session is not affected', async () => {
  const t = await newTenantWithToken();
  const s = await signIn(a.base, t.token);
  const streams: Response[] = [];
  for (let i = 0; i < 8; i++) {
    const res = await fetch(`${a.base}/ui/live/${t.id}`, { headers: { cookie: s.cookie } });
    assert.is(res.status, 200);
    streams.push(res);
  }
  const ninth = await fetch(`${a.base}/ui/live/${t.id}`, { headers: { cookie: s.cookie } });
  assert.is(ninth.status, 429);
  assert.is((await ninth.json()).error.code, 'STK_ERR_RATE_LIMITED');
  const other = await signIn(a.base, t.token);
  const res = await fetch(`${a.base}/ui/live/${t.id}`, { headers: { cookie: other.cookie } });
  assert.is(res.status, 200);
  // All of them stay open until the server shuts down after this suite, which ends them.
});

// Last in this suite: it uses up this address's sign-in failures on process A.
test('failed sign-ins from one address are throttled; the throttle answers before the credential is checked', async () => {
  for (let i = 0; i < 10; i++) assert.is((await signIn(a.base, `stk_admin_wrong${i}`)).status, 401);
  const res = await fetch(`${a.base}/ui/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: a.base },
    body: JSON.stringify({ credential: a.adminKey }),
  });
  assert.is(res.status, 429);
  assert.is((await res.json()).error.code, 'STK_ERR_RATE_LIMITED');
  assert.ok(Number(res.headers.get('retry-after')) >= 1);
  assert.is(res.headers.get('set-cookie'), null);
  // Another process of the install keeps its own count.
  assert.is((await signIn(b.base, a.adminKey)).status, 201);
});

test.run();

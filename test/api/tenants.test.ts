import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { apiFixture, type ApiFixture } from '../helpers/api.ts';
import { freshTenant } from '../helpers/events.ts';

const test = suite('operator API: tenants, tokens, products');
let f: ApiFixture;
test.before(async () => {
  f = await apiFixture();
});
test.after(async () => {
  await f?.cleanup();
});

test('the default tenant exists from the first start', async () => {
  const r = await f.call('GET', '/api/v1/tenants/default');
  assert.is(r.status, 200, JSON.stringify(r.body));
  assert.is(r.body.id, 'default');
  assert.equal(r.body.products, []);
});

test('create shows the secret once; it is stored only as a hash; a second create conflicts', async () => {
  const id = freshTenant();
  const r = await f.call('POST', '/api/v1/tenants', { body: { id, name: 'Acme' } });
  assert.is(r.status, 201);
  assert.match(r.body.enrollSecret, /^stk_es_[A-Za-z0-9_-]{12}\.[A-Za-z0-9_-]{43}$/);
  assert.equal(r.body.products, []);
  const again = await f.call('POST', '/api/v1/tenants', { body: { id, name: 'Acme' } });
  assert.is(again.status, 409);
  assert.is(again.body.error.code, 'STK_ERR_TENANT_EXISTS');
  const got = await f.call('GET', `/api/v1/tenants/${id}`);
  assert.not.ok(JSON.stringify(got.body).includes(r.body.enrollSecret));
  assert.is(got.body.secretHash, undefined);
  // Nowhere in the event log nor the read models.
  const { rt } = { rt: f.stk.runtime };
  const records = await rt.log.readTenant(id);
  assert.not.ok(records.some((x) => Buffer.from(x.raw).toString('utf8').includes(r.body.enrollSecret.split('.')[1])));
  for await (const [, v] of rt.db.iterator()) assert.not.ok(JSON.stringify(v).includes(r.body.enrollSecret.split('.')[1]));
});

test("admin-only routes: tokens answer 404 on admin-wide routes and 403 on their own tenant's admin routes", async () => {
  const id = freshTenant();
  await f.tenant(id);
  const op = await f.token(id, 'operator');
  assert.is((await f.call('GET', '/api/v1/tenants', { token: op })).status, 404);
  assert.is((await f.call('POST', '/api/v1/tenants', { token: op, body: { id: freshTenant(), name: 'x' } })).status, 404);
  const rot = await f.call('POST', `/api/v1/tenants/${id}/enroll-secret/rotate`, { token: op });
  assert.is(rot.status, 403);
  assert.is(rot.body.error.code, 'STK_ERR_FORBIDDEN');
  assert.is((await f.call('GET', `/api/v1/tenants/${id}`, { token: op })).status, 200);
  assert.is((await f.call('GET', '/api/v1/tenants', { token: null })).body.error.code, 'STK_ERR_AUTH_REQUIRED');
  assert.is((await f.call('GET', '/api/v1/tenants', { token: `stk_tok_AAAAAAAAAAAA.${'A'.repeat(43)}` })).status, 401);
});

test('products: off by default, toggled by the admin, gate their routes with a clear code', async () => {
  const id = freshTenant();
  await f.tenant(id);
  const off = await f.call('GET', `/api/v1/tenants/${id}/findings`);
  assert.is(off.status, 403);
  assert.is(off.body.error.code, 'STK_ERR_PRODUCT_DISABLED');
  assert.is((await f.call('GET', `/api/v1/tenants/${id}/alerts`)).status, 200, 'the core is always on');
  const on = await f.call('PUT', `/api/v1/tenants/${id}/products/patch`, { body: { enabled: true } });
  assert.equal(on.body.products, ['patch']);
  assert.is((await f.call('GET', `/api/v1/tenants/${id}/findings`)).status, 200);
  assert.is((await f.call('GET', `/api/v1/tenants/${id}/evidence`)).body.error.code, 'STK_ERR_PRODUCT_DISABLED');
  const bad = await f.call('PUT', `/api/v1/tenants/${id}/products/coffee`, { body: { enabled: true } });
  assert.is(bad.status, 400);
});

test('tokens: shown once, roles enforced, revocation is immediate', async () => {
  const id = freshTenant();
  await f.tenant(id);
  const aud = await f.token(id, 'auditor');
  const op = await f.token(id, 'operator');
  assert.is((await f.call('GET', `/api/v1/tenants/${id}/alerts`, { token: aud })).status, 200);
  const inc = await f.call('POST', `/api/v1/tenants/${id}/incidents`, { token: aud, body: { title: 'x', severity: 'low' } });
  assert.is(inc.status, 403);
  assert.is(inc.body.error.code, 'STK_ERR_FORBIDDEN');
  const ok = await f.call('POST', `/api/v1/tenants/${id}/incidents`, { token: op, body: { title: 'x', severity: 'low' } });
  assert.is(ok.status, 201);
  const list = await f.call('GET', `/api/v1/tenants/${id}/tokens`);
  assert.is(list.body.items.length, 2);
  assert.not.ok(JSON.stringify(list.body).includes(op.split('.')[1]!));
  assert.not.ok('hash' in list.body.items[0]);
  const opId = list.body.items.find((t: any) => t.role === 'operator').id;
  assert.is((await f.call('POST', `/api/v1/tenants/${id}/tokens/${opId}/revoke`)).status, 200);
  assert.is((await f.call('GET', `/api/v1/tenants/${id}/alerts`, { token: op })).status, 401);
});

test('schemas: unknown fields, bad ids and oversized bodies are refused and write no event', async () => {
  const id = freshTenant();
  await f.tenant(id);
  const before = await f.stk.runtime.log.lastPosition();
  const unknown = await f.call('POST', `/api/v1/tenants/${id}/incidents`, { body: { title: 'x', severity: 'low', admin: true } });
  assert.is(unknown.status, 400);
  assert.is(unknown.body.error.code, 'STK_ERR_VALIDATION');
  const badId = await f.call('POST', '/api/v1/tenants', { body: { id: 'a.b', name: 'x' } });
  assert.is(badId.body.error.code, 'STK_ERR_VALIDATION');
  assert.is((await f.call('GET', `/api/v1/tenants/${id}/alerts/a*b`)).status, 400);
  const big = await f.call('POST', `/api/v1/tenants/${id}/incidents`, { body: { title: 'x'.repeat(20_000), severity: 'low' } });
  assert.is(big.status, 413);
  const extra = await f.call('POST', `/api/v1/tenants/${id}/resume`, { body: { force: true } });
  assert.is(extra.status, 400, 'a route without parameters refuses a body with fields');
  const malformed = await f.call('POST', `/api/v1/tenants/${id}/incidents`, { raw: '{"title": ' });
  assert.is(malformed.body.error.code, 'STK_ERR_VALIDATION');
  assert.is(await f.stk.runtime.log.lastPosition(), before);
});

test('single-install mode: open enrollment can be turned on for the default tenant only', async () => {
  const other = freshTenant();
  await f.tenant(other);
  const refused = await f.call('PUT', `/api/v1/tenants/${other}/open-enrollment`, { body: { enabled: true } });
  assert.is(refused.status, 400);
  assert.is(refused.body.error.code, 'STK_ERR_VALIDATION');
  const on = await f.call('PUT', '/api/v1/tenants/default/open-enrollment', { body: { enabled: true } });
  assert.is(on.status, 200, JSON.stringify(on.body));
  assert.is(on.body.openEnrollment, true);
  const off = await f.call('PUT', '/api/v1/tenants/default/open-enrollment', { body: { enabled: false } });
  assert.is(off.body.openEnrollment, false);
});

test('OpenAPI at /docs describes the routes with their schemas', async () => {
  const r = await f.call('GET', '/docs', { token: null });
  assert.is(r.status, 200);
  assert.is(r.body.openapi, '3.0.3');
  const inc = r.body.paths['/api/v1/tenants/{tenant}/incidents'];
  assert.ok(inc.post.requestBody);
  assert.ok(r.body.paths['/api/v1/tenants/{tenant}/alerts/{alertId}/ack']);
});

test.run();

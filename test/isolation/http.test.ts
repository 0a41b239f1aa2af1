import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { OPERATOR_ROUTES } from '../../src/api/plugin.ts';
import { TOKEN_ROLE_PERMISSIONS } from '../../src/api/permissions.ts';
import { API_PLUGINS } from '../../src/roles.ts';
import { apiFixture, type ApiFixture, type ApiResponse } from '../helpers/api.ts';
import { CASES, type RouteCase } from './cases.ts';
import { buildWorld, type World } from './world.ts';

/**
 * The tenant wall over HTTP, generated from the route table (the OpenAPI document the app builds
 * from its own route schemas): every route under /api/v1/tenants/{tenant} is tried with another
 * tenant's token, with the tenant in the path swapped, and with another tenant's ids.
 */
const test = suite('isolation: every tenant route, generated from the route table');

interface Route {
  method: string;
  path: string;
  key: string;
  case: RouteCase;
  access: string;
}

let f: ApiFixture;
let A: World;
let B: World;
const routes: Route[] = [];
const missing: string[] = [];

// What a customer's operator token may do on each route, from the one permission table.
const ACCESS = new Map(
  OPERATOR_ROUTES.filter((r) => r.scope === 'tenant').map((r) => [
    `${r.method} /api/v1${r.url.replace(/:([A-Za-z]+)/g, '{$1}')}`,
    TOKEN_ROLE_PERMISSIONS.operator.includes(r.permission) ? 'operator' : 'admin',
  ]),
);

test.before(async () => {
  f = await apiFixture({ plugins: API_PLUGINS });
  A = await buildWorld(f, 'a');
  B = await buildWorld(f, 'b');
  const doc = (await f.call('GET', '/docs', { token: null })).body as { paths: Record<string, Record<string, unknown>> };
  for (const [path, ops] of Object.entries(doc.paths)) {
    if (!path.startsWith('/api/v1/tenants/{tenant}')) continue;
    for (const m of Object.keys(ops)) {
      const key = `${m.toUpperCase()} ${path}`;
      const c = CASES[key];
      if (!c) missing.push(key);
      else routes.push({ method: m.toUpperCase(), path, key, case: c, access: ACCESS.get(key) ?? 'read' });
    }
  }
});
test.after(async () => {
  await f?.cleanup();
});

function fill(path: string, ids: Record<string, string>, tenant: string): string {
  return path.replace(/\{([A-Za-z]+)\}/g, (_, name: string) => {
    if (name === 'tenant') return tenant;
    const v = ids[name];
    if (!v) throw new Error(`no id for {${name}} in ${path}`);
    return v;
  });
}

function send(r: Route, o: { ids: Record<string, string>; tenant: string; token: string | null; withQuery?: boolean }): Promise<ApiResponse> {
  const q = o.withQuery && r.case.query ? `?${r.case.query(o.ids)}` : '';
  const body = r.case.body?.(o.ids);
  return f.call(r.method, fill(r.path, o.ids, o.tenant) + q, { token: o.token, ...(body !== undefined ? { body } : {}) });
}

const hasItemParam = (r: Route) => /\{(?!tenant\}|product\})[A-Za-z]+\}/.test(r.path);
const strip = (b: any) => ({ ...b, error: { ...b.error, requestId: undefined } });

test('every route under /tenants/{tenant} has a case (a new route without one fails here)', () => {
  assert.ok(routes.length >= 30, `only ${routes.length} routes found`);
  assert.equal(missing, [], `routes without an isolation case: ${missing.join(', ')}`);
});

test("control: each GET route answers 200 to the tenant's own operator with its own ids", async () => {
  for (const r of routes.filter((x) => x.method === 'GET')) {
    const res = await send(r, { ids: A.ids, tenant: A.tenant, token: A.operator, withQuery: true });
    if (!ACCESS.has(r.key)) {
      // A route of another area (the ledger): its own outcome, but never the wall's answers.
      assert.ok(![401, 403, 404].includes(res.status), `${r.key}: ${JSON.stringify(res.body)}`);
      continue;
    }
    assert.is(res.status, r.access === 'admin' ? 403 : (r.case.ownStatus ?? 200), `${r.key}: ${JSON.stringify(res.body)}`);
  }
});

test("another tenant's token: 404 on every route, byte-for-byte the answer for a tenant that does not exist", async () => {
  const before = await f.stk.runtime.log.lastPosition();
  for (const r of routes) {
    for (const token of [A.operator, A.auditor]) {
      const foreign = await send(r, { ids: B.ids, tenant: B.tenant, token, withQuery: true });
      const missingTenant = await send(r, { ids: B.ids, tenant: 'no-such-tenant', token, withQuery: true });
      assert.is(foreign.status, 404, `${r.key}: ${JSON.stringify(foreign.body)}`);
      assert.is(foreign.body.error.code, 'STK_ERR_NOT_FOUND', r.key);
      assert.equal(strip(foreign.body), strip(missingTenant.body), r.key);
    }
  }
  assert.is(await f.stk.runtime.log.lastPosition(), before, 'no event was written');
});

test("own tenant in the path, the other tenant's ids: 404 for operator and admin alike; foreign ids in bodies and filters find nothing", async () => {
  const before = await f.stk.runtime.log.lastPosition();
  for (const r of routes) {
    const tokens = r.access === 'admin' ? [f.adminKey] : [A.operator, f.adminKey];
    for (const token of tokens) {
      if (hasItemParam(r)) {
        const res = await send(r, { ids: { ...B.ids, product: 'edr' }, tenant: A.tenant, token });
        assert.is(res.status, 404, `${r.key}: ${JSON.stringify(res.body)}`);
        assert.is(res.body.error.code, 'STK_ERR_NOT_FOUND', r.key);
      } else if (r.case.foreign === 'not-found') {
        const res = await send(r, { ids: B.ids, tenant: A.tenant, token, withQuery: true });
        assert.is(res.status, 404, `${r.key}: ${JSON.stringify(res.body)}`);
      } else if (r.case.foreign === 'empty-list') {
        const res = await send(r, { ids: B.ids, tenant: A.tenant, token, withQuery: true });
        assert.is(res.status, 200, r.key);
        assert.equal(res.body.items, [], `${r.key} listed another tenant's items`);
      } else if (r.case.foreign === 'empty-export') {
        const res = await send(r, { ids: B.ids, tenant: A.tenant, token, withQuery: true });
        assert.is(res.status, 200, r.key);
        assert.equal(res.body, [], `${r.key} exported another tenant's items`);
      }
    }
  }
  assert.is(await f.stk.runtime.log.lastPosition(), before, 'no event was written');
});

test('auditors never write: every non-GET route answers 403 on their own tenant', async () => {
  const before = await f.stk.runtime.log.lastPosition();
  for (const r of routes.filter((x) => x.method !== 'GET')) {
    const res = await send(r, { ids: A.ids, tenant: A.tenant, token: A.auditor });
    assert.is(res.status, 403, `${r.key}: ${JSON.stringify(res.body)}`);
    assert.is(res.body.error.code, 'STK_ERR_FORBIDDEN', r.key);
  }
  assert.is(await f.stk.runtime.log.lastPosition(), before, 'no event was written');
});

test('no credential, or a made-up one: 401 on every route', async () => {
  for (const r of routes) {
    for (const token of [null, `stk_tok_AAAAAAAAAAAA.${'B'.repeat(43)}`, 'nonsense']) {
      const res = await send(r, { ids: A.ids, tenant: A.tenant, token });
      assert.is(res.status, 401, r.key);
      assert.is(res.body.error.code, 'STK_ERR_AUTH_REQUIRED', r.key);
    }
  }
});

test.run();

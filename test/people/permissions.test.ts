import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { OPERATOR_ROUTES } from '../../src/api/plugin.ts';
import { type Permission, ROLE_NAMES, ROLES, type Role, TOKEN_ROLE_PERMISSIONS } from '../../src/api/permissions.ts';
import type { RouteDef } from '../../src/api/route.ts';
import { PRODUCTS } from '../../src/domain/products.ts';
import { API_PLUGINS } from '../../src/roles.ts';
import { apiFixture, type ApiFixture } from '../helpers/api.ts';
import { freshTenant } from '../helpers/events.ts';
import { person } from './helpers.ts';

/**
 * Generated from the permission table × the route table: every role (and the customers' service
 * tokens) against every operator route, on a customer it holds the role on (A) and on one it does
 * not (B). Expected answers come from `ROLES` alone: allowed → the request passes the guard and
 * fails the schema check that follows (a probe field no route accepts, so nothing is written);
 * a forbidden action on a visible customer → 403 STK_ERR_FORBIDDEN; a customer the principal
 * cannot see → 404 STK_ERR_NOT_FOUND, exactly like one that does not exist.
 */
const test = suite('permissions: each role × each route, generated from the tables');

interface Who {
  label: string;
  token: string;
  /** Permissions on A; on B when `seesB`. */
  tenant: ReadonlySet<Permission>;
  install: ReadonlySet<Permission> | 'not-found';
  seesB: boolean;
}

let f: ApiFixture;
let A: string;
let B: string;
const who: Who[] = [];

test.before(async () => {
  f = await apiFixture({ plugins: API_PLUGINS });
  A = freshTenant('perm-a');
  B = freshTenant('perm-b');
  await f.tenant(A, [...PRODUCTS]);
  await f.tenant(B, [...PRODUCTS]);
  const grants: Array<{ label: string; role: Role; scope: 'install' | 'tenant' }> = [];
  for (const r of ROLE_NAMES) {
    const s = ROLES[r].scope;
    if (s === 'install' || s === 'either') grants.push({ label: `${r}@install`, role: r, scope: 'install' });
    if (s === 'tenant' || s === 'either') grants.push({ label: `${r}@A`, role: r, scope: 'tenant' });
  }
  for (const g of grants) {
    const p = await person(f, g.scope === 'install' ? { install: [g.role] } : { tenants: { [A]: [g.role] } });
    who.push({
      label: g.label,
      token: p.token,
      tenant: new Set(ROLES[g.role].tenant),
      install: new Set<Permission>([...ROLES[g.role].install, 'self']),
      seesB: g.scope === 'install',
    });
  }
  for (const role of ['operator', 'auditor'] as const) {
    who.push({ label: `${role} token of A`, token: await f.token(A, role), tenant: new Set(TOKEN_ROLE_PERMISSIONS[role]), install: 'not-found', seesB: false });
  }
});
test.after(async () => {
  await f?.cleanup();
});

function path(r: RouteDef, tenant: string): string {
  return `/api/v1${r.url}`.replace(/:([A-Za-z]+)/g, (_, name: string) =>
    name === 'tenant' ? tenant : name === 'product' ? 'edr' : name === 'sessionId' ? 'a'.repeat(64) : 'x',
  );
}

/** A request that every route refuses at its schema, after the guard: a field no route takes. */
function probe(r: RouteDef, tenant: string, token: string) {
  return r.method === 'GET' ? f.call('GET', `${path(r, tenant)}?zzProbe=1`, { token }) : f.call(r.method, path(r, tenant), { token, body: { zzProbe: 1 } });
}

type Expect = 'allowed' | 403 | 404;

function expected(w: Who, r: RouteDef, tenant: 'A' | 'B'): Expect {
  if (r.scope === 'public') return 'allowed';
  if (r.scope === 'install') return w.install === 'not-found' ? 404 : w.install.has(r.permission) ? 'allowed' : 403;
  if (tenant === 'B' && !w.seesB) return 404;
  return w.tenant.has(r.permission) ? 'allowed' : 403;
}

test('the route table is covered: every route declares a permission of the table', () => {
  assert.ok(OPERATOR_ROUTES.length >= 60, `${OPERATOR_ROUTES.length} routes`);
  assert.ok(who.length >= 9, `${who.length} principals`);
  for (const r of OPERATOR_ROUTES) if (r.scope !== 'public') assert.ok(typeof r.permission === 'string' && r.permission.length > 0, `${r.method} ${r.url}`);
});

test('every role × every route × a customer it holds a role on and one it does not', async () => {
  const before = await f.stk.runtime.log.lastPosition();
  const wrong: string[] = [];
  let checked = 0;
  for (const w of who) {
    for (const r of OPERATOR_ROUTES) {
      for (const t of r.scope === 'tenant' ? (['A', 'B'] as const) : (['A'] as const)) {
        const want = expected(w, r, t);
        const res = await probe(r, t === 'A' ? A : B, w.token);
        const got =
          res.status === 400 && res.body?.error?.code === 'STK_ERR_VALIDATION'
            ? 'allowed'
            : res.status === 403 && res.body.error.code === 'STK_ERR_FORBIDDEN'
              ? 403
              : res.status === 404 && res.body.error.code === 'STK_ERR_NOT_FOUND'
                ? 404
                : `${res.status} ${res.body?.error?.code}`;
        checked++;
        if (got !== want) wrong.push(`${w.label} ${r.method} ${r.url} on ${t}: expected ${want}, got ${got}`);
      }
    }
  }
  assert.equal(wrong, [], wrong.slice(0, 20).join('\n'));
  assert.ok(checked > 1000, `${checked} checks`);
  assert.is(await f.stk.runtime.log.lastPosition(), before, 'no probe wrote an event');
});

test('a customer that does not exist answers every role exactly like one it cannot see', async () => {
  const r = OPERATOR_ROUTES.find((x) => x.scope === 'tenant' && x.method === 'GET' && x.url.endsWith('/alerts'))!;
  for (const w of who.filter((x) => !x.seesB)) {
    const hidden = await f.call('GET', path(r, B), { token: w.token });
    const missing = await f.call('GET', path(r, 'no-such-customer'), { token: w.token });
    assert.is(hidden.status, 404, w.label);
    assert.equal({ ...hidden.body.error, requestId: 0 }, { ...missing.body.error, requestId: 0 }, w.label);
  }
});

test.run();

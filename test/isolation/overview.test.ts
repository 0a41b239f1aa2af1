import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { OPERATOR_ROUTES } from '../../src/api/plugin.ts';
import { INSTALL_TENANT } from '../../src/people/install.ts';
import { API_PLUGINS } from '../../src/roles.ts';
import { apiFixture, type ApiFixture } from '../helpers/api.ts';
import { enrollAgent, freshTenant, raiseAlert } from '../helpers/events.ts';
import { person, settled } from '../people/helpers.ts';

/**
 * The MSP's views across customers hold the tenant wall: an analyst assigned to some customers
 * never sees another in the all-customers overview (not its line, not its counts, not through the
 * search), cannot send it a fan-out command (answered like a customer that does not exist), and
 * nobody — not even the admin key — reaches the install's own tenant through a customer route.
 */
const test = suite('isolation: all-customers overview, fan-out and the install tenant');

let f: ApiFixture;
const T = { a: '', b: '', c: '' };
let analyst: string;
let owner: string;
let agentA = '';

test.before(async () => {
  f = await apiFixture({ plugins: API_PLUGINS });
  for (const k of ['a', 'b', 'c'] as const) {
    T[k] = freshTenant(`ov${k}`);
    await f.tenant(T[k], ['edr']);
  }
  agentA = (await enrollAgent(f.stk.runtime.log, T.a, 'a-host')).agentId;
  const agentB = (await enrollAgent(f.stk.runtime.log, T.b, 'b-host')).agentId;
  await raiseAlert(f.stk.runtime.log, T.a, agentA, { severity: 'high' });
  await raiseAlert(f.stk.runtime.log, T.a, agentA, { severity: 'critical' });
  for (let i = 0; i < 5; i++) await raiseAlert(f.stk.runtime.log, T.b, agentB, { severity: 'critical', title: 'secret B alert' });
  analyst = (await person(f, { tenants: { [T.a]: ['msp-analyst'], [T.c]: ['msp-analyst'] } })).token;
  owner = (await person(f, { install: ['msp-owner'] })).token;
  await settled(f);
});
test.after(async () => {
  await f?.cleanup();
});

test('the overview shows an analyst their customers only, with their counts; search finds no other', async () => {
  const mine = await f.call('GET', '/api/v1/overview?sort=tenant', { token: analyst });
  assert.is(mine.status, 200, JSON.stringify(mine.body));
  assert.equal(mine.body.items.map((x: any) => x.tenant).sort(), [T.a, T.c].sort());
  const a = mine.body.items.find((x: any) => x.tenant === T.a);
  assert.equal(a.alerts.open, { low: 0, medium: 0, high: 1, critical: 1 });
  assert.is(a.alerts.unacknowledged, 2);
  assert.is(a.alerts.oldestUnacknowledged.severity, 'high', 'the oldest open alert is the first raised');
  assert.equal(a.agents, { online: 1, offline: 0, revoked: 0 });
  assert.not.ok(JSON.stringify(mine.body).includes(T.b));
  assert.not.ok(JSON.stringify(mine.body).includes('secret B alert'));
  const search = await f.call('GET', `/api/v1/overview?q=${encodeURIComponent(T.b)}`, { token: analyst });
  assert.equal(search.body.items, []);
  const all = await f.call('GET', '/api/v1/overview', { token: owner });
  assert.ok([T.a, T.b, T.c].every((t) => all.body.items.some((x: any) => x.tenant === t)));
  assert.is(all.body.items.find((x: any) => x.tenant === T.b).alerts.open.critical, 5);
  // The customer list answers the same wall.
  const list = await f.call('GET', '/api/v1/tenants', { token: analyst });
  assert.equal(list.body.items.map((x: any) => x.id).sort(), [T.a, T.c].sort());
});

test("fan-out: one command per agent in each customer's own log; an unassigned customer reads like a missing one and gets nothing", async () => {
  const bBefore = await f.stk.runtime.log.lastPositionOf(`ev.*.${T.b}.>`);
  const r = await f.call('POST', '/api/v1/fanout/commands', {
    token: analyst,
    body: { action: 'collect-inventory', targets: [{ tenant: T.a }, { tenant: T.b }, { tenant: 'no-such-customer' }, { tenant: T.c }] },
  });
  assert.is(r.status, 200, JSON.stringify(r.body));
  const by = Object.fromEntries(r.body.results.map((x: any) => [x.tenant, x]));
  assert.is(by[T.a].outcome, 'dispatched');
  assert.is(by[T.a].commands.length, 1);
  assert.is(by[T.c].outcome, 'no-agents');
  const hidden = { ...by[T.b], tenant: 'x' };
  const missing = { ...by['no-such-customer'], tenant: 'x' };
  assert.equal(hidden, missing);
  assert.is(hidden.outcome, 'not-found');
  assert.is(await f.stk.runtime.log.lastPositionOf(`ev.*.${T.b}.>`), bBefore, "nothing was written in the unassigned customer's log");
  const cmd = await f.call('GET', `/api/v1/tenants/${T.a}/commands/${by[T.a].commands[0]}?waitFor=${by[T.a].consistencyToken}`, { token: analyst });
  assert.is(cmd.status, 200);
  assert.is(cmd.body.agentId, agentA);
});

test('the install tenant is no customer: every customer route answers 404 for it, to everyone', async () => {
  const routes = OPERATOR_ROUTES.filter((r) => r.scope === 'tenant' && r.method === 'GET' && !r.url.includes('/:', 18));
  assert.ok(routes.length >= 10);
  for (const token of [f.adminKey, owner, analyst]) {
    for (const r of routes) {
      const res = await f.call('GET', `/api/v1${r.url.replace(':tenant', INSTALL_TENANT)}`, { token });
      assert.is(res.status, 404, `${r.url}: ${JSON.stringify(res.body)}`);
      assert.is(res.body.error.code, 'STK_ERR_NOT_FOUND');
    }
  }
  const audit = await f.call('GET', '/api/v1/audit/export', { token: analyst });
  assert.is(audit.status, 403, "a customer's person cannot read the install's audit");
  const users = await f.call('GET', '/api/v1/users', { token: analyst });
  assert.is(users.status, 403);
});

test.run();

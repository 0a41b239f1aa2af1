import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { peopleOf } from '../../src/people/people.ts';
import { API_PLUGINS } from '../../src/roles.ts';
import { apiFixture, type ApiFixture } from '../helpers/api.ts';
import { enrollAgent, freshTenant, raiseAlert } from '../helpers/events.ts';
import { person, settled, userToken } from './helpers.ts';

/** API tokens for machines (owner, expiry, last use) and what a suspended customer's people may still do; the audit export. */
const test = suite('tokens, suspension and the audit export');

let f: ApiFixture;
let tenant: string;

test.before(async () => {
  f = await apiFixture({ plugins: API_PLUGINS });
  tenant = freshTenant('tok');
  await f.tenant(tenant, ['edr']);
  const { agentId } = await enrollAgent(f.stk.runtime.log, tenant);
  await raiseAlert(f.stk.runtime.log, tenant, agentId);
});
test.after(async () => {
  await f?.cleanup();
});

test('a service token has an owner and an expiry within the maximum; an expired token is refused; last use is batched', async () => {
  const t = await f.call('POST', `/api/v1/tenants/${tenant}/tokens`, { body: { role: 'operator', label: 'siem' } });
  assert.is(t.status, 201);
  assert.equal(t.body.owner, { kind: 'service', id: 'siem' });
  const days = (Date.parse(t.body.expiresAt) - Date.now()) / 86_400_000;
  assert.ok(days > 89 && days <= 90, `default lifetime ${days}`);
  const before = await f.stk.runtime.log.lastPosition();
  const long = await f.call('POST', `/api/v1/tenants/${tenant}/tokens`, { body: { role: 'operator', expiresInDays: 400 } });
  assert.is(long.status, 400);
  assert.is(long.body.error.code, 'STK_ERR_TOKEN_EXPIRY_TOO_LONG');
  assert.is(await f.stk.runtime.log.lastPosition(), before, 'nothing written');
  assert.is((await f.call('PATCH', '/api/v1/settings', { body: { tokenMaxDays: 30, tokenDefaultDays: 7 } })).status, 200);
  await settled(f);
  assert.is(
    (await f.call('POST', `/api/v1/tenants/${tenant}/tokens`, { body: { role: 'operator', expiresInDays: 31 } })).body.error.code,
    'STK_ERR_TOKEN_EXPIRY_TOO_LONG',
  );
  assert.is((await f.call('PATCH', '/api/v1/settings', { body: { tokenMaxDays: 365, tokenDefaultDays: 90 } })).status, 200);

  const people = await peopleOf(f.stk.runtime);
  await people.usage.flush();
  const writes = people.usage.writes;
  for (let i = 0; i < 25; i++) assert.is((await f.call('GET', `/api/v1/tenants/${tenant}/alerts`, { token: t.body.token })).status, 200);
  assert.is(people.usage.writes, writes, 'no write per request');
  await people.usage.flush();
  assert.is(people.usage.writes, writes + 1, 'one write for 25 uses');
  await settled(f);
  const list = await f.call('GET', `/api/v1/tenants/${tenant}/tokens`);
  const mine = list.body.items.find((x: any) => x.id === t.body.id);
  assert.ok(mine.lastUsedAt && Date.now() - Date.parse(mine.lastUsedAt) < 60_000, JSON.stringify(mine));
  assert.not.ok(JSON.stringify(list.body).includes('"hash"'));

  const p = await person(f, { tenants: { [tenant]: ['customer-analyst'] } });
  const expired = await userToken(f, p.userId, new Date(Date.now() - 1000).toISOString());
  const r = await f.call('GET', `/api/v1/tenants/${tenant}/alerts`, { token: expired.token });
  assert.is(r.status, 401);
  // A disabled person's tokens stop at once.
  assert.is((await f.call('GET', `/api/v1/tenants/${tenant}/alerts`, { token: p.token })).status, 200);
  assert.is((await f.call('POST', `/api/v1/users/${p.userId}/disable`, { body: { reason: 'left' } })).status, 200);
  assert.is((await f.call('GET', `/api/v1/tenants/${tenant}/alerts`, { token: p.token })).status, 401);
});

test("a suspended customer: its own people and tokens keep only the allowed reads; the MSP's people keep working", async () => {
  const t = freshTenant('susp');
  await f.tenant(t);
  const cust = await person(f, { tenants: { [t]: ['customer-admin'] } });
  const msp = await person(f, { tenants: { [t]: ['msp-analyst'] } });
  const svc = await f.token(t, 'operator');
  assert.is((await f.call('POST', `/api/v1/tenants/${t}/suspend`, { body: { reason: 'unpaid' } })).status, 200);
  await settled(f);
  for (const token of [cust.token, svc]) {
    const alerts = await f.call('GET', `/api/v1/tenants/${t}/alerts`, { token });
    assert.is(alerts.status, 403);
    assert.is(alerts.body.error.code, 'STK_ERR_TENANT_SUSPENDED');
    assert.is((await f.call('GET', `/api/v1/tenants/${t}`, { token })).status, 200, 'tenant.read is allowed while suspended');
    assert.is((await f.call('GET', `/api/v1/tenants/${t}/audit`, { token })).status, 200, 'audit.read is allowed while suspended');
    assert.is(
      (await f.call('POST', `/api/v1/tenants/${t}/incidents`, { token, body: { title: 'x', severity: 'low' } })).body.error.code,
      'STK_ERR_TENANT_SUSPENDED',
    );
  }
  assert.is((await f.call('GET', `/api/v1/tenants/${t}/alerts`, { token: msp.token })).status, 200, "the MSP's analyst keeps working");
  assert.is((await f.call('PATCH', '/api/v1/settings', { body: { suspendedReads: ['tenant.read', 'alerts.read'] } })).status, 200);
  await settled(f);
  assert.is((await f.call('GET', `/api/v1/tenants/${t}/alerts`, { token: cust.token })).status, 200);
  assert.is((await f.call('GET', `/api/v1/tenants/${t}/audit`, { token: cust.token })).status, 403);
  assert.is((await f.call('PATCH', '/api/v1/settings', { body: { suspendedReads: ['tenant.read', 'audit.read', 'ledger.read'] } })).status, 200);
});

test('the audit export names people and how they came in, and carries refused attempts, without telling the prober anything', async () => {
  const t = freshTenant('aud');
  await f.tenant(t);
  const auditor = await person(f, { tenants: { [t]: ['auditor'] } });
  const analyst = await person(f, { tenants: { [t]: ['customer-analyst'] } });
  const outsider = await person(f, { tenants: { [tenant]: ['customer-analyst'] } });
  await f.call('POST', `/api/v1/tenants/${t}/incidents`, { token: analyst.token, body: { title: 'from analyst', severity: 'low' } });
  const forbidden = await f.call('POST', `/api/v1/tenants/${t}/tokens`, { token: analyst.token, body: { role: 'operator' } });
  assert.is(forbidden.status, 403);
  const probe = await f.call('GET', `/api/v1/tenants/${t}/alerts`, { token: outsider.token });
  assert.is(probe.status, 404);
  await settled(f);
  // A refusal is on record before it is answered.
  const r = await f.call('GET', `/api/v1/tenants/${t}/audit/export?format=jsonl`, { token: auditor.token });
  assert.is(r.status, 200);
  const jsonl = typeof r.body === 'string' ? r.body : `${JSON.stringify(r.body)}\n`;
  const rows = jsonl
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.ok(rows.some((x) => x.action === 'incident.opened' && x.actorId === `user:${analyst.userId}` && x.via === `token:${analyst.tokenId}`));
  assert.ok(rows.some((x) => x.kind === 'refused' && x.action === 'forbidden' && x.actorId === `user:${analyst.userId}` && x.code === 'STK_ERR_FORBIDDEN'));
  assert.ok(rows.some((x) => x.kind === 'refused' && x.action === 'not-visible' && x.actorId === `user:${outsider.userId}`));
  const csv = await fetch(`${f.url}/api/v1/tenants/${t}/audit/export?format=csv`, { headers: { authorization: `Bearer ${auditor.token}` } });
  assert.match(csv.headers.get('content-type') ?? '', /text\/csv/);
  const text = await csv.text();
  assert.ok(text.startsWith('at,kind,outcome,actorKind,actorId,via,action,'));
  assert.ok(text.includes(`user:${analyst.userId}`));
  assert.is((await f.call('GET', `/api/v1/tenants/${t}/audit/export`, { token: analyst.token })).status, 403, 'only auditors and admins export');
});

test.run();

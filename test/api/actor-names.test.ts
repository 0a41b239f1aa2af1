import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { incidentDecider } from '../../commands/incidents/decider.ts';
import { execute } from '../../src/domain/execute.ts';
import type { Actor } from '../../src/domain/events.ts';
import { apiFixture, type ApiFixture } from '../helpers/api.ts';
import { enrollAgent, freshTenant, raiseAlert, readToken } from '../helpers/events.ts';
import { type Person, person } from '../people/helpers.ts';

/**
 * Issue 18, "names, not ids": who acted is named next to the raw principal — people by display
 * name (e-mail only where the caller may read it), agents by host name, service tokens by label,
 * the system as "Stockade" — through this customer's own records only.
 */
const test = suite('operator API: who acted is named');
let f: ApiFixture;
let A = '';
let B = '';
let agentA = '';
let agentB = '';
let staff: Person; // MSP analyst on A and B: acts in A
let boss: Person; // MSP admin (install-wide role): acts in A, holds no role on A
let viewer: Person; // customer analyst on A: reads
let outsider: Person; // customer admin on B only
let tokenA = '';
let tokenB = '';
let tokenBId = '';
let incident = '';
let alert = '';
const names = new Map<string, string>();

const t = (tenant: string, path: string) => `/api/v1/tenants/${tenant}${path}`;

async function ok(method: string, path: string, o: { token?: string; body?: unknown } = {}) {
  const r = await f.call(method, path, o);
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Writes a comment straight into the log as any actor (what the API never lets one do): the wall must hold even then. */
async function commentAs(actor: Actor, text: string): Promise<number> {
  const r = await execute(f.stk.runtime.log, { tenant: A, id: incident }, incidentDecider, { kind: 'comment', text }, { actor });
  return r.position;
}

test.before(async () => {
  f = await apiFixture();
  A = freshTenant('names-a');
  B = freshTenant('names-b');
  await f.tenant(A, ['edr']);
  await f.tenant(B, ['edr']);
  const log = f.stk.runtime.log;
  ({ agentId: agentA } = await enrollAgent(log, A, 'web-01.a.example'));
  ({ agentId: agentB } = await enrollAgent(log, B, 'secret-host.b.example'));
  const raised = await raiseAlert(log, A, agentA);
  alert = raised.alertId;
  await ok('GET', t(A, `/alerts/${alert}?waitFor=${await readToken(log.streams, A, raised.position)}`));
  staff = await person(f, { tenants: { [A]: ['msp-analyst'], [B]: ['msp-analyst'] } });
  boss = await person(f, { install: ['msp-admin'] });
  viewer = await person(f, { tenants: { [A]: ['customer-analyst'] } });
  outsider = await person(f, { tenants: { [B]: ['customer-admin'] } });
  for (const p of [staff, boss, viewer, outsider]) names.set(p.userId, (await ok('GET', `/api/v1/users/${p.userId}`)).name);
  tokenA = (await ok('POST', t(A, '/tokens'), { body: { role: 'operator', label: 'SOAR bridge' } })).token;
  const b = await ok('POST', t(B, '/tokens'), { body: { role: 'operator', label: 'B-only automation' } });
  tokenB = b.token;
  tokenBId = b.id;

  incident = (await ok('POST', t(A, '/incidents'), { token: staff.token, body: { title: 'Odd logins', severity: 'high' } })).id;
  await ok('POST', t(A, `/incidents/${incident}/comments`), { token: staff.token, body: { text: 'looking' } });
  await ok('POST', t(A, `/incidents/${incident}/comments`), { token: boss.token, body: { text: 'escalated' } });
  await ok('POST', t(A, `/incidents/${incident}/comments`), { token: tokenA, body: { text: 'ticket 4711' } });
  await commentAs({ kind: 'system', id: 'detection' }, 'linked by a rule');
  await commentAs({ kind: 'agent', id: agentA }, 'from the host');
  // Principals of the other customer, forged into A's log: their names must not come across.
  await commentAs({ kind: 'agent', id: agentB }, 'a host of B');
  const last = await commentAs({ kind: 'operator', id: `token:${tokenBId}` }, 'a token of B');
  await ok('GET', t(A, `/incidents/${incident}?waitFor=${await readToken(log.streams, A, last)}`));
  await ok('POST', t(A, `/alerts/${alert}/ack`), { token: staff.token });
  await ok('POST', t(A, `/alerts/${alert}/resolve`), { token: tokenA, body: { reason: 'benign' } });
  assert.ok(tokenB);
});

test.after(async () => {
  await f?.cleanup();
});

type Entry = { by: string; byName: string | null; byEmail?: string; text?: string; change?: string };

test('an incident names who opened it, every timeline step and comment; the raw principals stay', async () => {
  const i = await ok('GET', t(A, `/incidents/${incident}`), { token: viewer.token });
  assert.is(i.openedBy, `operator:user:${staff.userId}`);
  assert.is(i.openedByName, names.get(staff.userId));
  // The viewer may read the access list of A, where the MSP analyst holds roles: the e-mail is no news.
  assert.is(i.openedByEmail, staff.email);
  const by = (text: string) => (i.comments as Entry[]).find((c) => c.text === text)!;
  assert.equal([by('looking').by, by('looking').byName], [`operator:user:${staff.userId}`, names.get(staff.userId)]);
  assert.is(by('ticket 4711').byName, 'SOAR bridge');
  assert.is(by('linked by a rule').byName, 'Stockade');
  assert.is(by('from the host').byName, 'web-01.a.example');
  const opened = (i.timeline as Entry[])[0]!;
  assert.equal([opened.change, opened.byName], ['opened', names.get(staff.userId)]);
  assert.ok((i.timeline as Entry[]).every((e) => typeof e.by === 'string' && 'byName' in e));
  const list = await ok('GET', t(A, '/incidents'), { token: viewer.token });
  assert.is(list.items.find((x: { id: string }) => x.id === incident).openedByName, names.get(staff.userId));
});

test("another customer's agent and token are not named in A, even when forged into A's records", async () => {
  const i = await ok('GET', t(A, `/incidents/${incident}`));
  const by = (text: string) => (i.comments as Entry[]).find((c) => c.text === text)!;
  assert.equal([by('a host of B').by, by('a host of B').byName], [`agent:${agentB}`, null]);
  assert.equal([by('a token of B').by, by('a token of B').byName], [`operator:token:${tokenBId}`, null]);
  assert.not.match(JSON.stringify(i), /secret-host|B-only automation/);
});

test('a person without roles on A is named as the audit trail names them, the e-mail only to those who may read it', async () => {
  const asViewer = await ok('GET', t(A, `/incidents/${incident}`), { token: viewer.token });
  const escalated = (asViewer.comments as Entry[]).find((c) => c.text === 'escalated')!;
  assert.is(escalated.byName, names.get(boss.userId));
  assert.is(escalated.byEmail, undefined, 'an install-wide person is not on A’s access list: no e-mail to a customer analyst');
  assert.not.match(JSON.stringify(asViewer), new RegExp(boss.email.replace(/[.]/g, '\\.')));
  const audit = await ok('GET', t(A, `/audit?actorId=user:${boss.userId}`));
  assert.ok(audit.items.length > 0);
  assert.is(audit.items[0].actorName, escalated.byName, 'the same name as the audit trail');
  // The admin key may read every user: the e-mail is there.
  const asAdmin = await ok('GET', t(A, `/incidents/${incident}`));
  assert.is((asAdmin.comments as Entry[]).find((c) => c.text === 'escalated')!.byEmail, boss.email);
  // An outsider (B only) does not see A at all: A is "not found", names and all.
  const out = await f.call('GET', t(A, `/incidents/${incident}`), { token: outsider.token });
  assert.equal([out.status, out.body.error.code], [404, 'STK_ERR_NOT_FOUND']);
});

test('an alert names who acknowledged and resolved it, in the item, the list, the answer of the change and the CSV export', async () => {
  const a = await ok('GET', t(A, `/alerts/${alert}`), { token: viewer.token });
  assert.equal(
    [a.acknowledgedBy, a.acknowledgedByName, a.resolvedByName, a.hostname],
    [`operator:user:${staff.userId}`, names.get(staff.userId), 'SOAR bridge', 'web-01.a.example'],
  );
  const list = await ok('GET', t(A, '/alerts'), { token: viewer.token });
  assert.is(list.items.find((x: { id: string }) => x.id === alert).resolvedByName, 'SOAR bridge');
  const csv = await fetch(`${f.url}${t(A, '/alerts/export?format=csv')}`, { headers: { authorization: `Bearer ${f.adminKey}` } });
  const [head, row] = (await csv.text()).trim().split('\r\n');
  const cols = head!.split(',');
  const cells = row!.split(',');
  assert.is(cells[cols.indexOf('acknowledgedByName')], names.get(staff.userId));
  assert.is(cells[cols.indexOf('resolvedByName')], 'SOAR bridge');
});

test('a command names who dispatched and cancelled it', async () => {
  const d = await ok('POST', t(A, `/agents/${agentA}/commands`), { token: staff.token, body: { action: 'kill-process', args: { pid: 4242 } } });
  const cancelled = await ok('POST', t(A, `/commands/${d.id}/cancel`), { token: tokenA, body: { reason: 'wrong pid' } });
  assert.equal([cancelled.dispatchedByName, cancelled.cancelledByName], [names.get(staff.userId), 'SOAR bridge']);
  const item = await ok('GET', t(A, `/commands/${d.id}`), { token: viewer.token });
  assert.equal([item.dispatchedBy, item.dispatchedByName, item.dispatchedByEmail], [`operator:user:${staff.userId}`, names.get(staff.userId), staff.email]);
});

test.run();

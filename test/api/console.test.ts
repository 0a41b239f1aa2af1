import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { agentCommandDecider } from '../../commands/agent-commands/decider.ts';
import { execute } from '../../src/domain/execute.ts';
import { apiFixture, type ApiFixture } from '../helpers/api.ts';
import { AGENT_ACTOR, enrollAgent, freshTenant, raiseAlert, readToken } from '../helpers/events.ts';

/**
 * What the console needs of the operator API (issue 18): host names on lists, sorting, free text,
 * exact totals, exports, bulk changes, incident edits, command cancel and argument schemas.
 */
const test = suite('operator API: what the console reads and does');
let f: ApiFixture;
let tenant = '';
let web = '';
let db = '';
const ids: string[] = [];

test.before(async () => {
  f = await apiFixture();
  tenant = freshTenant('console');
  await f.tenant(tenant, ['edr']);
  const log = f.stk.runtime.log;
  ({ agentId: web } = await enrollAgent(log, tenant, 'web-01.acme.example'));
  ({ agentId: db } = await enrollAgent(log, tenant, 'db-07.acme.example'));
  let last = 0;
  for (let i = 0; i < 30; i++) {
    const r = await raiseAlert(log, tenant, i % 3 === 0 ? db : web, {
      severity: (['low', 'medium', 'high', 'critical'] as const)[i % 4]!,
      title: i === 7 ? '=HYPERLINK("http://evil.example","click")' : `alert ${i}`,
    });
    ids.push(r.alertId);
    last = r.position;
  }
  const waitFor = await readToken(log.streams, tenant, last);
  assert.is((await f.call('GET', `/api/v1/tenants/${tenant}/alerts?waitFor=${waitFor}`)).status, 200);
});

test.after(async () => {
  await f?.cleanup();
});

const t = (path: string) => `/api/v1/tenants/${tenant}${path}`;

test('lists carry host names, exact totals, server-side sorts and free text that finds a host by name', async () => {
  const page = await f.call('GET', t('/alerts?limit=5&sort=severity'));
  assert.is(page.status, 200, JSON.stringify(page.body));
  assert.is(page.body.total, 30);
  assert.is(page.body.totalExact, true);
  assert.equal(
    page.body.items.map((a: { severity: string }) => a.severity),
    ['critical', 'critical', 'critical', 'critical', 'critical'],
  );
  assert.ok(page.body.items.every((a: { hostname: string }) => a.hostname === 'web-01.acme.example' || a.hostname === 'db-07.acme.example'));
  const byHost = await f.call('GET', t('/alerts?q=db-07&limit=200'));
  assert.is(byHost.body.total, 10);
  assert.ok(byHost.body.items.every((a: { agentId: string }) => a.agentId === db));
  const none = await f.call('GET', t('/alerts?q=nothing-like-this'));
  assert.equal([none.body.items, none.body.total], [[], 0]);
  const bad = await f.call('GET', t('/alerts?sort=title'));
  assert.is(bad.body.error.code, 'STK_ERR_VALIDATION');
  const range = await f.call('GET', t(`/alerts?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z`));
  assert.is(range.body.total, 0);
  const agent = await f.call('GET', t(`/alerts/${ids[0]}`));
  assert.is(agent.body.hostname, 'db-07.acme.example');
});

test('exports: the filtered list as CSV (a formula-looking cell is defused) and JSON', async () => {
  const res = await fetch(`${f.url}${t('/alerts/export?format=csv&severity=high')}`, { headers: { authorization: `Bearer ${f.adminKey}` } });
  assert.is(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/csv/);
  assert.match(res.headers.get('content-disposition') ?? '', /attachment; filename=".*-alerts-.*\.csv"/);
  const lines = (await res.text()).trim().split('\r\n');
  assert.is(lines.length, 1 + 7, 'a header and the 7 high alerts');
  assert.ok(lines[0]!.startsWith('id,raisedAt,'));
  const json = await f.call('GET', t('/alerts/export?format=json&severity=critical'));
  assert.is(json.body.length, 7);
  const evil = await fetch(`${f.url}${t('/alerts/export?format=csv&q=HYPERLINK')}`, { headers: { authorization: `Bearer ${f.adminKey}` } });
  const row = (await evil.text()).trim().split('\r\n')[1]!;
  assert.ok(row.includes(`"'=HYPERLINK(""http://evil.example"",""click"")"`), row);
});

test('bulk: one call acknowledges a batch; alerts already past it are reported, not failed', async () => {
  const [a, b, c] = ids as [string, string, string];
  await f.call('POST', t(`/alerts/${c}/resolve`), { body: { reason: 'benign' } });
  const r = await f.call('POST', t('/alerts/bulk'), { body: { action: 'acknowledge', alertIds: [a, b, c] } });
  assert.is(r.status, 200, JSON.stringify(r.body));
  assert.equal(
    r.body.results.map((x: { outcome: string }) => x.outcome),
    ['changed', 'changed', 'refused'],
  );
  assert.is(r.body.results[2].code, 'STK_ERR_INVALID_TRANSITION');
  const again = await f.call('POST', t('/alerts/bulk'), { body: { action: 'acknowledge', alertIds: [a] } });
  assert.is(again.body.results[0].outcome, 'unchanged', 'acknowledging twice writes nothing');
  const list = await f.call('GET', t(`/alerts?status=acknowledged&waitFor=${r.body.consistencyToken}`));
  assert.is(list.body.total, 2);
  const noReason = await f.call('POST', t('/alerts/bulk'), { body: { action: 'resolve', alertIds: [a] } });
  assert.is(noReason.body.error.code, 'STK_ERR_VALIDATION');
  const missing = await f.call('POST', t('/alerts/bulk'), { body: { action: 'acknowledge', alertIds: [a, 'no-such-alert'] } });
  assert.is(missing.status, 404, 'a batch with an unknown id changes nothing');
});

test('incidents: edit title and severity, clear the assignee, comment, close and reopen — all on the timeline', async () => {
  const open = await f.call('POST', t('/incidents'), { body: { title: 'Lateral movement', severity: 'medium', alertIds: [ids[3]] } });
  const id = open.body.id as string;
  const edit = await f.call('PATCH', t(`/incidents/${id}`), { body: { title: 'Lateral movement from web-01', severity: 'critical', assignee: 'dana' } });
  assert.is(edit.status, 200, JSON.stringify(edit.body));
  assert.equal([edit.body.title, edit.body.severity, edit.body.assignee], ['Lateral movement from web-01', 'critical', 'dana']);
  assert.is(edit.body.alerts[0].hostname, 'db-07.acme.example');
  const cleared = await f.call('PATCH', t(`/incidents/${id}`), { body: { assignee: null } });
  assert.is(cleared.body.assignee, null);
  const empty = await f.call('PATCH', t(`/incidents/${id}`), { body: { assignee: '' } });
  assert.is(empty.body.error.code, 'STK_ERR_VALIDATION', 'an empty name is not a way to clear it');
  await f.call('POST', t(`/incidents/${id}/comments`), { body: { text: 'web-01 talked to db-07 over SMB' } });
  await f.call('POST', t(`/incidents/${id}/close`), { body: { reason: 'contained' } });
  const reopen = await f.call('POST', t(`/incidents/${id}/reopen`), { body: { reason: 'seen again' } });
  assert.is(reopen.body.status, 'open');
  const twice = await f.call('POST', t(`/incidents/${id}/reopen`), { body: { reason: 'x' } });
  assert.is(twice.body.error.code, 'STK_ERR_INVALID_TRANSITION');
  assert.equal(
    reopen.body.comments.map((c: { text: string }) => c.text),
    ['web-01 talked to db-07 over SMB'],
  );
  assert.equal(
    reopen.body.timeline.map((s: { change: string }) => s.change),
    [
      'opened',
      'title changed to "Lateral movement from web-01"',
      'severity critical',
      'assigned to dana',
      'unassigned',
      'commented',
      'closed',
      'reopened: seen again',
    ],
  );
});

test("commands: arguments are checked against the action's schema; a pending command can be cancelled, a delivered one not", async () => {
  const bad = await f.call('POST', t(`/agents/${web}/commands`), { body: { action: 'kill-process', args: { pid: 'x' } } });
  assert.is(bad.status, 400);
  assert.is(bad.body.error.code, 'STK_ERR_VALIDATION');
  assert.is(bad.body.error.data.field, 'args.pid');
  const extra = await f.call('POST', t(`/agents/${web}/commands`), { body: { action: 'ping', args: { rm: '-rf /' } } });
  assert.is(extra.body.error.data.field, 'args.rm');
  const ok = await f.call('POST', t(`/agents/${web}/commands`), { body: { action: 'kill-process', args: { pid: 4242, reason: 'miner' } } });
  assert.is(ok.status, 201, JSON.stringify(ok.body));
  const cancel = await f.call('POST', t(`/commands/${ok.body.id}/cancel`), { body: { reason: 'wrong host' } });
  assert.is(cancel.status, 200, JSON.stringify(cancel.body));
  assert.equal([cancel.body.status, cancel.body.cancelReason, cancel.body.hostname], ['cancelled', 'wrong host', 'web-01.acme.example']);
  const second = await f.call('POST', t(`/agents/${web}/commands`), { body: { action: 'ping', args: {} } });
  await execute(f.stk.runtime.log, { tenant, id: second.body.id }, agentCommandDecider, { kind: 'deliver', agentId: web }, { actor: AGENT_ACTOR(web) });
  const late = await f.call('POST', t(`/commands/${second.body.id}/cancel`), { body: {} });
  assert.is(late.status, 409);
  assert.is(late.body.error.code, 'STK_ERR_INVALID_TRANSITION');
  const listed = await f.call('GET', t(`/commands?status=cancelled&agentId=${web}`));
  assert.is(listed.body.total, 1);
});

test('overview and stats: open alerts by severity, alerts per hour, agents heard from, top rules and hosts', async () => {
  const o = await f.call('GET', t('/overview'));
  const open = o.body.alerts.open as number;
  assert.is(
    Object.values(o.body.openAlertsBySeverity as Record<string, number>).reduce((a, b) => a + b, 0),
    open,
  );
  const s = await f.call('GET', t('/stats?days=1'));
  assert.is(s.status, 200);
  assert.is(s.body.hours.length, 24);
  const perHour = (['low', 'medium', 'high', 'critical'] as const).map((k) => (s.body.alertsByHour[k] as number[]).reduce((a, b) => a + b, 0));
  assert.is(
    perHour.reduce((a, b) => a + b, 0),
    30,
  );
  assert.is(Math.max(...(s.body.agentsByHour as number[])), 2);
  assert.equal(s.body.topHosts[0], { agentId: web, hostname: 'web-01.acme.example', count: 20 });
  assert.equal(s.body.topRules, [{ rule: 'edr.suspicious-child', count: 30 }]);
  assert.is((await f.call('GET', t('/stats?days=31'))).body.error.code, 'STK_ERR_VALIDATION');
});

test('overview: alert counts come from the overview model and equal what the alert lists count, by status and open severity', async () => {
  // An acknowledged alert resolved, an unacknowledged one resolved, one more acknowledged.
  const [acked] = ids as [string];
  await f.call('POST', t(`/alerts/${acked}/resolve`), { body: { reason: 'benign' } });
  await f.call('POST', t(`/alerts/${ids[5]}/resolve`), { body: { reason: 'benign' } });
  const last = await f.call('POST', t(`/alerts/${ids[6]}/ack`), { body: {} });
  assert.is(last.status, 200, JSON.stringify(last.body));
  const o = await f.call('GET', t(`/overview?waitFor=${last.body.consistencyToken}`));
  assert.is(o.status, 200, JSON.stringify(o.body));
  const total = async (query: string) => (await f.call('GET', t(`/alerts?${query}&limit=1`))).body.total as number;
  const byStatus = { open: await total('status=open'), acknowledged: await total('status=acknowledged'), resolved: await total('status=resolved') };
  assert.equal(o.body.alerts, byStatus);
  assert.equal(byStatus, { open: 25, acknowledged: 2, resolved: 3 });
  const bySeverity: Record<string, number> = {};
  for (const sev of ['low', 'medium', 'high', 'critical']) bySeverity[sev] = await total(`status=open&severity=${sev}`);
  assert.equal(o.body.openAlertsBySeverity, bySeverity);
});

test.run();

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type DemoTarget, seedDemo } from '../../src/demo/mod.ts';
import { rejects } from '../helpers/assert.ts';
import { readToken } from '../helpers/events.ts';
import { runCli } from '../helpers/proc.ts';
import { apiCall, enrollAgent, stockadeFixture } from '../dashboard/stack.ts';

/**
 * `stockade demo seed|reset` against real installs (every role, embedded nats-server, the real
 * ingress): the book is there through the API — customers, agents online, alerts of every
 * severity, incidents with notes, findings in every state, scan runs, evidence with custody,
 * commands with results, people — and the same seed on another install makes the same names, hosts
 * and alerts. An install holding someone else's customer is refused (with the code, writing
 * nothing) unless forced; reset takes out exactly the demo and leaves the other customer as it was.
 */
const test = suite('demo: seed and reset through the real paths');

type Stack = Awaited<ReturnType<typeof stockadeFixture>>;
let a: Stack;
let b: Stack;

test.before(async () => {
  [a, b] = await Promise.all([stockadeFixture(), stockadeFixture()]);
});
test.after(async () => {
  await Promise.all([a?.close(), b?.close()]);
});

const targetOf = async (s: Stack): Promise<DemoTarget> => ({ api: s.base, adminKey: s.adminKey, ingressUrl: s.stk.ingressUrl!, caPem: await s.caPem() });

/** GET as admin, once the read models hold everything written so far. */
async function read(s: Stack, tenant: string, path: string): Promise<any> {
  const waitFor = await readToken(s.stk.runtime.streams, tenant, await s.stk.runtime.log.lastPosition());
  const r = await apiCall(s.base, s.adminKey, 'GET', `/tenants/${tenant}${path}${path.includes('?') ? '&' : '?'}waitFor=${encodeURIComponent(waitFor)}`);
  assert.is(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
  return r.body;
}

async function tenants(s: Stack): Promise<string[]> {
  return (await apiCall(s.base, s.adminKey, 'GET', '/tenants')).body.items.map((t: { id: string }) => t.id).sort();
}

/** What two installs seeded alike must share: customers, their hosts, and their alerts. */
async function fingerprint(s: Stack): Promise<unknown> {
  const out: unknown[] = [];
  for (const t of (await apiCall(s.base, s.adminKey, 'GET', '/tenants')).body.items.filter((x: { id: string }) => x.id.startsWith('demo-'))) {
    const agents = (await read(s, t.id, '/agents?limit=200')).items.map((x: { hostname: string; status: string }) => `${x.hostname} ${x.status}`).sort();
    const alerts = (await read(s, t.id, '/alerts?limit=200')).items
      .map((x: { title: string; hostname: string; severity: string }) => `${x.hostname} ${x.severity} ${x.title}`)
      .sort();
    out.push({ name: t.name, products: t.products, agents, alerts });
  }
  return out.sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
}

let seeded: unknown;

test('`stockade demo seed --data` fills a fresh install with the book of the seed', async () => {
  const cli = runCli(['demo', 'seed', '--data', a.dataDir, '--customers', '2', '--seed', '7']);
  assert.is(await cli.exited, 0, cli.lines.join('\n'));
  assert.ok(
    cli.lines.some((l) => /^demo: .*: done$/.test(l)),
    'progress lines on the terminal',
  );
  const ids = (await tenants(a)).filter((t) => t.startsWith('demo-'));
  assert.is(ids.length, 2);
  const flagship = ids.find((id) => cli.lines.some((l) => l.startsWith(`${id}\t`) && l.includes('edr,identity,attack-surface,patch')))!;
  assert.ok(flagship, cli.lines.join('\n'));

  const overview = await read(a, flagship, '/overview');
  assert.is(overview.agents.offline, 0);
  assert.ok(overview.agents.online >= 5, JSON.stringify(overview.agents));
  const severities = new Set((await read(a, flagship, '/alerts?limit=200')).items.map((x: { severity: string }) => x.severity));
  assert.equal([...severities].sort(), ['critical', 'high', 'low', 'medium']);
  for (const s of ['critical', 'high', 'medium', 'low']) assert.ok(overview.openAlertsBySeverity[s] > 0, `an open ${s} alert`);
  for (const state of ['open', 'accepted-risk', 'remediated', 'false-positive']) assert.ok(overview.findings[state] > 0, `a finding ${state}`);
  assert.ok(overview.incidents.contained + overview.incidents.closed >= 2, JSON.stringify(overview.incidents));

  const incidents = (await read(a, flagship, '/incidents?limit=200')).items;
  const one = await read(a, flagship, `/incidents/${incidents[0].id}`);
  assert.ok(one.comments.length >= 2 && one.alertIds.length >= 2, JSON.stringify(one).slice(0, 400));
  const scans = (await read(a, flagship, '/scans?limit=200')).items;
  assert.is(scans.length, 2);
  for (const r of scans) assert.match(r.merkleRoot, /^[0-9a-f]{64}$/);
  const evidence = (await read(a, flagship, '/evidence?limit=200')).items;
  const custody = await Promise.all(
    evidence.map(async (e: { id: string }) => (await read(a, flagship, `/evidence/${e.id}`)).custody.map((c: { action: string }) => c.action)),
  );
  assert.ok(
    custody.some((k: string[]) => k.includes('transferred') && k.includes('downloaded') && k.includes('sealed')),
    JSON.stringify(custody),
  );
  const commands = (await read(a, flagship, '/commands?limit=200')).items;
  const outcome = (x: { status: string; outcome: string | null }) => `${x.status}${x.outcome ? `:${x.outcome}` : ''}`;
  for (const o of ['completed:succeeded', 'completed:failed', 'cancelled', 'pending'])
    assert.ok(
      commands.some((x: never) => outcome(x) === o),
      `a command ${o}`,
    );
  for (const action of ['isolate-host', 'kill-process', 'collect-evidence', 'run-scan', 'install-patches', 'disable-account'])
    assert.ok(
      commands.some((x: { action: string; outcome: string }) => x.action === action && x.outcome === 'succeeded'),
      action,
    );
  const approvals = (await read(a, flagship, '/approvals?limit=200')).items.map((x: { status: string }) => x.status).sort();
  assert.equal(approvals, ['executed', 'pending']);
  // The SIEM webhook is on a private address, which this install (default policy) refuses for good.
  const channels = (await read(a, flagship, '/notifications/channels')).items;
  assert.equal(
    channels.map((c: { kind: string; routing: { minSeverity: string } }) => `${c.kind} ${c.routing.minSeverity}`),
    ['webhook high'],
  );
  const messages = (await read(a, flagship, '/notifications/deliveries?limit=200')).items;
  assert.ok(messages.length > 0, 'the attacks became messages');
  for (const m of messages) assert.is(`${m.status} ${m.deadLetter}`, 'dead-letter permanent-failure', JSON.stringify(m.attempts));
  const hosts = (await read(a, flagship, '/hosts?limit=200')).items;
  assert.ok(hosts.some((h: { isolation: string }) => h.isolation === 'isolated'));
  assert.ok((await read(a, flagship, '/processes?limit=200')).items.length > 20);
  assert.ok((await read(a, flagship, '/identities?limit=200')).items.length > 10);
  assert.ok((await read(a, flagship, '/assets/certificates')).items.some((c: { status: string }) => c.status === 'expiring'));

  const users = (await apiCall(a.base, a.adminKey, 'GET', '/users')).body.items;
  assert.ok(users.length >= 5);
  assert.ok(users.every((u: { email: string }) => u.email.endsWith('.demo.example')));
  assert.equal([...new Set(users.map((u: { status: string }) => u.status))].sort(), ['active', 'invited']);
  const audit = (await read(a, flagship, '/audit?limit=200')).items;
  assert.ok(
    audit.some((x: { actorName: string | null }) => x.actorName === 'Dana Okafor'),
    'people act as themselves',
  );
  seeded = await fingerprint(a);
});

test('refused without --force on an install holding another customer, with the code, writing nothing', async () => {
  const other = await apiCall(b.base, b.adminKey, 'POST', '/tenants', { id: 'harbor-real', name: 'A real customer' });
  await apiCall(b.base, b.adminKey, 'PUT', '/tenants/harbor-real/products/edr', { enabled: true });
  const agent = await enrollAgent(b, other.body.enrollSecret, 'real-web-01');
  await agent.report([{ kind: 'alert', at: new Date().toISOString(), data: { rule: 'edr.real', severity: 'high', title: 'A real alert' } }]);
  agent.close();
  const person = await apiCall(b.base, b.adminKey, 'POST', '/users', { name: 'Real Person', email: 'real.person@example.com' });
  assert.is(person.status, 201);
  const before = { tenants: await tenants(b), users: (await apiCall(b.base, b.adminKey, 'GET', '/users')).body.items.length };

  const err = await rejects(seedDemo({ target: await targetOf(b), customers: 2, seed: '7' }), 'STK_ERR_DEMO_FOREIGN_DATA');
  assert.equal(err.data.tenants, ['harbor-real']);
  const cli = runCli(['demo', 'seed', '--data', b.dataDir, '--customers', '2', '--seed', '7']);
  assert.is(await cli.exited, 1);
  assert.match(cli.lines.join('\n'), /harbor-real.*\(STK_ERR_DEMO_FOREIGN_DATA\)/);
  assert.equal({ tenants: await tenants(b), users: (await apiCall(b.base, b.adminKey, 'GET', '/users')).body.items.length }, before);
});

test('with --force, the same seed on another install makes the same customers, hosts and alerts; seeding again is refused', async () => {
  const s = await seedDemo({ target: await targetOf(b), customers: 2, seed: '7', force: true });
  s.close();
  assert.equal(await fingerprint(b), seeded);
  const again = await rejects(seedDemo({ target: await targetOf(b), customers: 2, seed: '7', force: true }), 'STK_ERR_DEMO_PRESENT');
  assert.is((again.data.tenants as string[]).length, 2);
});

test('reset removes only the demo: its tenants offboarded, its people disabled; the real customer and person untouched', async () => {
  const realAlerts = (await read(b, 'harbor-real', '/alerts')).items;
  const cli = runCli(['demo', 'reset', '--data', b.dataDir]);
  assert.is(await cli.exited, 0, cli.lines.join('\n'));
  assert.match(cli.lines.join('\n'), /2 demo customer\(s\) offboarded/);
  assert.equal(await tenants(b), ['default', 'harbor-real']);
  assert.equal((await read(b, 'harbor-real', '/alerts')).items, realAlerts);
  assert.is((await read(b, 'harbor-real', '/agents')).items[0].status, 'active');
  const users = (await apiCall(b.base, b.adminKey, 'GET', '/users')).body.items;
  for (const u of users) assert.is(u.status, u.email === 'real.person@example.com' ? 'invited' : 'disabled', u.email);
  // An offboarded id is reserved forever: the demo seeded again takes the next free ids, with another seed another book.
  const s = await seedDemo({ target: await targetOf(b), customers: 2, seed: '8', force: true });
  s.close();
  const other = await fingerprint(b);
  assert.not.equal(other, seeded);
  const names = (f: unknown) => (f as Array<{ name: string }>).map((c) => c.name).sort();
  assert.not.equal(names(other), names(seeded));
});

test.run();

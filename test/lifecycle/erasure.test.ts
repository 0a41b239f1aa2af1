import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { alertDecider } from '../../commands/alerts/decider.ts';
import { execute } from '../../src/domain/execute.ts';
import { newId } from '../../src/ids.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { EVENTS_STREAM, tenantFilter } from '../../src/log/mod.ts';
import { ERASED_TEXT } from '../../src/privacy/mod.ts';
import { AGENT_ACTOR, enrollAgent, freshTenant, readToken } from '../helpers/events.ts';
import { runCli } from '../helpers/proc.ts';
import { lifecycleFixture, type LifecycleFixture } from './fixture.ts';

/**
 * Erasure end to end: through the API, with field encryption as `serve` runs it, a real sealer,
 * the projector and a rebuild. What was erased is unreadable everywhere; nothing else changed;
 * the ledger verifies and counts the shredded entries.
 */
const test = suite('lifecycle: erasing a data subject');
let f: LifecycleFixture;
test.before(async () => {
  f = await lifecycleFixture();
});
test.after(async () => {
  await f?.cleanup();
});

async function alertOn(tenant: string, agentId: string, title: string, account?: string): Promise<string> {
  const id = newId();
  await execute(
    f.stk.runtime.log,
    { tenant, id },
    alertDecider,
    {
      kind: 'raise',
      alert: {
        agentId,
        product: null,
        rule: 'edr.test',
        severity: 'high',
        title,
        ...(account ? { details: { account } } : {}),
        observedAt: '2026-01-01T00:00:00.000Z',
      },
    },
    { actor: AGENT_ACTOR(agentId), known: 'new' },
  );
  return id;
}

test('the subject reads as erased in every read model and after a rebuild; other subjects and tenants are untouched; verify reports the shredded entries', async () => {
  const log = f.stk.runtime.log;
  const a = freshTenant('era');
  const b = freshTenant('erb');
  await f.tenant(a, ['edr', 'identity']);
  await f.tenant(b, ['edr']);
  const { agentId: leaver } = await enrollAgent(log, a, 'alice-laptop.corp');
  const { agentId: server } = await enrollAgent(log, a, 'db-server.corp');
  const { agentId: twin } = await enrollAgent(log, b, 'alice-laptop.corp');
  const onLeaver = await alertOn(a, leaver, 'reverse shell on alice-laptop');
  const onServer = await alertOn(a, server, 'sudo by bob', 'bob');
  await alertOn(b, twin, 'reverse shell on alice-laptop');
  const cmd = await f.call('POST', `/api/v1/tenants/${a}/agents/${leaver}/commands`, { body: { action: 'disable-account', args: { account: 'alice' } } });
  assert.is(cmd.status, 201, JSON.stringify(cmd.body));
  const ready = await readToken(log.streams, a, await log.lastPosition());
  const before = await f.call('GET', `/api/v1/tenants/${a}/agents/${leaver}?waitFor=${ready}`);
  assert.is(before.body.hostname, 'alice-laptop.corp');
  const bBefore = await f.call('GET', `/api/v1/tenants/${b}/agents/${twin}?waitFor=${await readToken(log.streams, b, await log.lastPosition())}`);
  const bAlertsBefore = await f.call('GET', `/api/v1/tenants/${b}/alerts`);

  // Nothing personal is stored in the clear, for any tenant.
  let clear = 0;
  await log.streams.scanEach(EVENTS_STREAM, { filter: tenantFilter(a) }, (m) => {
    if (new TextDecoder().decode(m.data).includes('alice')) clear++;
  });
  assert.is(clear, 0, 'no stored record of the tenant holds the name');

  const erased = await f.call('POST', `/api/v1/tenants/${a}/erasures`, { body: { subject: `agent:${leaver}`, reference: 'GDPR-17 alice' } });
  assert.is(erased.status, 201, JSON.stringify(erased.body));
  assert.is(erased.body.keysDestroyed, 1);
  const t = erased.body.consistencyToken;

  const agent = await f.call('GET', `/api/v1/tenants/${a}/agents/${leaver}?waitFor=${t}`);
  assert.is(agent.body.hostname, ERASED_TEXT);
  assert.is(agent.body.inventory, null);
  assert.is((await f.call('GET', `/api/v1/tenants/${a}/alerts/${onLeaver}`)).body.title, ERASED_TEXT);
  const command = await f.call('GET', `/api/v1/tenants/${a}/commands/${cmd.body.id}`);
  assert.is(command.body.args, null, 'the command arguments are gone with the machine');
  assert.equal((await f.call('GET', `/api/v1/tenants/${a}/agents?hostname=alice-laptop.corp`)).body.items, [], 'the index forgot the name');
  assert.is((await f.call('GET', `/api/v1/tenants/${a}/agents/${server}`)).body.hostname, 'db-server.corp');
  assert.is((await f.call('GET', `/api/v1/tenants/${a}/alerts/${onServer}`)).body.title, 'sudo by bob');
  // The other tenant's documents are byte-identical.
  assert.equal((await f.call('GET', `/api/v1/tenants/${b}/agents/${twin}`)).body, bBefore.body);
  assert.equal((await f.call('GET', `/api/v1/tenants/${b}/alerts`)).body.items, bAlertsBefore.body.items);

  // A rebuild from EVENTS shows the fields as erased too.
  const rebuilt = await f.call('POST', '/api/v1/admin/projections/rebuild', { body: {} });
  assert.is(rebuilt.status, 200, JSON.stringify(rebuilt.body));
  assert.is((await f.call('GET', `/api/v1/tenants/${a}/agents/${leaver}`)).body.hostname, ERASED_TEXT);
  assert.is((await f.call('GET', `/api/v1/tenants/${a}/alerts/${onLeaver}`)).body.title, ERASED_TEXT);
  assert.is((await f.call('GET', `/api/v1/tenants/${a}/agents/${server}`)).body.hostname, 'db-server.corp');
  assert.equal((await f.call('GET', `/api/v1/tenants/${b}/agents/${twin}`)).body, bBefore.body);

  // The erasure is in the audit trail, and the chain verifies with the shredded entries counted:
  // the enrollment, the alert, the dispatch (sealed under the machine and the account `alice`).
  const audit = await f.call('GET', `/api/v1/tenants/${a}/audit?action=privacy.keys-destroyed`);
  assert.is(audit.body.items.length, 1);
  assert.is(audit.body.items[0].actorId, 'admin');
  await f.sealed(a);
  const report = await verifyLedger({ streams: log.streams, tenants: [a, b] });
  assert.ok(report.ok, JSON.stringify(report.tenants.map((x) => x.break)));
  assert.is(report.tenants[0]!.shredded, 3);
  assert.is(report.tenants[1]!.shredded, 0);
  const cli = runCli(['ledger', 'verify', '--tenant', a, '--nats-url', f.stk.runtime.config.natsUrl.join(',')]);
  assert.is(await cli.exited, 0, cli.lines.join('\n'));
  assert.ok(
    cli.lines.some((l) => l.startsWith(`ok ${a}:`) && l.includes('3 entries shredded')),
    cli.lines.join('\n'),
  );
});

test('erasing an account shreds every event that names it, on every machine; an unknown subject destroys nothing; a malformed one is refused', async () => {
  const log = f.stk.runtime.log;
  const a = freshTenant('acc');
  await f.tenant(a, ['edr']);
  const { agentId: h1 } = await enrollAgent(log, a, 'web-1');
  const { agentId: h2 } = await enrollAgent(log, a, 'web-2');
  const x = await alertOn(a, h1, 'login by carol', 'carol');
  const y = await alertOn(a, h2, 'sudo by carol', 'carol');
  const z = await alertOn(a, h2, 'sudo by dave', 'dave');
  const r = await f.call('POST', `/api/v1/tenants/${a}/erasures`, { body: { subject: 'account:carol' } });
  assert.is(r.status, 201, JSON.stringify(r.body));
  // One key per subject, kind and month: carol's alerts on both machines were this month.
  assert.is(r.body.keysDestroyed, 1);
  const t = r.body.consistencyToken;
  assert.is((await f.call('GET', `/api/v1/tenants/${a}/alerts/${x}?waitFor=${t}`)).body.title, ERASED_TEXT);
  assert.is((await f.call('GET', `/api/v1/tenants/${a}/alerts/${y}`)).body.title, ERASED_TEXT);
  assert.is((await f.call('GET', `/api/v1/tenants/${a}/alerts/${z}`)).body.title, 'sudo by dave');
  assert.is((await f.call('GET', `/api/v1/tenants/${a}/agents/${h1}`)).body.hostname, 'web-1');

  const none = await f.call('POST', `/api/v1/tenants/${a}/erasures`, { body: { subject: 'person:nobody@example.com' } });
  assert.is(none.status, 201);
  assert.is(none.body.keysDestroyed, 0);
  const bad = await f.call('POST', `/api/v1/tenants/${a}/erasures`, { body: { subject: 'carol' } });
  assert.is(bad.status, 400);
  assert.is(bad.body.error.code, 'STK_ERR_SUBJECT_INVALID');
  const op = await f.token(a, 'operator');
  const refused = await f.call('POST', `/api/v1/tenants/${a}/erasures`, { token: op, body: { subject: 'account:dave' } });
  assert.is(refused.status, 403);
  assert.is(refused.body.error.code, 'STK_ERR_FORBIDDEN');
});

test.run();

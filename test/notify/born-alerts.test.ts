import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { channelsDecider } from '../../commands/notify/decider.ts';
import { CHANNELS_ID } from '../../commands/notify/events.ts';
import { execute } from '../../src/domain/execute.ts';
import { newId } from '../../src/ids.ts';
import { partitionOf } from '../../src/log/mod.ts';
import { planReport, writeReport } from '../../src/ingress/report.ts';
import { openInstallBox } from '../../src/notify/install-box.ts';
import { parseChannelInput, sealChannel, verifyWebhook } from '../../src/notify/mod.ts';
import { Outbox, type AlertProgress } from '../../src/notify/outbox.ts';
import { ADMIN, createTenant, enrollAgent, freshTenant } from '../helpers/events.ts';
import { type DetectFixture, detectFixture } from '../detect/fixture.ts';
import { withDeadline } from '../helpers/deadline.ts';
import { startHttpReceiver } from './receivers.ts';

/**
 * An agent's own alerts are born in its report's commit (one message with the heartbeat): the
 * detector's outbox must still see each as an alert of its own and tell the tenant's channels.
 */
const test = suite('outbox: alerts born in an agent’s report commit');
const SECRET = 'stk_whsec_born-alerts-secret-0123456789abcdef';

let f: DetectFixture;
test.before(async () => {
  // Field encryption on, as an install runs by default: an alert's title and host are sealed in
  // the log, and the message must carry them readable.
  f = await detectFixture(
    {
      silenceMs: 30 * 86_400_000,
      transport: { dashboardBaseUrl: 'https://stockade.example.com', network: { allowLoopback: true }, timeoutMs: 5_000 },
    },
    undefined,
    { fieldEncryption: true },
  );
});
test.after(async () => {
  await f?.cleanup();
});

/** A tenant with edr, an agent and a webhook channel with `routing`; `report` writes one agent report raising alerts with these titles. */
async function world(url: string, routing: object) {
  const tenant = freshTenant('born');
  await createTenant(f.log, tenant, ['edr']);
  const { agentId } = await enrollAgent(f.log, tenant, 'web-02');
  const box = await openInstallBox(f.log.streams);
  const channelId = newId();
  const { channel } = parseChannelInput({ kind: 'webhook', name: 'SOC', settings: { url, secret: SECRET }, routing }, { allowLoopbackHttp: true });
  const ch = await execute(
    f.log,
    { tenant, id: CHANNELS_ID },
    channelsDecider,
    { kind: 'save', channel: sealChannel(box, tenant, channelId, channel), create: true },
    { actor: ADMIN },
  );
  await f.settled(tenant, { events: ch.position });
  const agent = { tenant, agentId, version: 1, revoked: false };
  const outbox = () => f.detector.worker(partitionOf(tenant))!.outbox;
  return {
    tenant,
    outbox,
    /** The alert groups the outbox keeps for this tenant (what its ticks visit and its checkpoints hold). */
    kept: () => Object.keys(outbox().snapshot().alerts).filter((k) => k.startsWith(`${tenant}/`)),
    async report(batchId: string, titles: string[]) {
      const at = new Date(f.now()).toISOString();
      const plan = planReport(agent, ['edr'], {
        agentId,
        batchId,
        events: [
          { kind: 'heartbeat' as const, at, data: {} },
          ...titles.map((title) => ({ kind: 'alert' as const, at, data: { rule: 'edr.agent-rule', severity: 'high', title } })),
        ],
      });
      assert.ok(plan.ok);
      const written = await writeReport(f.log, agent, plan);
      await f.settled(tenant, { events: written.position });
      await outbox().idle();
    },
  };
}

const verifying = () => startHttpReceiver((req) => (verifyWebhook(req.headers, req.rawBody, SECRET, new Date(f.now())).ok ? { status: 204 } : { status: 401 }));

test('each alert born in a report commit is one webhook message naming that alert, and is not kept once told', async () => {
  const http = await verifying();
  try {
    const w = await world(http.url, { minSeverity: 'low' });
    await w.report('b1', ['one', 'two']);
    await withDeadline(http.waitForRequests(2), 'two webhook posts');
    const bodies = http.requests.map((r) => JSON.parse(r.rawBody.toString('utf8')) as { event: string; alert: { id: string; title: string; host: string } });
    assert.equal(bodies.map((b) => b.alert.title).sort(), ['one', 'two']);
    assert.ok(bodies.every((b) => b.event === 'new' && b.alert.host === 'web-02'));
    const ids = (await f.alerts(w.tenant)).map((a) => a.id).sort();
    assert.equal(bodies.map((b) => b.alert.id).sort(), ids, 'each message names its own alert');
    // An agent's alert never occurs again: once told, the outbox has nothing left to do for it.
    assert.equal(w.kept(), [], 'told alerts an agent raised are not kept in the outbox');
  } finally {
    await http.close();
  }
});

test('an agent’s alert held for quiet hours is kept until they end, sent once, then let go', async () => {
  const http = await verifying();
  try {
    const day = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][new Date(f.now()).getUTCDay()];
    const w = await world(http.url, { minSeverity: 'low', quietHours: { timeZone: 'UTC', windows: [{ days: [day], start: '00:00', end: '24:00' }] } });
    await w.report('q1', ['at night']);
    assert.is(http.requests.length, 0, 'held');
    assert.is(w.kept().length, 1, 'a held alert is kept: its message is still to go');
    const midnight = Date.UTC(new Date(f.now()).getUTCFullYear(), new Date(f.now()).getUTCMonth(), new Date(f.now()).getUTCDate() + 1);
    f.advance(midnight - f.now() + 1);
    await f.detector.tick();
    await w.outbox().idle();
    await withDeadline(http.waitForRequests(1), 'the held message');
    assert.is(JSON.parse(http.requests[0]!.rawBody.toString('utf8')).alert.title, 'at night');
    assert.equal(w.kept(), [], 'sent: nothing more to follow');
  } finally {
    await http.close();
  }
});

test('a checkpoint of an earlier build, which kept every alert an agent raised, is restored without them', async () => {
  const group = (ruleVersion: string) => ({
    tenant: 't',
    alertId: newId(),
    ruleId: 'r',
    ruleVersion,
    title: 'x',
    severity: 'high' as const,
    attack: [],
    host: 'h',
    count: 1,
    firstSeen: '2026-01-01T00:00:00.000Z',
    lastSeen: '2026-01-01T00:00:00.000Z',
  });
  const progress = (ruleVersion: string, held: Record<string, number> = {}): AlertProgress => ({
    tenant: 't',
    group: group(ruleVersion),
    notified: {},
    held,
    touchedMs: f.now(),
  });
  const outbox = new Outbox({
    log: f.log,
    box: await openInstallBox(f.log.streams),
    transport: { dashboardBaseUrl: 'https://stockade.example.com' },
    clock: f.now,
    eager: false,
  });
  outbox.restore({
    alerts: { 't/told': progress('agent'), 't/held': progress('agent', { c1: f.now() + 60_000 }), 't/detection': progress('3') },
    pending: {},
  });
  assert.equal(Object.keys(outbox.snapshot().alerts).sort(), ['t/detection', 't/held']);
});

test.run();

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { channelsDecider } from '../../commands/notify/decider.ts';
import { CHANNELS_ID } from '../../commands/notify/events.ts';
import { execute } from '../../src/domain/execute.ts';
import { newId } from '../../src/ids.ts';
import { planReport, writeReport } from '../../src/ingress/report.ts';
import { openInstallBox } from '../../src/notify/install-box.ts';
import { parseChannelInput, sealChannel, verifyWebhook } from '../../src/notify/mod.ts';
import { ADMIN, createTenant, enrollAgent, freshTenant } from '../helpers/events.ts';
import { type DetectFixture, detectFixture, withDeadline } from '../detect/fixture.ts';
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

test('each alert born in a report commit is one webhook message naming that alert', async () => {
  const http = await startHttpReceiver((req) => (verifyWebhook(req.headers, req.rawBody, SECRET, new Date(f.now())).ok ? { status: 204 } : { status: 401 }));
  try {
    const tenant = freshTenant('born');
    await createTenant(f.log, tenant, ['edr']);
    const { agentId } = await enrollAgent(f.log, tenant, 'web-02');
    const box = await openInstallBox(f.log.streams);
    const channelId = newId();
    const { channel } = parseChannelInput(
      { kind: 'webhook', name: 'SOC', settings: { url: http.url, secret: SECRET }, routing: { minSeverity: 'low' } },
      { allowLoopbackHttp: true },
    );
    const ch = await execute(
      f.log,
      { tenant, id: CHANNELS_ID },
      channelsDecider,
      { kind: 'save', channel: sealChannel(box, tenant, channelId, channel), create: true },
      { actor: ADMIN },
    );
    await f.settled(tenant, { events: ch.position });

    const agent = { tenant, agentId, version: 1, revoked: false };
    const at = new Date(f.now()).toISOString();
    const plan = planReport(agent, ['edr'], {
      agentId,
      batchId: 'b1',
      events: [
        { kind: 'heartbeat', at, data: {} },
        { kind: 'alert', at, data: { rule: 'edr.agent-rule', severity: 'high', title: 'one' } },
        { kind: 'alert', at, data: { rule: 'edr.agent-rule', severity: 'high', title: 'two' } },
      ],
    });
    assert.ok(plan.ok);
    const written = await writeReport(f.log, agent, plan);
    await f.settled(tenant, { events: written.position });
    await withDeadline(http.waitForRequests(2), 'two webhook posts');
    const bodies = http.requests.map((r) => JSON.parse(r.rawBody.toString('utf8')) as { event: string; alert: { id: string; title: string; host: string } });
    assert.equal(bodies.map((b) => b.alert.title).sort(), ['one', 'two']);
    assert.ok(bodies.every((b) => b.event === 'new' && b.alert.host === 'web-02'));
    const ids = (await f.alerts(tenant)).map((a) => a.id).sort();
    assert.equal(bodies.map((b) => b.alert.id).sort(), ids, 'each message names its own alert');
  } finally {
    await http.close();
  }
});

test.run();

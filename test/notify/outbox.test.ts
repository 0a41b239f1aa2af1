import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type DeliveryAttempted, DeliveryEvents, DELIVERY } from '../../commands/deliveries/events.ts';
import { channelsDecider } from '../../commands/notify/decider.ts';
import { CHANNELS_ID } from '../../commands/notify/events.ts';
import { execute } from '../../src/domain/execute.ts';
import { newId } from '../../src/ids.ts';
import { type EventEnvelope, partitionOf } from '../../src/log/mod.ts';
import { openInstallBox } from '../../src/notify/install-box.ts';
import { parseChannelInput, sealChannel, type RetryPolicy, verifyWebhook } from '../../src/notify/mod.ts';
import { ADMIN, createTenant, enrollAgent, freshTenant } from '../helpers/events.ts';
import { testCa, type TestCa } from '../helpers/tls.ts';
import { curlPipe, type DetectFixture, detectFixture } from '../detect/fixture.ts';
import { withDeadline } from '../helpers/deadline.ts';
import { type HttpReceiver, type SmtpReceiver, startHttpReceiver, startSmtpReceiver } from './receivers.ts';

/**
 * The outbox end to end: alerts raised by the detector from telemetry, channels stored sealed in
 * the log, real receivers (an HTTP server checking the signature, SMTP servers with STARTTLS),
 * retries driven by moving the detector's clock and ticking — no sleeping.
 */
const test = suite('outbox: alerts to real receivers, retries, dead letters');

const POLICY: RetryPolicy = { baseDelayMs: 1_000, factor: 2, maxDelayMs: 60_000, maxAttempts: 4, maxAgeMs: 3_600_000 };
const SECRET = 'stk_whsec_outbox-test-secret-0123456789abcdef';
const USER = 'alerts@acme.test';
const PASSWORD = 'smtp pass';

let f: DetectFixture;
let ca: TestCa;
let cert: { certPem: string; keyPem: string };
test.before(async () => {
  ca = await testCa();
  cert = await ca.issueServer(['localhost', '127.0.0.1']);
  f = await detectFixture({
    retryPolicy: POLICY,
    // The clock moves by hours here; no agent should go silent meanwhile.
    silenceMs: 30 * 86_400_000,
    transport: { dashboardBaseUrl: 'https://stockade.example.com', network: { allowLoopback: true }, timeoutMs: 5_000, ca: ca.certPem },
  });
});
test.after(async () => {
  await f?.cleanup();
});

async function addChannel(tenant: string, input: object): Promise<{ id: string; position: number }> {
  const box = await openInstallBox(f.log.streams);
  const id = newId();
  const { channel } = parseChannelInput(input, { allowLoopbackHttp: true });
  const r = await execute(
    f.log,
    { tenant, id: CHANNELS_ID },
    channelsDecider,
    { kind: 'save', channel: sealChannel(box, tenant, id, channel), create: true },
    { actor: ADMIN },
  );
  return { id, position: r.position };
}

const emailInput = (port: number, routing: object = { minSeverity: 'low' }) => ({
  kind: 'email',
  name: 'SOC mail',
  settings: { host: 'localhost', port, startTls: 'required', user: USER, password: PASSWORD, from: 'stockade@acme.test', to: ['soc@acme.test'] },
  routing,
});

async function deliveries(tenant: string): Promise<Map<string, EventEnvelope[]>> {
  const out = new Map<string, EventEnvelope[]>();
  for (const r of await f.log.readTenant(tenant)) if (r.aggregate.type === DELIVERY) out.set(r.aggregate.id, [...(out.get(r.aggregate.id) ?? []), ...r.events]);
  return out;
}

/** A tenant with edr, an agent, and its alerting channel set up; returns what it takes to raise matches. */
async function world(channel: (tenant: string) => object) {
  const tenant = freshTenant('out');
  await createTenant(f.log, tenant, ['edr']);
  const agent = await enrollAgent(f.log, tenant, 'web-01');
  const ch = await addChannel(tenant, channel(tenant));
  await f.settled(tenant, { events: ch.position });
  const worker = () => f.detector.worker(partitionOf(tenant))!;
  let pid = 1;
  return {
    tenant,
    channelId: ch.id,
    worker,
    /** Raises `n` more matches of one group and waits until the outbox has started on them. */
    async matches(n: number) {
      const seqs = await f.telemetry(
        tenant,
        agent.agentId,
        Array.from({ length: n }, () => curlPipe(pid++)),
      );
      await f.settled(tenant, { telemetry: seqs.at(-1)! });
      // The alert events the detector wrote reach the outbox through EVENTS.
      await f.settled(tenant, { events: await f.log.lastPositionOf(`ev.${partitionOf(tenant)}.${tenant}.>`) });
      await worker().outbox.idle();
    },
    /** Moves the clock past the next attempt's time and ticks. */
    async later(ms: number) {
      f.advance(ms);
      await f.detector.tick();
      await worker().outbox.idle();
    },
  };
}

async function withHttp(body: (r: HttpReceiver) => Promise<void>): Promise<void> {
  const r = await startHttpReceiver((req) => {
    const v = verifyWebhook(req.headers, req.rawBody, SECRET, new Date(f.now()));
    return v.ok ? { status: 204 } : { status: 401, body: v.reason };
  });
  try {
    await body(r);
  } finally {
    await r.close();
  }
}

async function withSmtp(replyToData: (i: number) => number | null, body: (s: SmtpReceiver) => Promise<void>): Promise<void> {
  const s = await startSmtpReceiver({ tls: cert, users: { [USER]: PASSWORD }, replyToData });
  try {
    await body(s);
  } finally {
    await s.close();
  }
}

test('webhook: one signed message per alert group, and an update only when the count crosses a threshold', () =>
  withHttp(async (http) => {
    const w = await world(() => ({
      kind: 'webhook',
      name: 'SOC',
      settings: { url: http.url, secret: SECRET },
      routing: { minSeverity: 'low', thresholds: [1, 3] },
    }));
    await w.matches(1);
    await w.matches(1);
    await w.matches(2);
    await withDeadline(http.waitForRequests(2), 'two webhook posts');
    const bodies = http.requests.map((r) => JSON.parse(r.rawBody.toString('utf8')));
    assert.equal(
      bodies.map((b) => [b.event, b.alert.previousCount]),
      [
        ['new', 0],
        ['update', 1],
      ],
    );
    assert.is(bodies[0].alert.count, 1);
    // 3 or 4: the last two matches may be read in one batch or two; either way one update.
    assert.ok(bodies[1].alert.count >= 3, `update at count ${bodies[1].alert.count}`);
    for (const r of http.requests) assert.ok(verifyWebhook(r.headers, r.rawBody, SECRET, new Date(f.now())).ok, 'signed with the channel secret');
    assert.is(bodies[0].alert.host, 'web-01');
    assert.is(bodies[0].tenant, w.tenant);
    const d = await deliveries(w.tenant);
    assert.is(d.size, 2, 'one delivery per message');
    for (const events of d.values()) {
      assert.equal(
        events.map((e) => e.type),
        [DeliveryEvents.queued, DeliveryEvents.attempted],
      );
      assert.is((events[1]!.data as DeliveryAttempted).outcome, 'delivered');
      assert.is(events[1]!.actor.id, 'outbox');
    }
    assert.is(http.requests.length, 2, 'nothing more was sent');
  }));

test('e-mail: a server that refuses for a while gets the message once it recovers, and every attempt is an event', () =>
  withSmtp(
    (i) => (i < 2 ? 451 : null),
    async (smtp) => {
      const w = await world(() => emailInput(smtp.port));
      await w.matches(1);
      assert.is(smtp.messages.length, 0);
      await w.later(POLICY.maxDelayMs);
      assert.is(smtp.messages.length, 0);
      await w.later(POLICY.maxDelayMs);
      assert.is(smtp.messages.length, 1);
      await w.later(POLICY.maxDelayMs);
      assert.is(smtp.messages.length, 1, 'arrives once');
      assert.is(smtp.events.filter((e) => e.step === 'data').length, 3);
      assert.ok(
        smtp.events.every((e) => e.secure),
        'every step over STARTTLS',
      );
      const [events] = [...(await deliveries(w.tenant)).values()];
      const attempts = events!.filter((e) => e.type === DeliveryEvents.attempted).map((e) => e.data as DeliveryAttempted);
      assert.equal(
        attempts.map((a) => [a.attempt, a.outcome, a.status]),
        [
          [1, 'retryable', 451],
          [2, 'retryable', 451],
          [3, 'delivered', 250],
        ],
      );
      assert.ok(attempts[0]!.retryAt! < attempts[1]!.at, 'each retry at or after the time the first set');
      assert.match(String(smtp.messages[0]!.subject), /Download Piped/);
    },
  ));

test('e-mail: a server that never recovers: the delivery is given up after its attempts and is a dead letter', () =>
  withSmtp(
    () => 451,
    async (smtp) => {
      const w = await world(() => emailInput(smtp.port));
      await w.matches(1);
      for (let i = 0; i < POLICY.maxAttempts + 2; i++) await w.later(POLICY.maxDelayMs);
      assert.is(smtp.messages.length, 0);
      assert.is(smtp.events.filter((e) => e.step === 'data').length, POLICY.maxAttempts, 'no attempt after the last');
      const [events] = [...(await deliveries(w.tenant)).values()];
      const last = events!.at(-1)!.data as DeliveryAttempted;
      assert.is(last.attempt, POLICY.maxAttempts);
      assert.is(last.deadLetter, 'max-attempts');
      assert.is(w.worker().outbox.pendingCount, 0);
    },
  ));

test('routing: below the minimum severity nothing is queued; in quiet hours a message waits and goes out once, with the count then', () =>
  withHttp(async (http) => {
    const quiet = await world(() => ({
      kind: 'webhook',
      name: 'critical only',
      settings: { url: http.url, secret: SECRET },
      routing: { minSeverity: 'critical' },
    }));
    await quiet.matches(2);
    assert.is((await deliveries(quiet.tenant)).size, 0);

    const day = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][new Date(f.now()).getUTCDay()];
    const held = await world(() => ({
      kind: 'webhook',
      name: 'office hours',
      settings: { url: http.url, secret: SECRET },
      routing: { minSeverity: 'low', thresholds: [1, 10], quietHours: { timeZone: 'UTC', windows: [{ days: [day], start: '00:00', end: '24:00' }] } },
    }));
    await held.matches(1);
    await held.matches(2);
    assert.is(http.requests.length, 0, 'held');
    const midnight = Date.UTC(new Date(f.now()).getUTCFullYear(), new Date(f.now()).getUTCMonth(), new Date(f.now()).getUTCDate() + 1);
    await held.later(midnight - f.now() + 1);
    await held.later(1);
    assert.is(http.requests.length, 1, 'sent once when the quiet hours end');
    assert.is(JSON.parse(http.requests[0]!.rawBody.toString('utf8')).alert.count, 3);
  }));

test.run();

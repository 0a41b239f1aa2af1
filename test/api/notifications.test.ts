import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadPack } from '../../src/detect/pack.ts';
import { Detector } from '../../src/detect/workers.ts';
import { partitionOf } from '../../src/log/mod.ts';
import { createLogger } from '../../src/logger.ts';
import { canonicalJson } from '../../src/merkle/canonical-json.ts';
import { openInstallBox } from '../../src/notify/install-box.ts';
import { telemetryStreamSpec, telemetrySubject } from '../../src/telemetry/stream.ts';
import { apiFixture, type ApiFixture } from '../helpers/api.ts';
import { enrollAgent, freshTenant, readToken } from '../helpers/events.ts';
import { testCa } from '../helpers/tls.ts';
import { curlPipe } from '../detect/fixture.ts';
import { withDeadline } from '../helpers/deadline.ts';
import { startSmtpReceiver } from '../notify/receivers.ts';

const test = suite('operator API: notification channels, deliveries, dead letters');
let f: ApiFixture;
test.before(async () => {
  f = await apiFixture();
});
test.after(async () => {
  await f?.cleanup();
});

const SMTP_PASSWORD = 'pa55-word-never-shown';
const WEBHOOK_SECRET = 'stk_whsec_never-shown-0123456789abcdef-0123';

async function tenantWithOperator(products: string[] = []) {
  const tenant = freshTenant('notify');
  await f.tenant(tenant, products);
  const op = await f.token(tenant, 'operator');
  const call = (method: string, path: string, body?: unknown) =>
    f.call(method, `/api/v1/tenants/${tenant}/notifications${path}`, { token: op, ...(body !== undefined ? { body } : {}) });
  return { tenant, op, call };
}

const email = (port: number, password = SMTP_PASSWORD) => ({
  kind: 'email',
  name: 'SOC mail',
  settings: { host: 'localhost', port, startTls: 'required', user: 'alerts@acme.test', password, from: 'stockade@acme.test', to: ['soc@acme.test'] },
  routing: { minSeverity: 'low' },
});

/** Every byte the install keeps for the tenant: its events and this process's read models. */
async function storedText(tenant: string): Promise<string> {
  const parts = (await f.stk.runtime.log.readTenant(tenant)).map((r) => Buffer.from(r.raw).toString('utf8'));
  for await (const [k, v] of f.stk.runtime.db.iterator()) if (String(k).includes(tenant)) parts.push(JSON.stringify(v));
  return parts.join('\n');
}

test('channels: secrets are sealed in events and read models and never answered; a generated webhook secret is shown once', async () => {
  const { tenant, call } = await tenantWithOperator();
  const hook = await call('POST', '/channels', { kind: 'webhook', name: 'SOC', settings: { url: 'https://hooks.example.com/in/T0K3N-in-path' } });
  assert.is(hook.status, 201, JSON.stringify(hook.body));
  assert.match(hook.body.generatedSecret, /^stk_whsec_/);
  assert.equal(hook.body.settings, { host: 'hooks.example.com', secretSet: true });
  const mail = await call('POST', '/channels', email(2525));
  assert.is(mail.status, 201, JSON.stringify(mail.body));
  assert.is(mail.body.settings.passwordSet, true);
  const chat = await call('POST', '/channels', { kind: 'chat', name: 'Slack', settings: { url: 'https://hooks.slack.com/services/T000/B000/XXXXSECRET' } });
  const list = await call('GET', `/channels?waitFor=${chat.body.consistencyToken}`);
  assert.is(list.body.items.length, 3);
  const answered = JSON.stringify([list.body, (await call('GET', `/channels/${hook.body.id}`)).body, (await call('GET', `/channels/${mail.body.id}`)).body]);
  const stored = await storedText(tenant);
  for (const secret of [hook.body.generatedSecret, SMTP_PASSWORD, 'T0K3N-in-path', 'XXXXSECRET']) {
    assert.not.ok(answered.includes(secret), `${secret} answered`);
    assert.not.ok(stored.includes(secret), `${secret} stored in clear`);
  }
  assert.ok(stored.includes('stk-sb1.'), 'sealed values are what is stored');
  // Replaced whole: the webhook given no secret gets a new one.
  const put = await call('PUT', `/channels/${hook.body.id}`, {
    kind: 'webhook',
    name: 'SOC 2',
    settings: { url: 'https://hooks.example.com/x', secret: WEBHOOK_SECRET },
  });
  assert.is(put.status, 200, JSON.stringify(put.body));
  assert.is(put.body.name, 'SOC 2');
  assert.is(put.body.generatedSecret, undefined);
  const del = await call('DELETE', `/channels/${chat.body.id}`);
  assert.is(del.status, 200);
  assert.is((await call('GET', `/channels/${chat.body.id}?waitFor=${del.body.consistencyToken}`)).status, 404);
});

test('a bad channel is refused with the field and nothing is written', async () => {
  const { call } = await tenantWithOperator();
  const before = await f.stk.runtime.log.lastPosition();
  const cases: Array<[object, string]> = [
    [{ kind: 'webhook', name: 'x', settings: { url: 'http://hooks.example.com/x' } }, '/settings/url'],
    [{ kind: 'webhook', name: 'x', settings: { url: 'http://127.0.0.1:9/x' } }, '/settings/url'],
    [{ ...email(25), settings: { ...email(25).settings, to: ['a@b.c, evil@x.y'] } }, '/settings/to/0'],
    [{ ...email(25), settings: { ...email(25).settings, startTls: 'never' } }, '/settings/startTls'],
    [{ ...email(25), routing: { thresholds: [10, 5] } }, '/routing/thresholds/1'],
    [
      { ...email(25), routing: { quietHours: { timeZone: 'Mars/Olympus', windows: [{ days: ['mon'], start: '22:00', end: '06:00' }] } } },
      '/routing/quietHours/timeZone',
    ],
  ];
  for (const [body, field] of cases) {
    const r = await call('POST', '/channels', body);
    assert.is(r.status, 400, JSON.stringify(r.body));
    assert.is(r.body.error.code, 'STK_ERR_VALIDATION');
    assert.is(r.body.error.data.field, field, JSON.stringify(r.body));
  }
  assert.is(await f.stk.runtime.log.lastPosition(), before);
});

test('dead letters: a real SMTP server that refuses every message; the letter is listed, retried on request, and delivered once the server recovers', async () => {
  const ca = await testCa();
  const cert = await ca.issueServer(['localhost', '127.0.0.1']);
  let recovered = false;
  const smtp = await startSmtpReceiver({ tls: cert, users: { 'alerts@acme.test': SMTP_PASSWORD }, replyToData: () => (recovered ? null : 451) });
  const rt = f.stk.runtime;
  let now = Date.now();
  await rt.streams.ensureStream(telemetryStreamSpec());
  const detector = await Detector.start({
    log: rt.log,
    streams: rt.streams,
    pack: await loadPack(),
    box: await openInstallBox(rt.streams),
    transport: { dashboardBaseUrl: 'https://stockade.example.com', network: { allowLoopback: true }, timeoutMs: 5_000, ca: ca.certPem },
    retryPolicy: { baseDelayMs: 1_000, factor: 2, maxDelayMs: 10_000, maxAttempts: 3, maxAgeMs: 3_600_000 },
    logger: createLogger({ level: 'silent' }),
    clock: () => now,
    tickMs: 0,
    checkpointMs: 0,
    leaseMs: 60_000,
    workerId: 'api-notify-test',
  });
  try {
    const { tenant, call } = await tenantWithOperator(['edr']);
    const ch = await call('POST', '/channels', email(smtp.port));
    assert.is(ch.status, 201, JSON.stringify(ch.body));
    const w = detector.worker(partitionOf(tenant))!;
    const { agentId } = await enrollAgent(rt.log, tenant, 'web-01');
    await withDeadline(w.waitEvents(await rt.log.lastPositionOf(`ev.${partitionOf(tenant)}.${tenant}.>`)), 'channel and agent read');
    const ack = await rt.streams.publish(telemetrySubject(tenant, agentId), canonicalJson(curlPipe()), { msgId: `${agentId}.dl.0` });
    await withDeadline(w.waitTelemetry(ack.seq), 'telemetry read');
    const settle = async () => {
      await withDeadline(w.waitEvents(await rt.log.lastPositionOf(`ev.${partitionOf(tenant)}.${tenant}.>`)), 'events read');
      await w.outbox.idle();
    };
    await settle();
    for (let i = 0; i < 4; i++) {
      now += 10_000;
      await detector.tick();
      await settle();
    }
    assert.is(smtp.messages.length, 0);
    const token = await readToken(rt.streams, tenant, await rt.log.lastPosition());
    const dead = await call('GET', `/dead-letters?waitFor=${token}`);
    assert.is(dead.status, 200, JSON.stringify(dead.body));
    assert.is(dead.body.items.length, 1);
    const letter = dead.body.items[0];
    assert.equal([letter.status, letter.deadLetter, letter.attemptCount, letter.channelId], ['dead-letter', 'max-attempts', 3, ch.body.id]);
    assert.equal(
      letter.attempts.map((a: { outcome: string; status: number }) => [a.outcome, a.status]),
      [
        ['retryable', 451],
        ['retryable', 451],
        ['retryable', 451],
      ],
    );
    assert.equal(letter.recipients, ['soc@acme.test']);
    assert.not.ok(JSON.stringify(dead.body).includes(SMTP_PASSWORD));

    recovered = true;
    const retried = await call('POST', `/deliveries/${letter.id}/retry`);
    assert.is(retried.status, 200, JSON.stringify(retried.body));
    assert.is(retried.body.status, 'pending');
    await settle();
    assert.is(smtp.messages.length, 1, 'attempted at once and delivered');
    const done = await call('GET', `/deliveries/${letter.id}?waitFor=${await readToken(rt.streams, tenant, await rt.log.lastPosition())}`);
    assert.equal([done.body.status, done.body.attemptCount, done.body.requeuedBy.startsWith('operator:token:')], ['delivered', 4, true]);
    assert.is((await call('GET', '/dead-letters')).body.items.length, 0);
    assert.is((await call('POST', `/deliveries/${letter.id}/retry`)).status, 409, 'only a dead letter can be retried');
  } finally {
    await detector.close();
    await smtp.close();
  }
});

test.run();

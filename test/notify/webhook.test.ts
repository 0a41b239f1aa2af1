import { request } from 'node:http';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { newId } from '../../src/ids.ts';
import {
  type ChannelConfig,
  type RetryPolicy,
  type WebhookVerification,
  attemptDelivery,
  parseChannelInput,
  sendWebhook,
  verifyWebhook,
} from '../../src/notify/mod.ts';
import { testCa } from '../helpers/tls.ts';
import { type Answer, type ReceivedRequest, closedPort, startHttpReceiver } from './receivers.ts';
import { DEFAULT_ROUTING, driveDelivery, hostileGroup } from './samples.ts';

const test = suite('notify: webhooks to real receivers');

const SECRET = 'stk_whsec_test-secret-of-enough-length-0123456789';
const BASE = 'https://stockade.example.test';
const LOOPBACK = { dashboardBaseUrl: BASE, network: { allowLoopback: true } };
const POLICY: RetryPolicy = { baseDelayMs: 1_000, factor: 2, maxDelayMs: 60_000, maxAttempts: 5, maxAgeMs: 3_600_000 };

function webhookChannel(url: string): ChannelConfig {
  return parseChannelInput({ kind: 'webhook', name: 'SOC', settings: { url, secret: SECRET }, routing: DEFAULT_ROUTING }, { allowLoopbackHttp: true }).channel;
}

/** A receiver answer that first checks the signature with `verifyWebhook` on the test's clock. */
function verifying(clock: { now: Date }, verdicts: WebhookVerification[], then: (i: number) => Answer) {
  return (req: ReceivedRequest, i: number): Answer => {
    const v = verifyWebhook(req.headers, req.rawBody, SECRET, clock.now);
    verdicts.push(v);
    return v.ok ? then(i) : { status: 401, body: v.reason };
  };
}

/** Posts raw bytes with the given headers, as an attacker replaying a captured request would. */
function rawPost(url: string, headers: Record<string, string | string[] | undefined>, body: Buffer | string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('a signed webhook reaches a receiver that checks it with verifyWebhook', async () => {
  const clock = { now: new Date() };
  const verdicts: WebhookVerification[] = [];
  const rx = await startHttpReceiver(verifying(clock, verdicts, () => ({ status: 204 })));
  try {
    const group = hostileGroup({ count: 12 });
    const id = newId('dl_');
    const r = await attemptDelivery(webhookChannel(rx.url), { id, group, notifiedCount: 10 }, clock.now, LOOPBACK);
    assert.equal(r, { outcome: 'delivered', status: 204 });
    assert.is(rx.requests.length, 1);
    assert.equal(verdicts[0], { ok: true, timestamp: Math.floor(clock.now.getTime() / 1000), deliveryId: id });
    const req = rx.requests[0]!;
    assert.is(req.headers['content-type'], 'application/json');
    assert.is(req.headers['stockade-delivery'], id);
    const body = JSON.parse(req.rawBody.toString('utf8'));
    assert.is(body.deliveryId, id);
    assert.is(body.event, 'update');
    assert.is(body.alert.count, 12);
    assert.is(body.alert.previousCount, 10);
    assert.equal(body.alert.rule, { id: 'stk-shell-from-web', version: 3 });
    assert.equal(body.alert.attack, ['T1059.004', 'T1190']);
    // JSON needs no HTML escaping, but control characters from the agent's host name are gone.
    assert.is(body.alert.host, 'web-01<!channel>" Bcc: victim@example.com');
    assert.is(body.alert.url, `${BASE}/ui/t/acme/alerts/${group.alertId}`);
  } finally {
    await rx.close();
  }
});

test('the receiver refuses an altered body, a replay older than the tolerance, a wrong secret and no signature', async () => {
  const clock = { now: new Date('2025-06-01T12:00:00Z') };
  const verdicts: WebhookVerification[] = [];
  const rx = await startHttpReceiver(verifying(clock, verdicts, () => ({ status: 200, body: 'ok' })));
  try {
    const r = await attemptDelivery(webhookChannel(rx.url), { id: newId('dl_'), group: hostileGroup(), notifiedCount: 0 }, clock.now, LOOPBACK);
    assert.is(r.outcome, 'delivered');
    const captured = rx.requests[0]!;
    const headers = { 'content-type': 'application/json', 'stockade-signature': captured.headers['stockade-signature'], 'stockade-delivery': 'x' };

    // The very same bytes within the window pass (the receiver dedupes by delivery id, not us).
    assert.is((await rawPost(rx.url, headers, captured.rawBody)).status, 200);

    const altered = Buffer.from(captured.rawBody.toString('utf8').replace('"count":1', '"count":2'));
    assert.not.equal(altered, captured.rawBody);
    assert.equal(await rawPost(rx.url, headers, altered), { status: 401, body: 'signature-mismatch' });

    clock.now = new Date(clock.now.getTime() + 301_000);
    assert.equal(await rawPost(rx.url, headers, captured.rawBody), { status: 401, body: 'timestamp-out-of-tolerance' });
    clock.now = new Date(clock.now.getTime() - 301_000);

    const wrongSecret = await sendWebhook({ url: rx.url, secret: `${SECRET}-other` }, captured.rawBody.toString('utf8'), {
      deliveryId: 'd',
      now: clock.now,
      network: { allowLoopback: true },
    });
    assert.equal(wrongSecret, { outcome: 'permanent', reason: 'http-status', status: 401, detail: 'HTTP 401 signature-mismatch' });

    assert.equal(await rawPost(rx.url, { 'content-type': 'application/json' }, captured.rawBody), { status: 401, body: 'missing-signature' });
    assert.equal(await rawPost(rx.url, { ...headers, 'stockade-signature': 't=abc,v1=00' }, captured.rawBody), { status: 401, body: 'malformed-signature' });
  } finally {
    await rx.close();
  }
});

test('503 then 200: retried on the policy schedule, Retry-After honoured, accepted exactly once with the same body', async () => {
  const start = new Date('2025-06-01T12:00:00Z');
  const clock = { now: start };
  const verdicts: WebhookVerification[] = [];
  const accepted: string[] = [];
  const rx = await startHttpReceiver(
    verifying(clock, verdicts, (i) => {
      if (i === 0) return { status: 503, body: 'down' };
      if (i === 1) return { status: 503, headers: { 'retry-after': '120' }, body: 'still down' };
      accepted.push(rx.requests[i]!.headers['stockade-delivery'] as string);
      return { status: 200 };
    }),
  );
  try {
    const d = { id: newId('dl_'), group: hostileGroup(), notifiedCount: 0 };
    const log = await driveDelivery(webhookChannel(rx.url), d, start, POLICY, LOOPBACK, clock);
    assert.equal(
      log.map((l) => l.result.outcome),
      ['retryable', 'retryable', 'delivered'],
    );
    assert.equal(accepted, [d.id], 'accepted once');
    assert.is(rx.requests.length, 3);
    assert.ok(verdicts.every((v) => v.ok));
    // The same body bytes every time; each attempt signed at its own time.
    assert.ok(rx.requests.every((r) => r.rawBody.equals(rx.requests[0]!.rawBody)));
    assert.equal(
      verdicts.map((v) => v.ok && v.timestamp),
      log.map((l) => Math.floor(l.at.getTime() / 1000)),
    );
    const first = log[0]!.next as { retryAt: Date };
    const second = log[1]!.next as { retryAt: Date };
    assert.ok(first.retryAt.getTime() - start.getTime() >= 500 && first.retryAt.getTime() - start.getTime() <= 1_000, 'first back-off 0.5–1 s');
    assert.ok(second.retryAt.getTime() - first.retryAt.getTime() >= 120_000, 'Retry-After: 120 honoured');
  } finally {
    await rx.close();
  }
});

test('a receiver that never recovers: a dead letter after maxAttempts, no attempt more', async () => {
  const start = new Date('2025-06-01T12:00:00Z');
  const rx = await startHttpReceiver(() => ({ status: 502, body: 'bad gateway' }));
  try {
    const log = await driveDelivery(webhookChannel(rx.url), { id: newId('dl_'), group: hostileGroup(), notifiedCount: 0 }, start, POLICY, LOOPBACK);
    assert.is(log.length, POLICY.maxAttempts);
    assert.equal(log.at(-1)!.next, { deadLetter: 'max-attempts' });
    assert.is(rx.requests.length, POLICY.maxAttempts);
    const at = log.map((l) => l.at.getTime());
    for (let i = 1; i < at.length; i++) assert.ok(at[i]! > at[i - 1]!, 'attempts move forward in time');
  } finally {
    await rx.close();
  }
});

test('4xx other than 408/429 dead-letters at once; 408 and 429 are retried', async () => {
  const start = new Date('2025-06-01T12:00:00Z');
  const statuses = [400, 408, 429, 410];
  const rx = await startHttpReceiver((_r, i) => ({ status: statuses[i] ?? 400, body: `status ${statuses[i] ?? 400}` }));
  try {
    const channel = webhookChannel(rx.url);
    const results = [];
    for (const _ of statuses) results.push(await attemptDelivery(channel, { id: newId('dl_'), group: hostileGroup(), notifiedCount: 0 }, start, LOOPBACK));
    assert.equal(
      results.map((r) => [r.outcome, r.status]),
      [
        ['permanent', 400],
        ['retryable', 408],
        ['retryable', 429],
        ['permanent', 410],
      ],
    );
    const log = await driveDelivery(channel, { id: newId('dl_'), group: hostileGroup(), notifiedCount: 0 }, start, POLICY, LOOPBACK);
    assert.equal(log.at(-1)!.next, { deadLetter: 'permanent-failure' });
  } finally {
    await rx.close();
  }
});

test('a redirect to another host is not followed', async () => {
  const other = await startHttpReceiver(() => ({ status: 200 }), { host: '127.0.0.2' });
  const rx = await startHttpReceiver(() => ({ status: 307, headers: { location: other.url } }));
  try {
    const r = await attemptDelivery(webhookChannel(rx.url), { id: newId('dl_'), group: hostileGroup(), notifiedCount: 0 }, new Date(), LOOPBACK);
    assert.equal(r, {
      outcome: 'permanent',
      reason: 'redirect',
      status: 307,
      detail: `HTTP 307 to 127.0.0.2:${other.port}; redirects are not followed`,
    });
    assert.is(rx.requests.length, 1);
    assert.is(other.requests.length, 0);
  } finally {
    await rx.close();
    await other.close();
  }
});

test('an endless answer is read up to maxResponseBytes and the connection dropped', async () => {
  const rx = await startHttpReceiver(() => ({ status: 500, endless: true }));
  const closed = rx.waitForAnswerClosed();
  try {
    const r = await attemptDelivery(webhookChannel(rx.url), { id: newId('dl_'), group: hostileGroup(), notifiedCount: 0 }, new Date(), {
      ...LOOPBACK,
      maxResponseBytes: 4096,
    });
    assert.is(r.outcome, 'retryable');
    assert.is(r.status, 500);
    assert.ok(r.outcome !== 'delivered' && r.detail.length <= 301, 'detail bounded');
    await closed;
    assert.is(rx.cutShort, 1, 'the 64 MiB answer was cut short, not read to its end');
  } finally {
    await rx.close();
  }
});

test('a receiver that never answers is a retryable timeout; a closed port is a retryable network failure', async () => {
  const rx = await startHttpReceiver(() => ({ hold: true }));
  try {
    const r = await attemptDelivery(webhookChannel(rx.url), { id: newId('dl_'), group: hostileGroup(), notifiedCount: 0 }, new Date(), {
      ...LOOPBACK,
      timeoutMs: 2_000,
    });
    assert.is(r.outcome, 'retryable');
    assert.is(r.outcome !== 'delivered' && r.reason, 'timeout');
    assert.is(rx.requests.length, 1);
  } finally {
    await rx.close();
  }
  const port = await closedPort();
  const r = await attemptDelivery(
    webhookChannel(`http://127.0.0.1:${port}/hook`),
    { id: newId('dl_'), group: hostileGroup(), notifiedCount: 0 },
    new Date(),
    LOOPBACK,
  );
  assert.is(r.outcome, 'retryable');
  assert.is(r.outcome !== 'delivered' && r.reason, 'network');
  assert.match(r.outcome !== 'delivered' ? r.detail : '', /ECONNREFUSED/);
});

test('network policy: loopback refused unless allowed (by address and by name); link-local never', async () => {
  const rx = await startHttpReceiver(() => ({ status: 200 }));
  try {
    const d = { id: newId('dl_'), group: hostileGroup(), notifiedCount: 0 };
    const strict = { dashboardBaseUrl: BASE };
    const byAddress = await attemptDelivery(webhookChannel(rx.url), d, new Date(), strict);
    assert.equal([byAddress.outcome, byAddress.outcome !== 'delivered' && byAddress.reason], ['permanent', 'address-refused']);
    const byName = await attemptDelivery(webhookChannel(`http://localhost:${rx.port}/hook`), d, new Date(), strict);
    assert.equal([byName.outcome, byName.outcome !== 'delivered' && byName.reason], ['permanent', 'address-refused']);
    assert.is(rx.requests.length, 0, 'nothing reached the loopback receiver');
    const metadata = await sendWebhook({ url: 'https://169.254.169.254/latest', secret: SECRET }, '{}', {
      deliveryId: 'd',
      now: new Date(),
      network: { allowLoopback: true, allowPrivate: true },
    });
    assert.equal([metadata.outcome, metadata.outcome !== 'delivered' && metadata.reason], ['permanent', 'address-refused']);
    const mapped = await sendWebhook({ url: `http://[::ffff:127.0.0.1]:${rx.port}/hook`, secret: SECRET }, '{}', { deliveryId: 'd', now: new Date() });
    assert.equal([mapped.outcome, mapped.outcome !== 'delivered' && mapped.reason], ['permanent', 'address-refused']);
    assert.is(rx.requests.length, 0);
  } finally {
    await rx.close();
  }
});

test('https: delivered when the receiver certificate chains to the given CA; an untrusted one is a retryable tls failure', async () => {
  const ca = await testCa();
  const other = await testCa();
  const good = await startHttpReceiver(() => ({ status: 200 }), { tls: await ca.issueServer(['localhost', '127.0.0.1']) });
  const bad = await startHttpReceiver(() => ({ status: 200 }), { tls: await other.issueServer(['localhost', '127.0.0.1']) });
  try {
    const d = { id: newId('dl_'), group: hostileGroup(), notifiedCount: 0 };
    const ok = await attemptDelivery(webhookChannel(good.url), d, new Date(), { ...LOOPBACK, ca: ca.certPem });
    assert.equal(ok, { outcome: 'delivered', status: 200 });
    assert.ok(verifyWebhook(good.requests[0]!.headers, good.requests[0]!.rawBody, SECRET, new Date()).ok);
    const refused = await attemptDelivery(webhookChannel(bad.url), d, new Date(), { ...LOOPBACK, ca: ca.certPem });
    assert.equal([refused.outcome, refused.outcome !== 'delivered' && refused.reason], ['retryable', 'tls']);
    assert.is(bad.requests.length, 0);
  } finally {
    await good.close();
    await bad.close();
  }
});

test('chat: a Slack-compatible body with escaped text reaches the receiver; 404 no_service is permanent', async () => {
  const rx = await startHttpReceiver((_r, i) => (i === 0 ? { status: 200, body: 'ok' } : { status: 404, body: 'no_service' }));
  try {
    const channel = parseChannelInput(
      { kind: 'chat', name: 'ops chat', settings: { url: `${rx.url.replace('/hook', '')}/services/T000/B000/XXXX` } },
      { allowLoopbackHttp: true },
    ).channel;
    const group = hostileGroup();
    const r = await attemptDelivery(channel, { id: newId('dl_'), group, notifiedCount: 0 }, new Date(), LOOPBACK);
    assert.equal(r, { outcome: 'delivered', status: 200 });
    const req = rx.requests[0]!;
    assert.is(req.url, '/services/T000/B000/XXXX');
    assert.is(req.headers['stockade-signature'], undefined, 'chat webhooks are not signed: the URL is the secret');
    const body = JSON.parse(req.rawBody.toString('utf8'));
    const texts: string[] = [
      body.text,
      ...body.blocks.flatMap((b: any) => [b.text?.text, ...(b.fields ?? []).map((f: any) => f.text), ...(b.elements ?? []).map((e: any) => e.text)]),
    ].filter(Boolean);
    const all = texts.join('\n');
    assert.ok(all.includes('&lt;script&gt;alert(1)&lt;/script&gt; &amp; more'), 'title escaped');
    assert.ok(all.includes('web-01&lt;!channel&gt;'), 'a mention in the host name is escaped');
    assert.not.ok(all.includes('<!channel>'));
    assert.not.ok(all.includes('<script>'));
    // The only `<…>` left is our own link.
    assert.equal(
      [...all.matchAll(/<([^>]*)>/g)].map((m) => m[1]),
      [`${BASE}/ui/t/acme/alerts/${group.alertId}|Open in Stockade`],
    );
    const gone = await attemptDelivery(channel, { id: newId('dl_'), group, notifiedCount: 0 }, new Date(), LOOPBACK);
    assert.equal(gone, { outcome: 'permanent', reason: 'http-status', status: 404, detail: 'HTTP 404 no_service' });
  } finally {
    await rx.close();
  }
});

test.run();

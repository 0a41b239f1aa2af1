import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { newId } from '../../src/ids.ts';
import { type ChannelConfig, type RetryPolicy, attemptDelivery, parseChannelInput, sendEmail } from '../../src/notify/mod.ts';
import { type TestCa, testCa } from '../helpers/tls.ts';
import { type SmtpReceiver, closedPort, startSmtpReceiver } from './receivers.ts';
import { DEFAULT_ROUTING, driveDelivery, hostileGroup } from './samples.ts';

const test = suite('notify: e-mail over SMTP with STARTTLS to a real server');

const USER = 'alerts@acme.test';
const PASSWORD = 'p4ss w0rd with spaces & symbols';
const BASE = 'https://stockade.example.test';
const POLICY: RetryPolicy = { baseDelayMs: 1_000, factor: 2, maxDelayMs: 60_000, maxAttempts: 4, maxAgeMs: 3_600_000 };

let ca: TestCa;
let cert: { certPem: string; keyPem: string };
test.before(async () => {
  ca = await testCa();
  cert = await ca.issueServer(['localhost', '127.0.0.1']);
});

function emailChannel(port: number, o: { password?: string; host?: string } = {}): ChannelConfig {
  return parseChannelInput({
    kind: 'email',
    name: 'SOC mail',
    settings: {
      host: o.host ?? 'localhost',
      port,
      startTls: 'required',
      user: USER,
      password: o.password ?? PASSWORD,
      from: 'stockade@acme.test',
      to: ['soc@acme.test', 'oncall@acme.test'],
    },
    routing: DEFAULT_ROUTING,
  }).channel;
}

function transport(extra: { ca?: string } = { ca: '' }) {
  return { dashboardBaseUrl: BASE, network: { allowLoopback: true }, timeoutMs: 5_000, ...(extra.ca === '' ? { ca: ca.certPem } : extra) };
}

async function withSmtp(o: Parameters<typeof startSmtpReceiver>[0], body: (s: SmtpReceiver) => Promise<void>): Promise<void> {
  const s = await startSmtpReceiver(o);
  try {
    await body(s);
  } finally {
    await s.close();
  }
}

test('delivered over STARTTLS with AUTH; subject, text and HTML carry the escaped alert', () =>
  withSmtp({ tls: cert, users: { [USER]: PASSWORD } }, async (smtp) => {
    const group = hostileGroup({ count: 57 });
    const id = newId('dl_');
    const r = await attemptDelivery(emailChannel(smtp.port), { id, group, notifiedCount: 10 }, new Date(), transport());
    assert.equal(r, { outcome: 'delivered', status: 250 });
    assert.equal(smtp.events, [
      { step: 'auth', secure: true, user: USER },
      { step: 'mail', secure: true, user: USER },
      { step: 'data', secure: true, user: USER },
    ]);
    assert.is(smtp.messages.length, 1);
    const m = smtp.messages[0]!;
    assert.is(m.messageId, `<${id}@stockade.notify>`);
    assert.is(m.headers.get('stockade-delivery'), id);
    assert.equal(
      (Array.isArray(m.to) ? m.to : [m.to!]).flatMap((t) => t.value.map((v) => v.address)),
      ['soc@acme.test', 'oncall@acme.test'],
    );
    // The agent's host name tried to add a Bcc header: it stays text inside the subject.
    assert.is(m.bcc, undefined);
    assert.is(
      m.subject,
      '[Stockade] Alert update (high): Shell spawned by web server <script>alert(1)</script> & more on web-01<!channel>" Bcc: victim@example.com',
    );
    assert.ok(m.text!.includes('Count: now seen 57 times (was 10)'));
    assert.ok(m.text!.includes(`Open in Stockade: ${BASE}/ui/t/acme/alerts/${group.alertId}`));
    const html = m.html as string;
    assert.ok(html.includes('Shell spawned by web server &#60;script&#62;alert(1)&#60;/script&#62; &#38; more'), 'title escaped');
    assert.ok(html.includes('web-01&#60;!channel&#62;&#34; Bcc: victim@example.com'), 'host escaped');
    assert.ok(html.includes('ATT&#38;CK'));
    assert.not.ok(html.includes('<script>'));
    assert.ok(html.includes(`<a href="${BASE}/ui/t/acme/alerts/${group.alertId}">`));
  }));

test('a wrong password is a permanent smtp-auth failure and no mail is sent', () =>
  withSmtp({ tls: cert, users: { [USER]: PASSWORD } }, async (smtp) => {
    const r = await attemptDelivery(
      emailChannel(smtp.port, { password: 'wrong' }),
      { id: newId('dl_'), group: hostileGroup(), notifiedCount: 0 },
      new Date(),
      transport(),
    );
    assert.equal([r.outcome, r.outcome !== 'delivered' && r.reason, r.status], ['permanent', 'smtp-auth', 535]);
    assert.equal(
      smtp.events.map((e) => e.step),
      ['auth'],
    );
    assert.is(smtp.messages.length, 0);
  }));

test('a server without STARTTLS gets nothing: no login, no envelope, no message', () =>
  withSmtp({ tls: null, users: { [USER]: PASSWORD } }, async (smtp) => {
    const r = await attemptDelivery(emailChannel(smtp.port), { id: newId('dl_'), group: hostileGroup(), notifiedCount: 0 }, new Date(), transport());
    assert.equal([r.outcome, r.outcome !== 'delivered' && r.reason], ['permanent', 'starttls-unavailable']);
    assert.equal(smtp.events, []);
    assert.is(smtp.messages.length, 0);
  }));

test('a certificate from another CA is a retryable tls failure, before any login', async () => {
  const stranger = await (await testCa()).issueServer(['localhost', '127.0.0.1']);
  await withSmtp({ tls: stranger, users: { [USER]: PASSWORD } }, async (smtp) => {
    const r = await attemptDelivery(emailChannel(smtp.port), { id: newId('dl_'), group: hostileGroup(), notifiedCount: 0 }, new Date(), transport());
    assert.equal([r.outcome, r.outcome !== 'delivered' && r.reason], ['retryable', 'tls']);
    assert.equal(smtp.events, []);
  });
});

test('the certificate is checked against the configured name, not the address connected to', () =>
  withSmtp({ tls: cert, users: { [USER]: PASSWORD } }, async (smtp) => {
    const r = await attemptDelivery(
      emailChannel(smtp.port, { host: 'localhost' }),
      { id: newId('dl_'), group: hostileGroup(), notifiedCount: 0 },
      new Date(),
      transport(),
    );
    assert.is(r.outcome, 'delivered');
    const other = await ca.issueServer(['mail.other.test']);
    await withSmtp({ tls: other, users: { [USER]: PASSWORD } }, async (wrongName) => {
      const refused = await attemptDelivery(
        emailChannel(wrongName.port),
        { id: newId('dl_'), group: hostileGroup(), notifiedCount: 0 },
        new Date(),
        transport(),
      );
      assert.equal([refused.outcome, refused.outcome !== 'delivered' && refused.reason], ['retryable', 'tls']);
      assert.equal(wrongName.events, []);
    });
  }));

test('451 then OK: retried on the policy schedule and received exactly once', () =>
  withSmtp({ tls: cert, users: { [USER]: PASSWORD }, replyToData: (i) => (i < 2 ? 451 : null) }, async (smtp) => {
    const start = new Date('2025-06-01T12:00:00Z');
    const d = { id: newId('dl_'), group: hostileGroup(), notifiedCount: 0 };
    const log = await driveDelivery(emailChannel(smtp.port), d, start, POLICY, transport());
    assert.equal(
      log.map((l) => [l.result.outcome, l.result.status]),
      [
        ['retryable', 451],
        ['retryable', 451],
        ['delivered', 250],
      ],
    );
    assert.is(smtp.events.filter((e) => e.step === 'data').length, 3);
    assert.is(smtp.messages.length, 1, 'stored once');
    assert.is(smtp.messages[0]!.messageId, `<${d.id}@stockade.notify>`);
  }));

test('a server that never recovers: dead letter after maxAttempts; a 550 dead-letters at once', async () => {
  await withSmtp({ tls: cert, users: { [USER]: PASSWORD }, replyToData: () => 452 }, async (smtp) => {
    const log = await driveDelivery(emailChannel(smtp.port), { id: newId('dl_'), group: hostileGroup(), notifiedCount: 0 }, new Date(), POLICY, transport());
    assert.is(log.length, POLICY.maxAttempts);
    assert.equal(log.at(-1)!.next, { deadLetter: 'max-attempts' });
    assert.is(smtp.events.filter((e) => e.step === 'data').length, POLICY.maxAttempts);
    assert.is(smtp.messages.length, 0);
  });
  await withSmtp({ tls: cert, users: { [USER]: PASSWORD }, replyToData: () => 550 }, async (smtp) => {
    const log = await driveDelivery(emailChannel(smtp.port), { id: newId('dl_'), group: hostileGroup(), notifiedCount: 0 }, new Date(), POLICY, transport());
    assert.equal(
      log.map((l) => [l.result.outcome, l.result.status, l.next]),
      [['permanent', 550, { deadLetter: 'permanent-failure' }]],
    );
  });
});

test('nothing listening is a retryable network failure; a refused address is permanent', async () => {
  const port = await closedPort();
  const r = await attemptDelivery(emailChannel(port), { id: newId('dl_'), group: hostileGroup(), notifiedCount: 0 }, new Date(), transport());
  assert.equal([r.outcome, r.outcome !== 'delivered' && r.reason], ['retryable', 'network']);
  const channel = emailChannel(port);
  if (channel.kind !== 'email') throw new Error('unreachable');
  const refused = await sendEmail(channel.settings, { subject: 's', text: 't', html: 'h' }, { deliveryId: 'd', network: {} });
  assert.equal([refused.outcome, refused.outcome !== 'delivered' && refused.reason], ['permanent', 'address-refused']);
});

test.run();

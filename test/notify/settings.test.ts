import { Ajv } from 'ajv';
import Fastify from 'fastify';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CHANNEL_INPUT_SCHEMA, mintWebhookSecret, parseChannelInput } from '../../src/notify/mod.ts';
import { throws } from '../helpers/assert.ts';

const test = suite('notify: channel settings are validated strictly');

const SECRET = 'stk_whsec_0123456789abcdef0123456789abcdef';
const webhook = (settings: object, extra: object = {}) => ({
  kind: 'webhook',
  name: 'SOC',
  settings: { url: 'https://hooks.example.com/stk', secret: SECRET, ...settings },
  ...extra,
});
const email = (settings: object = {}) => ({
  kind: 'email',
  name: 'mail',
  settings: { host: 'smtp.example.com', port: 587, startTls: 'required', user: 'u', password: 'p', from: 'a@example.com', to: ['b@example.com'], ...settings },
});

function refused(input: unknown, field: string, policy = {}): void {
  const err = throws(() => parseChannelInput(input, policy), 'STK_ERR_VALIDATION');
  assert.is(err.data.field, field, `field for ${JSON.stringify(input)}`);
}

test('a webhook gets the default routing, and a generated secret when none is given', () => {
  const given = parseChannelInput(webhook({}));
  assert.equal(given, {
    channel: {
      kind: 'webhook',
      name: 'SOC',
      enabled: true,
      routing: { minSeverity: 'medium', quietHours: null, thresholds: [1, 10, 100, 1000] },
      settings: { url: 'https://hooks.example.com/stk', secret: SECRET },
    },
    generatedSecret: null,
  });
  const minted = parseChannelInput({ kind: 'webhook', name: 'SOC', settings: { url: 'https://hooks.example.com/stk' } });
  assert.match(minted.generatedSecret!, /^stk_whsec_[A-Za-z0-9_-]{43}$/);
  assert.is(minted.channel.kind === 'webhook' && minted.channel.settings.secret, minted.generatedSecret);
  assert.is.not(mintWebhookSecret(), mintWebhookSecret());
});

test('webhook and chat URLs: https anywhere; http only to loopback and only when the install allows it', () => {
  refused(webhook({ url: 'http://hooks.example.com/x' }), '/settings/url', { allowLoopbackHttp: true });
  refused(webhook({ url: 'http://127.0.0.1:8080/x' }), '/settings/url');
  assert.ok(parseChannelInput(webhook({ url: 'http://127.0.0.1:8080/x' }), { allowLoopbackHttp: true }));
  assert.ok(parseChannelInput(webhook({ url: 'http://[::1]:8080/x' }), { allowLoopbackHttp: true }));
  assert.ok(parseChannelInput(webhook({ url: 'http://localhost:8080/x' }), { allowLoopbackHttp: true }));
  refused(webhook({ url: 'http://127.0.0.1.evil.example/x' }), '/settings/url', { allowLoopbackHttp: true });
  refused(webhook({ url: 'ftp://hooks.example.com/x' }), '/settings/url');
  refused(webhook({ url: 'https://user:pw@hooks.example.com/x' }), '/settings/url');
  refused(webhook({ url: 'https://hooks.example.com/x#frag' }), '/settings/url');
  refused(webhook({ url: 'https://' }), '/settings/url');
  refused({ kind: 'chat', name: 'c', settings: { url: 'http://hooks.slack.example/services/x' } }, '/settings/url');
});

test('unknown fields, wrong kinds and weak secrets are refused with the field named', () => {
  refused(webhook({}, { color: 'red' }), '/color');
  refused(webhook({ extra: 1 }), '/settings/extra');
  refused(webhook({ secret: 'short' }), '/settings/secret');
  refused(webhook({ secret: `${'x'.repeat(40)} with space` }), '/settings/secret');
  refused({ kind: 'sms', name: 'x', settings: {} }, '/kind');
  refused(null, '/kind');
  refused(webhook({}, { name: 'line\nbreak' }), '/name');
  refused(webhook({}, { enabled: 'yes' }), '/enabled');
});

test('e-mail: STARTTLS required, addresses that cannot smuggle headers or recipients, a real host', () => {
  const ok = parseChannelInput(email());
  assert.equal(ok.channel.kind === 'email' && ok.channel.settings.to, ['b@example.com']);
  refused(email({ startTls: 'optional' }), '/settings/startTls');
  refused(email({ to: ['b@example.com\r\nBcc: c@example.com'] }), '/settings/to/0');
  refused(email({ to: ['Boss <b@example.com>'] }), '/settings/to/0');
  refused(email({ to: ['a@example.com,c@example.com'] }), '/settings/to/0');
  refused(email({ from: 'a@example.com\nX: y' }), '/settings/from');
  refused(email({ to: [] }), '/settings/to');
  refused(email({ to: ['b@example.com', 'b@example.com'] }), '/settings/to');
  refused(email({ port: 0 }), '/settings/port');
  refused(email({ port: '587' }), '/settings/port');
  refused(email({ host: 'smtp..example.com' }), '/settings/host');
  refused(email({ host: '-bad.example.com' }), '/settings/host');
  refused(email({ password: 'a\r\nb' }), '/settings/password');
  assert.ok(parseChannelInput(email({ host: '192.0.2.10' })));
  assert.ok(parseChannelInput(email({ host: '2001:db8::25' })));
});

test('routing: severities, strictly increasing thresholds, real time zones, non-empty windows', () => {
  const routing = (r: object) => webhook({}, { routing: r });
  const ok = parseChannelInput(
    routing({
      minSeverity: 'high',
      thresholds: [1, 5, 50],
      quietHours: { timeZone: 'Europe/Berlin', windows: [{ days: ['sat', 'sun'], start: '00:00', end: '24:00' }] },
    }),
  );
  assert.equal(ok.channel.routing, {
    minSeverity: 'high',
    thresholds: [1, 5, 50],
    quietHours: { timeZone: 'Europe/Berlin', windows: [{ days: ['sat', 'sun'], start: '00:00', end: '24:00' }] },
  });
  refused(routing({ minSeverity: 'urgent' }), '/routing/minSeverity');
  refused(routing({ thresholds: [1, 10, 10] }), '/routing/thresholds/2');
  refused(routing({ thresholds: [10, 5] }), '/routing/thresholds/1');
  refused(routing({ thresholds: [0] }), '/routing/thresholds/0');
  refused(routing({ thresholds: [] }), '/routing/thresholds');
  refused(routing({ quietHours: { timeZone: 'Mars/Olympus', windows: [{ days: ['mon'], start: '22:00', end: '06:00' }] } }), '/routing/quietHours/timeZone');
  refused(routing({ quietHours: { timeZone: 'UTC', windows: [{ days: ['mon'], start: '22:00', end: '22:00' }] } }), '/routing/quietHours/windows/0/end');
  refused(routing({ quietHours: { timeZone: 'UTC', windows: [{ days: ['mon'], start: '24:00', end: '06:00' }] } }), '/routing/quietHours/windows/0/start');
  refused(routing({ quietHours: { timeZone: 'UTC', windows: [{ days: ['mon'], start: '7:00', end: '08:00' }] } }), '/routing/quietHours/windows/0/start');
  refused(routing({ quietHours: { timeZone: 'UTC', windows: [{ days: ['funday'], start: '07:00', end: '08:00' }] } }), '/routing/quietHours/windows/0/days/0');
});

test('the exported schema compiles under ajv strict mode and agrees with the parser on the body', () => {
  const validate = new Ajv({ strict: true }).compile(CHANNEL_INPUT_SCHEMA);
  assert.ok(validate(webhook({})));
  assert.ok(validate(email()));
  assert.ok(validate({ kind: 'chat', name: 'c', settings: { url: 'https://hooks.slack.example/services/x' } }));
  assert.not.ok(validate(webhook({}, { color: 'red' })));
  assert.not.ok(validate(email({ startTls: 'optional' })));
  assert.not.ok(validate({ kind: 'chat', name: 'c', settings: { url: 'https://h.example/x', secret: SECRET } }));
});

test('fastify takes the schema as a route body schema (the options src/http/api.ts uses)', async () => {
  const app = Fastify({ ajv: { customOptions: { removeAdditional: false, allErrors: false, coerceTypes: false } } });
  app.post('/channels', { schema: { body: CHANNEL_INPUT_SCHEMA } }, async () => ({ ok: true }));
  try {
    const ok = await app.inject({ method: 'POST', url: '/channels', payload: webhook({}) });
    assert.is(ok.statusCode, 200);
    const extra = await app.inject({ method: 'POST', url: '/channels', payload: webhook({}, { color: 'red' }) });
    assert.is(extra.statusCode, 400);
    const nullQuiet = await app.inject({ method: 'POST', url: '/channels', payload: webhook({}, { routing: { quietHours: null } }) });
    assert.is(nullQuiet.statusCode, 200);
  } finally {
    await app.close();
  }
});

test.run();

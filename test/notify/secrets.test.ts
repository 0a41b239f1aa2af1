import { randomBytes } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SecretBox, channelAad, openChannel, parseChannelInput, redactChannel, sealChannel } from '../../src/notify/mod.ts';
import { throws } from '../helpers/assert.ts';

const test = suite('notify: channel secrets are sealed at rest and never shown');

const key1 = { id: 'k1', key: randomBytes(32) };
const key2 = { id: 'k2', key: randomBytes(32) };
const SECRET = 'stk_whsec_0123456789abcdef0123456789abcdef';

test('seal/open round-trips; each seal is different; the sealed form does not contain the plaintext', () => {
  const box = new SecretBox(key1);
  const aad = channelAad('acme', 'ch_1');
  const a = box.seal('hunter2-password', aad);
  const b = box.seal('hunter2-password', aad);
  assert.is.not(a, b, 'random IV per seal');
  assert.match(a, /^stk-sb1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
  assert.not.ok(a.includes('hunter2'));
  assert.is(box.open(a, aad), 'hunter2-password');
});

test('a sealed value opens only for its own tenant and channel, and not after any change', () => {
  const box = new SecretBox(key1);
  const sealed = box.seal('smtp-password', channelAad('acme', 'ch_1'));
  const e1 = throws(() => box.open(sealed, channelAad('acme', 'ch_2')), 'STK_ERR_NOTIFY_SECRET_UNREADABLE');
  assert.is(e1.data.keyId, 'k1');
  throws(() => box.open(sealed, channelAad('other', 'ch_1')), 'STK_ERR_NOTIFY_SECRET_UNREADABLE');
  const parts = sealed.split('.');
  const body = Buffer.from(parts[3]!, 'base64url');
  body[0]! ^= 1;
  const flipped = [...parts.slice(0, 3), body.toString('base64url')].join('.');
  throws(() => box.open(flipped, channelAad('acme', 'ch_1')), 'STK_ERR_NOTIFY_SECRET_UNREADABLE');
  throws(() => box.open('stk-sb1.k1.short.x', channelAad('acme', 'ch_1')), 'STK_ERR_NOTIFY_SECRET_UNREADABLE');
  throws(() => box.open('plaintext', channelAad('acme', 'ch_1')), 'STK_ERR_NOTIFY_SECRET_UNREADABLE');
  throws(() => new SecretBox({ id: 'k1', key: randomBytes(32) }).open(sealed, channelAad('acme', 'ch_1')), 'STK_ERR_NOTIFY_SECRET_UNREADABLE');
});

test('key rotation: the new key seals, older keys still open; an unknown key id is named', () => {
  const old = new SecretBox(key1);
  const aad = channelAad('acme', 'ch_1');
  const sealedOld = old.seal('v1', aad);
  const rotated = new SecretBox(key2, [key1]);
  assert.is(rotated.open(sealedOld, aad), 'v1');
  assert.match(rotated.seal('v2', aad), /^stk-sb1\.k2\./);
  const err = throws(() => new SecretBox(key2).open(sealedOld, aad), 'STK_ERR_NOTIFY_SECRET_UNREADABLE');
  assert.is(err.data.keyId, 'k1');
});

test('bad keys and ids are refused', () => {
  throws(() => new SecretBox({ id: 'k1', key: randomBytes(16) }), 'STK_ERR_CONFIG');
  throws(() => new SecretBox({ id: 'k.1', key: randomBytes(32) }), 'STK_ERR_CONFIG');
  throws(() => new SecretBox(key1, [key1]), 'STK_ERR_CONFIG');
  throws(() => channelAad('Acme.*', 'ch_1'), 'STK_ERR_INVALID_ID');
  throws(() => channelAad('acme', 'ch.1'), 'STK_ERR_INVALID_ID');
});

test('stored channels keep no secret in clear; redactChannel shows hosts and flags only; openChannel restores them', () => {
  const box = new SecretBox(key1);
  const inputs = [
    { kind: 'webhook', name: 'w', settings: { url: 'https://hooks.example.com/in/tok-webhook-path?key=tok-query', secret: SECRET } },
    {
      kind: 'email',
      name: 'm',
      settings: {
        host: 'smtp.example.com',
        port: 587,
        startTls: 'required',
        user: 'alerts',
        password: 'tok-smtp-password',
        from: 'a@example.com',
        to: ['b@example.com'],
      },
    },
    { kind: 'chat', name: 'c', settings: { url: 'https://hooks.slack.example/services/T0/B0/tok-chat-url' } },
  ];
  for (const input of inputs) {
    const { channel } = parseChannelInput(input);
    const stored = sealChannel(box, 'acme', 'ch_1', channel);
    const storedJson = JSON.stringify(stored);
    for (const secret of [SECRET, 'tok-webhook-path', 'tok-query', 'tok-smtp-password', 'tok-chat-url']) {
      assert.not.ok(storedJson.includes(secret), `${input.kind}: ${secret} stored in clear`);
    }
    const view = redactChannel(stored);
    const viewJson = JSON.stringify(view);
    for (const secret of [SECRET, 'tok-', 'stk-sb1']) assert.not.ok(viewJson.includes(secret), `${input.kind}: ${secret} shown`);
    assert.equal(openChannel(box, stored), channel);
    // Moved to another channel id, the sealed part no longer opens.
    throws(() => openChannel(box, { ...stored, id: 'ch_2' }), 'STK_ERR_NOTIFY_SECRET_UNREADABLE');
  }
  const views = inputs.map((i) => redactChannel(sealChannel(box, 'acme', 'ch_1', parseChannelInput(i).channel)).settings);
  assert.equal(views, [
    { host: 'hooks.example.com', secretSet: true },
    { host: 'smtp.example.com', port: 587, startTls: 'required', user: 'alerts', from: 'a@example.com', to: ['b@example.com'], passwordSet: true },
    { host: 'hooks.slack.example', urlSet: true },
  ]);
});

test('sealed secrets of one kind do not open as another kind', () => {
  const box = new SecretBox(key1);
  const chat = sealChannel(
    box,
    'acme',
    'ch_1',
    parseChannelInput({ kind: 'chat', name: 'c', settings: { url: 'https://hooks.slack.example/services/x' } }).channel,
  );
  const web = sealChannel(
    box,
    'acme',
    'ch_1',
    parseChannelInput({ kind: 'webhook', name: 'w', settings: { url: 'https://h.example/x', secret: SECRET } }).channel,
  );
  throws(() => openChannel(box, { ...web, sealed: chat.sealed }), 'STK_ERR_NOTIFY_SECRET_UNREADABLE');
});

test.run();

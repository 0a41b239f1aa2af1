import { createHmac } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  DEFAULT_RETRY_POLICY,
  type DeliveryFailure,
  backoffMs,
  classifyStatus,
  nextAttempt,
  parseRetryAfter,
  signWebhook,
  verifyWebhook,
} from '../../src/notify/mod.ts';

const test = suite('notify: webhook signatures and the retry policy');

const SECRET = 'stk_whsec_0123456789abcdef0123456789abcdef';
const NOW = new Date('2025-06-01T12:00:00Z');
const T = 1748779200;

test('the signature is HMAC-SHA256(secret, "<t>.<raw body>") in hex, as documented', () => {
  const body = '{"a":1,"é":"ü"}';
  const expected = createHmac('sha256', SECRET).update(`${T}.${body}`).digest('hex');
  assert.is(signWebhook(SECRET, body, NOW), `t=${T},v1=${expected}`);
  assert.is(signWebhook(SECRET, Buffer.from(body), NOW), `t=${T},v1=${expected}`);
});

test('verifyWebhook: tolerance both ways, any v1 may match, header names in any case or a Headers object', () => {
  const body = '{"x":1}';
  const sig = signWebhook(SECRET, body, NOW);
  const at = (s: number) => new Date(NOW.getTime() + s * 1000);
  assert.equal(verifyWebhook({ 'stockade-signature': sig, 'stockade-delivery': 'd1' }, body, SECRET, at(300)), { ok: true, timestamp: T, deliveryId: 'd1' });
  assert.equal(verifyWebhook({ 'Stockade-Signature': sig }, body, SECRET, at(-300)), { ok: true, timestamp: T, deliveryId: null });
  assert.equal(verifyWebhook({ 'stockade-signature': sig }, body, SECRET, at(301)), { ok: false, reason: 'timestamp-out-of-tolerance' });
  assert.equal(verifyWebhook({ 'stockade-signature': sig }, body, SECRET, at(-301)), { ok: false, reason: 'timestamp-out-of-tolerance' });
  assert.equal(verifyWebhook({ 'stockade-signature': sig }, body, SECRET, at(3000), 3600).ok, true);
  const other = signWebhook('another-secret-of-enough-length-0123456789', body, NOW).split(',')[1];
  assert.equal(verifyWebhook({ 'stockade-signature': `${sig},${other}` }, body, SECRET, NOW).ok, true, 'rotation: one of two matches');
  assert.equal(verifyWebhook({ 'stockade-signature': `t=${T},${other}` }, body, SECRET, NOW), { ok: false, reason: 'signature-mismatch' });
  assert.equal(verifyWebhook(new Headers({ 'Stockade-Signature': sig }), body, SECRET, NOW).ok, true);
  assert.equal(verifyWebhook({}, body, SECRET, NOW), { ok: false, reason: 'missing-signature' });
  assert.equal(verifyWebhook({ 'stockade-signature': `v1=${'0'.repeat(64)}` }, body, SECRET, NOW), { ok: false, reason: 'malformed-signature' });
  assert.equal(verifyWebhook({ 'stockade-signature': `t=${T},v1=ABC` }, body, SECRET, NOW), { ok: false, reason: 'malformed-signature' });
  // The timestamp is inside the MAC: moving it forward to dodge the replay check breaks the signature.
  const moved = sig.replace(`t=${T}`, `t=${T + 600}`);
  assert.equal(verifyWebhook({ 'stockade-signature': moved }, body, SECRET, at(600)), { ok: false, reason: 'signature-mismatch' });
  assert.equal(verifyWebhook({ 'stockade-signature': sig }, `${body} `, SECRET, NOW), { ok: false, reason: 'signature-mismatch' });
});

test('HTTP status classes and Retry-After', () => {
  const c = (s: number, h: Record<string, string> = {}) => classifyStatus(s, h, '', NOW);
  assert.equal(c(200), { outcome: 'delivered', status: 200 });
  assert.equal(c(302, { location: 'https://elsewhere.example/x' }), {
    outcome: 'permanent',
    reason: 'redirect',
    status: 302,
    detail: 'HTTP 302 to elsewhere.example; redirects are not followed',
  });
  assert.equal([c(400).outcome, c(401).outcome, c(404).outcome, c(413).outcome], ['permanent', 'permanent', 'permanent', 'permanent']);
  assert.equal([c(408).outcome, c(429).outcome, c(500).outcome, c(503).outcome], ['retryable', 'retryable', 'retryable', 'retryable']);
  assert.is((c(429, { 'retry-after': '30' }) as { retryAfterMs: number }).retryAfterMs, 30_000);
  assert.is(parseRetryAfter('Sun, 01 Jun 2025 12:02:00 GMT', NOW), 120_000);
  assert.is(parseRetryAfter('Sun, 01 Jun 2025 11:00:00 GMT', NOW), 0);
  assert.is(parseRetryAfter('soon', NOW), null);
  assert.is(parseRetryAfter(undefined, NOW), null);
});

const fail = (retryAfterMs: number | null = null): DeliveryFailure => ({ outcome: 'retryable', reason: 'http-status', status: 503, detail: '', retryAfterMs });

test('back-off doubles from the base, is capped, and jitters between half and all of it — the same for the same delivery', () => {
  const p = DEFAULT_RETRY_POLICY;
  for (let attempts = 1; attempts <= 11; attempts++) {
    const raw = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** (attempts - 1));
    const values = ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => backoffMs({ deliveryId: id, attempts }));
    for (const v of values) assert.ok(v >= raw / 2 && v <= raw, `attempt ${attempts}: ${v} within [${raw / 2}, ${raw}]`);
    assert.ok(new Set(values).size > 1, 'different deliveries spread out');
    assert.is(backoffMs({ deliveryId: 'a', attempts }), values[0], 'pure');
  }
});

test('nextAttempt: retry, Retry-After wins when longer, dead letter on permanent, max attempts and max age', () => {
  const p = { baseDelayMs: 10_000, factor: 2, maxDelayMs: 600_000, maxAttempts: 5, maxAgeMs: 3_600_000 };
  const s = (attempts: number, createdAt = NOW) => ({ deliveryId: 'dl_x', attempts, createdAt });
  const step = nextAttempt(s(1), fail(), NOW, p) as { retryAt: Date };
  const delay = step.retryAt.getTime() - NOW.getTime();
  assert.ok(delay >= 5_000 && delay <= 10_000);
  assert.equal(nextAttempt(s(1), fail(120_000), NOW, p), { retryAt: new Date(NOW.getTime() + 120_000) });
  assert.equal(nextAttempt(s(1), fail(1), NOW, p), step, 'a shorter Retry-After does not shorten the back-off');
  assert.equal(nextAttempt(s(1), { outcome: 'permanent', reason: 'http-status', status: 404, detail: '' }, NOW, p), { deadLetter: 'permanent-failure' });
  assert.ok('retryAt' in nextAttempt(s(4), fail(), NOW, p));
  assert.equal(nextAttempt(s(5), fail(), NOW, p), { deadLetter: 'max-attempts' });
  const old = new Date(NOW.getTime() - 3_599_000);
  assert.equal(nextAttempt(s(2, old), fail(), NOW, p), { deadLetter: 'max-age' });
  assert.equal(nextAttempt(s(1), fail(7_200_000), NOW, p), { deadLetter: 'max-age' }, 'a Retry-After past the max age');
});

test.run();

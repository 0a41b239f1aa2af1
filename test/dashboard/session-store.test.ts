import { createHash } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { csrfMatches, SESSION_BUCKET, SESSION_TTL_MS, SessionStore } from '../../src/dashboard/sessions.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { natsFixture, doorOf } from '../helpers/nats.ts';

/** The session store on a real nats-server: expiry, tampering, sign-out, CSRF tokens. */
const test = suite('dashboard session store');

let nats: Awaited<ReturnType<typeof natsFixture>>;
let nc: NatsConnection;

test.before(async () => {
  nats = await natsFixture();
  nc = await connectNats({ servers: [nats.url], name: 'session-store-test' });
});

test.after(async () => {
  await nc?.close();
  await nats?.stop();
});

test('a session reads back until it expires, and not after', async () => {
  let now = new Date('2026-01-01T00:00:00Z');
  const store = await SessionStore.open(await doorOf(nc), { now: () => now });
  const { sid, session } = await store.create('stk_admin_x', { kind: 'admin' });
  assert.equal((await store.get(sid))?.principal, { kind: 'admin' });
  assert.is((await store.get(sid))?.credential, 'stk_admin_x');
  assert.is((await store.get(sid))?.csrf, session.csrf);
  now = new Date(now.getTime() + SESSION_TTL_MS - 1);
  assert.ok(await store.get(sid));
  now = new Date(now.getTime() + 1);
  assert.is(await store.get(sid), null);
});

test('a tampered entry, another cookie, or a signed-out session is no session', async () => {
  const store = await SessionStore.open(await doorOf(nc));
  const a = await store.create('stk_admin_a', { kind: 'admin' });
  const b = await store.create('stk_admin_b', { kind: 'admin' });
  const kv = await new Kvm(nc).open(SESSION_BUCKET);
  // Swap the two entries: each cookie now finds the other's ciphertext, which its key cannot open.
  const keyOf = (sid: string): string => `s.${createHash('sha256').update(sid).digest('hex')}`;
  const [ka, kb] = [keyOf(a.sid), keyOf(b.sid)];
  const va = (await kv.get(ka!))!.string();
  const vb = (await kv.get(kb!))!.string();
  await kv.put(ka!, vb);
  await kv.put(kb!, va);
  assert.is(await store.get(a.sid), null);
  assert.is(await store.get(b.sid), null);

  const c = await store.create('stk_admin_c', { kind: 'admin' });
  assert.ok(await store.get(c.sid));
  await store.destroy(c.sid);
  assert.is(await store.get(c.sid), null);
  for (const bad of [undefined, '', 'short', `${c.sid}x`, c.sid.replace(/./, '.')]) assert.is(await store.get(bad), null);
});

test('the CSRF token belongs to its session and compares whole', async () => {
  const store = await SessionStore.open(await doorOf(nc));
  const a = (await store.create('x', { kind: 'admin' })).session;
  const b = (await store.create('y', { kind: 'admin' })).session;
  assert.is.not(a.csrf, b.csrf);
  assert.ok(csrfMatches(a, a.csrf));
  assert.not.ok(csrfMatches(a, b.csrf));
  assert.not.ok(csrfMatches(a, a.csrf.slice(0, -1)));
  assert.not.ok(csrfMatches(a, undefined));
  assert.not.ok(csrfMatches(a, [a.csrf]));
});

test.run();

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { NatsConnection } from '@nats-io/transport-node';
import { newId } from '../../src/ids.ts';
import type { EventEnvelope } from '../../src/domain/events.ts';
import { EVENTS_STREAM, EventLog, Streams, eventSubject } from '../../src/log/mod.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { ERASED_TEXT, SEALED_TEXT, eraseSubject, openPrivacy, type Privacy } from '../../src/privacy/mod.ts';
import { AGENT_ACTOR, freshTenant } from '../helpers/events.ts';
import { natsFixture } from '../helpers/nats.ts';

/**
 * The write path's cache of sealing contexts (key ids and derived key per tenant, kind, month and
 * subjects), against a real nats-server and two processes' key stores: a key destroyed anywhere is
 * never sealed with again, and what the cache serves is what the key store would.
 */
type Side = { nc: NatsConnection; log: EventLog; plain: EventLog; privacy: Privacy };
type Ctx = { nats: Awaited<ReturnType<typeof natsFixture>>; a: Side; b: Side };
const test = suite<Ctx>('privacy: the write path caches what sealing needs, never past a destruction');

async function side(url: string): Promise<Side> {
  const nc = await connectNats({ servers: url });
  const streams = await Streams.open(nc);
  const privacy = await openPrivacy(streams);
  return {
    nc,
    privacy,
    log: await EventLog.open(streams, { fields: privacy.cipher }),
    plain: await EventLog.open(streams, { skipEnsureStream: true }),
  };
}

test.before(async (ctx) => {
  ctx.nats = await natsFixture();
  ctx.a = await side(ctx.nats.url);
  ctx.b = await side(ctx.nats.url);
});
test.after(async (ctx) => {
  for (const s of [ctx.a, ctx.b]) {
    s?.privacy.close();
    await s?.nc.close();
  }
  await ctx.nats?.stop();
});

/** Raises an alert about `account` on `agentId` straight through the log; returns the stored and the revealed event. */
async function raise(s: Side, tenant: string, agentId: string, account: string, title: string): Promise<{ stored: EventEnvelope; read: EventEnvelope }> {
  const aggregateId = newId();
  const stream = { tenant, aggregateType: 'alert', aggregateId };
  const data = { agentId, product: null, rule: 'r', severity: 'high', title, details: { account, pid: 7 }, observedAt: '2026-01-01T00:00:00.000Z' };
  const r = await s.log.append(stream, [{ type: 'alert.raised', data, actor: AGENT_ACTOR(agentId) }], { expectedVersion: 'no_stream' });
  assert.ok(r.ok);
  const m = await s.log.streams.last(EVENTS_STREAM, eventSubject(stream));
  const stored = s.plain.decode(m!).events[0]!;
  const read = (await s.log.readAggregate(stream)).events[0]!;
  return { stored, read };
}

/** Waits (bounded) until `done` holds; what it waits for comes through the key store's watch. */
async function until(what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within 10 s`);
    await new Promise<void>((r) => setImmediate(r));
  }
}

/**
 * Makes the tenant's key and waits for its own watch to report it (which moves the generation), so
 * that the contexts cached from here on stay cached until a destruction moves it again.
 */
async function settled(s: Side, tenant: string): Promise<void> {
  const g0 = s.privacy.keys.generation;
  await s.privacy.keys.tenantKey(tenant, true);
  await until('the tenant key seen by the watch', () => s.privacy.keys.generation !== g0);
}

/** Waits (bounded) until a side's key store has seen a key destroyed by another process. */
function seenGone(s: Side, tenant: string, keyId: string): Promise<void> {
  return until(`key ${keyId} dropped`, () => s.privacy.keys.cachedKey(tenant, keyId) === null);
}

test('events about the same subjects share their keys, each with its own nonce; the stored bytes hold placeholders only', async ({ a }) => {
  const tenant = freshTenant('cache');
  const agentId = newId();
  const first = await raise(a, tenant, agentId, 'alice', 'sudo by alice on host-1');
  const second = await raise(a, tenant, agentId, 'alice', 'sudo by alice on host-2');
  assert.equal(second.stored.sealed?.keys, first.stored.sealed?.keys);
  assert.is(first.stored.sealed?.keys.length, 2, 'the machine and the account');
  assert.is.not(second.stored.sealed?.iv, first.stored.sealed?.iv);
  assert.equal(first.stored.sealed?.fields, ['title', 'details']);
  assert.is((first.stored.data as { title: string }).title, SEALED_TEXT);
  assert.is((first.stored.data as { details: unknown }).details, null);
  assert.is((first.stored.data as { agentId: string }).agentId, agentId, 'fields that are not personal stay');
  assert.is((second.read.data as { title: string }).title, 'sudo by alice on host-2');
  assert.equal((second.read.data as { details: unknown }).details, { account: 'alice', pid: 7 });
  // Another account on the same machine: the machine's key, and another account key.
  const bob = await raise(a, tenant, agentId, 'bob', 'sudo by bob');
  assert.is(bob.stored.sealed?.keys[0], first.stored.sealed?.keys[0]);
  assert.is.not(bob.stored.sealed?.keys[1], first.stored.sealed?.keys[1]);
});

test('every nonce is fresh and written as its bytes, across refills of the nonce pool: 800 sealed events all reveal', async ({ a }) => {
  const tenant = freshTenant('cache-iv');
  const agentId = newId();
  const at = new Date().toISOString();
  const events: EventEnvelope[] = Array.from({ length: 800 }, (_, i) => ({
    id: newId(),
    type: 'alert.raised',
    tenant,
    aggregate: { type: 'alert', id: newId() },
    version: 1,
    at,
    actor: AGENT_ACTOR(agentId),
    causationId: null,
    correlationId: null,
    schema: 1,
    data: { agentId, title: `title ${i}`, details: { account: `user${i % 3}`, n: i } },
  }));
  const sealed = await a.privacy.cipher.seal(events);
  assert.is(new Set(sealed.map((e) => e.sealed?.iv)).size, 800);
  for (const e of sealed) assert.is(Buffer.from(e.sealed!.iv, 'base64url').length, 12);
  const revealed = await a.privacy.cipher.reveal(sealed);
  assert.equal(
    revealed.map((e) => e.data),
    events.map((e) => e.data),
  );
});

test('a key destroyed by another process is never sealed with again here: the next event gets a new key and reads back', async ({ a, b }) => {
  const tenant = freshTenant('cache-x');
  const agentId = newId();
  await settled(a, tenant);
  await raise(a, tenant, agentId, 'carol', 'sudo by carol, first');
  const before = await raise(a, tenant, agentId, 'carol', 'sudo by carol');
  const [machineKey, accountKey] = before.stored.sealed!.keys;
  // The other process erases the account; this one learns it from the key store's watch.
  const erased = await eraseSubject(b.log, b.privacy.keys, { tenant, subject: 'account:carol', actor: { kind: 'operator', id: 'admin' } });
  assert.is(erased.keysDestroyed, 1);
  await seenGone(a, tenant, accountKey!);
  const after = await raise(a, tenant, agentId, 'carol', 'sudo by carol again');
  assert.is(after.stored.sealed?.keys[0], machineKey, 'the machine key is untouched');
  assert.is.not(after.stored.sealed?.keys[1], accountKey, 'a new account key');
  assert.is((after.read.data as { title: string }).title, 'sudo by carol again');
  // The other process reads the new event, and the old one as erased.
  const again = (await b.log.readAggregate({ tenant, aggregateType: 'alert', aggregateId: after.read.aggregate.id })).events[0]!;
  assert.is((again.data as { title: string }).title, 'sudo by carol again');
  const old = (await b.log.readAggregate({ tenant, aggregateType: 'alert', aggregateId: before.read.aggregate.id })).events[0]!;
  assert.is((old.data as { title: string }).title, ERASED_TEXT);
});

test('a key destroyed in this process is never sealed with again', async ({ a }) => {
  const tenant = freshTenant('cache-own');
  const agentId = newId();
  await settled(a, tenant);
  await raise(a, tenant, agentId, 'dave', 'sudo by dave, first');
  const before = await raise(a, tenant, agentId, 'dave', 'sudo by dave');
  await eraseSubject(a.log, a.privacy.keys, { tenant, subject: `agent:${agentId}`, actor: { kind: 'operator', id: 'admin' } });
  const after = await raise(a, tenant, agentId, 'dave', 'sudo by dave again');
  assert.is.not(after.stored.sealed?.keys[0], before.stored.sealed?.keys[0], 'a new machine key');
  assert.is(after.stored.sealed?.keys[1], before.stored.sealed?.keys[1], 'the account key is untouched');
  assert.is((after.read.data as { title: string }).title, 'sudo by dave again');
});

test.run();

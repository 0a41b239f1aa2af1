import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { NatsConnection } from '@nats-io/transport-node';
import { agentDecider } from '../../commands/agents/decider.ts';
import { AgentEvents } from '../../commands/agents/events.ts';
import { alertDecider } from '../../commands/alerts/decider.ts';
import { execute } from '../../src/domain/execute.ts';
import { newId } from '../../src/ids.ts';
import { EVENTS_STREAM, EventLog, Streams, eventSubject } from '../../src/log/mod.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { ERASED_TEXT, SEALED_TEXT, eraseSubject, openPrivacy, type Privacy, replayDestructions } from '../../src/privacy/mod.ts';
import { privacyDecider } from '../../commands/privacy/decider.ts';
import { AGENT_ACTOR, freshTenant } from '../helpers/events.ts';
import { natsFixture } from '../helpers/nats.ts';
import { rejects } from '../helpers/assert.ts';

/**
 * Field encryption in the one write path, against a real nats-server: what is stored, what a
 * reader gets back, and what an erasure leaves.
 */
type Ctx = { nats: Awaited<ReturnType<typeof natsFixture>>; nc: NatsConnection; log: EventLog; plain: EventLog; privacy: Privacy };
const test = suite<Ctx>('privacy: sealed fields in the event log');

test.before(async (ctx) => {
  ctx.nats = await natsFixture();
  ctx.nc = await connectNats({ servers: ctx.nats.url });
  const streams = await Streams.open(ctx.nc);
  ctx.privacy = await openPrivacy(streams);
  ctx.log = await EventLog.open(streams, { fields: ctx.privacy.cipher });
  // The same stream read without the key store: what the sealer, an export or an auditor sees.
  ctx.plain = await EventLog.open(streams, { skipEnsureStream: true });
});
test.after(async (ctx) => {
  ctx.privacy?.close();
  await ctx.nc?.close();
  await ctx.nats?.stop();
});

async function enroll(log: EventLog, tenant: string, hostname: string): Promise<string> {
  const agentId = newId();
  await execute(
    log,
    { tenant, id: agentId },
    agentDecider,
    { kind: 'enroll', agent: { hostname, os: 'linux', agentVersion: '1', certFingerprint: 'f'.repeat(64), certNotAfter: '2030-01-01T00:00:00.000Z' } },
    { actor: AGENT_ACTOR(agentId), known: 'new' },
  );
  return agentId;
}

test('the stored bytes hold no personal value; the log reveals them to its own readers', async ({ log, plain }) => {
  const tenant = freshTenant('seal');
  const agentId = await enroll(log, tenant, 'ws-secret-host.corp.example');
  const stored = await log.streams.last(EVENTS_STREAM, eventSubject({ tenant, aggregateType: 'agent', aggregateId: agentId }));
  const text = new TextDecoder().decode(stored!.data);
  assert.not.ok(text.includes('ws-secret-host'), 'the host name is not in the stored record');
  const raw = plain.decode(stored!).events[0]!;
  assert.is((raw.data as { hostname: string }).hostname, SEALED_TEXT);
  assert.is((raw.data as { os: string }).os, 'linux', 'fields that are not personal stay as they are');
  assert.equal(raw.sealed?.fields, ['hostname']);
  const read = (await log.readAggregate({ tenant, aggregateType: 'agent', aggregateId: agentId })).events[0]!;
  assert.is((read.data as { hostname: string }).hostname, 'ws-secret-host.corp.example');
  assert.is(read.sealed, undefined);
});

test('a sealed value cannot be moved to another event: the ciphertext is bound to its event', async ({ log, plain, privacy }) => {
  const tenant = freshTenant('bind');
  const a = await enroll(log, tenant, 'host-a');
  const b = await enroll(log, tenant, 'host-b');
  const ra = plain.decode((await log.streams.last(EVENTS_STREAM, eventSubject({ tenant, aggregateType: 'agent', aggregateId: a })))!).events[0]!;
  const rb = plain.decode((await log.streams.last(EVENTS_STREAM, eventSubject({ tenant, aggregateType: 'agent', aggregateId: b })))!).events[0]!;
  await rejects(privacy.cipher.reveal([{ ...rb, sealed: ra.sealed! }]), 'STK_ERR_LOG_CORRUPT_RECORD');
});

test('erasing a subject makes its fields unreadable and only its fields; another subject and another tenant keep theirs', async ({ log, privacy }) => {
  const tenant = freshTenant('erase');
  const other = freshTenant('erase-other');
  const gone = await enroll(log, tenant, 'leaver-laptop');
  const kept = await enroll(log, tenant, 'stays-server');
  const elsewhere = await enroll(log, other, 'leaver-laptop');
  const alertId = newId();
  await execute(
    log,
    { tenant, id: alertId },
    alertDecider,
    {
      kind: 'raise',
      alert: {
        agentId: kept,
        product: null,
        rule: 'r',
        severity: 'high',
        title: 'sudo by alice',
        details: { account: 'alice' },
        observedAt: '2026-01-01T00:00:00.000Z',
      },
    },
    { actor: AGENT_ACTOR(kept), known: 'new' },
  );
  const r = await eraseSubject(log, privacy.keys, { tenant, subject: `agent:${gone}`, actor: { kind: 'operator', id: 'admin' } });
  assert.is(r.keysDestroyed, 1);
  const host = async (t: string, id: string) =>
    ((await log.readAggregate({ tenant: t, aggregateType: 'agent', aggregateId: id })).events[0]!.data as { hostname: string }).hostname;
  assert.is(await host(tenant, gone), ERASED_TEXT);
  assert.is(await host(tenant, kept), 'stays-server');
  assert.is(await host(other, elsewhere), 'leaver-laptop');
  const erased = (await log.readAggregate({ tenant, aggregateType: 'agent', aggregateId: gone })).events[0]!;
  assert.equal(erased.erased, ['hostname']);

  // An alert is sealed under its machine and the account it names: erasing the account shreds it.
  const before = (await log.readAggregate({ tenant, aggregateType: 'alert', aggregateId: alertId })).events[0]!;
  assert.is((before.data as { title: string }).title, 'sudo by alice');
  const acc = await eraseSubject(log, privacy.keys, { tenant, subject: 'account:alice', actor: { kind: 'operator', id: 'admin' } });
  assert.is(acc.keysDestroyed, 1);
  const after = (await log.readAggregate({ tenant, aggregateType: 'alert', aggregateId: alertId })).events[0]!;
  assert.is((after.data as { title: string }).title, ERASED_TEXT);
  assert.is((after.data as { details: unknown }).details, null);
  assert.is(await host(tenant, kept), 'stays-server', 'the machine key is untouched');

  // The subject keeps existing: what it does after the erasure is sealed under a new key.
  await execute(
    log,
    { tenant, id: gone },
    agentDecider,
    { kind: 'heartbeat', heartbeat: { inventory: { hostname: 'leaver-laptop' } } },
    { actor: AGENT_ACTOR(gone) },
  );
  const hb = (await log.readAggregate({ tenant, aggregateType: 'agent', aggregateId: gone })).events.find((e) => e.type === AgentEvents.heartbeat)!;
  assert.equal((hb.data as { inventory: unknown }).inventory, { hostname: 'leaver-laptop' });
});

test('a subject that is not one is refused with its code', async ({ log, privacy }) => {
  for (const subject of ['alice', 'tenant', 'agent:', 'host:x', `person:${'x'.repeat(300)}`]) {
    await rejects(
      eraseSubject(log, privacy.keys, { tenant: freshTenant('bad'), subject, actor: { kind: 'operator', id: 'admin' } }),
      'STK_ERR_SUBJECT_INVALID',
    );
  }
});

test('a key store that still holds keys a recorded destruction names (restored, or older than the log) loses them on replay', async ({ log, privacy }) => {
  const tenant = freshTenant('replay');
  const agentId = await enroll(log, tenant, 'resurrected-host');
  const subjectId = await privacy.keys.subjectId(tenant, `agent:${agentId}`);
  const keyIds = (await privacy.keys.keysOfSubject(tenant, subjectId)).map((k) => k.keyId);
  assert.is(keyIds.length, 1);
  // The destruction is in the log, but this key store never saw it happen.
  await execute(
    log,
    { tenant, id: newId() },
    privacyDecider,
    { kind: 'record-destruction', destruction: { reason: 'erasure', keyIds, tenantKey: false } },
    { actor: { kind: 'operator', id: 'admin' }, known: 'new' },
  );
  const host = async () =>
    ((await log.readAggregate({ tenant, aggregateType: 'agent', aggregateId: agentId })).events[0]!.data as { hostname: string }).hostname;
  assert.is(await host(), 'resurrected-host');
  assert.ok((await replayDestructions(log, privacy.keys)) >= 1);
  assert.is(await host(), ERASED_TEXT);
  assert.equal(await privacy.keys.keysOfSubject(tenant, subjectId), []);
});

test.run();

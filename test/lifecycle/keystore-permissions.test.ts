import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { agentDecider } from '../../commands/agents/decider.ts';
import { execute } from '../../src/domain/execute.ts';
import { newId } from '../../src/ids.ts';
import { EventLog, Streams } from '../../src/log/mod.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { DATA_KEYS_BUCKET, openPrivacy, type Privacy, TENANT_KEYS_BUCKET } from '../../src/privacy/mod.ts';
import { AGENT_ACTOR, freshTenant } from '../helpers/events.ts';
import { natsFixture } from '../helpers/nats.ts';

/**
 * The key store is the app's alone, enforced by NATS with infra/nats/ledger-auth.conf: the sealer
 * and the auditor (who read EVENTS and LEDGER) cannot read, create or write a key by any path.
 */
const AUTH = resolve(import.meta.dirname, '../../infra/nats/ledger-auth.conf');
const PASS = {
  app: `app-${Math.random().toString(36).slice(2)}`,
  sealer: `sealer-${Math.random().toString(36).slice(2)}`,
  auditor: `aud-${Math.random().toString(36).slice(2)}`,
  ops: `ops-${Math.random().toString(36).slice(2)}`,
};
type Ctx = {
  nats: Awaited<ReturnType<typeof natsFixture>>;
  app: NatsConnection;
  sealer: NatsConnection;
  auditor: NatsConnection;
  privacy: Privacy;
  tenant: string;
};
const test = suite<Ctx>('lifecycle: the sealer and auditors cannot read the key store (ledger-auth.conf)');

test.before(async (ctx) => {
  for (const [u, p] of Object.entries(PASS)) process.env[`STOCKADE_${u.toUpperCase()}_PASS`] = p;
  ctx.nats = await natsFixture({ extraConfig: await readFile(AUTH, 'utf8') });
  const as = (user: keyof typeof PASS) => connectNats({ servers: ctx.nats.url, user, pass: PASS[user] });
  ctx.app = await as('app');
  ctx.sealer = await as('sealer');
  ctx.auditor = await as('auditor');
  // The app seals a host name: a tenant key and a data key now exist.
  const streams = await Streams.open(ctx.app);
  ctx.privacy = await openPrivacy(streams);
  const log = await EventLog.open(streams, { fields: ctx.privacy.cipher });
  ctx.tenant = freshTenant('perm');
  const agentId = newId();
  await execute(
    log,
    { tenant: ctx.tenant, id: agentId },
    agentDecider,
    {
      kind: 'enroll',
      agent: { hostname: 'secret-host', os: 'linux', agentVersion: '1', certFingerprint: 'f'.repeat(64), certNotAfter: '2030-01-01T00:00:00.000Z' },
    },
    { actor: AGENT_ACTOR(agentId), known: 'new' },
  );
});
test.after(async (ctx) => {
  ctx.privacy?.close();
  for (const nc of [ctx.app, ctx.sealer, ctx.auditor]) await nc?.close().catch(() => {});
  await ctx.nats?.stop();
});

const DENIED = /Permissions Violation|permission|timeout|TimeoutError/i;

async function refused(what: string, attempt: () => Promise<unknown>): Promise<void> {
  let result: unknown;
  try {
    result = await attempt();
  } catch (err) {
    assert.match(`${(err as Error).message} ${(err as Error).name}`, DENIED, `${what}: ${(err as Error).message}`);
    return;
  }
  assert.unreachable(`${what} was allowed: ${JSON.stringify(result)?.slice(0, 200)}`);
}

for (const user of ['sealer', 'auditor'] as const) {
  test(`the ${user} cannot get, list, watch, consume, snapshot, create or write a key`, async (ctx) => {
    const nc = ctx[user];
    const jsm = await jetstreamManager(nc, { timeout: 1500 });
    const js = jetstream(nc, { timeout: 1500 });
    for (const bucket of [TENANT_KEYS_BUCKET, DATA_KEYS_BUCKET]) {
      const stream = `KV_${bucket}`;
      const key = bucket === TENANT_KEYS_BUCKET ? ctx.tenant : `k.${ctx.tenant}.x`;
      await refused(`${user}: direct get of ${bucket}`, () => jsm.direct.getMessage(stream, { last_by_subj: `$KV.${bucket}.${key}` }));
      await refused(`${user}: message get of ${bucket}`, () =>
        jsm.streams.getMessage(stream, { seq: 1 }).then((m) => m ?? Promise.reject(new Error('timeout'))),
      );
      await refused(`${user}: an ordered consumer on ${bucket}`, async () => {
        const c = await js.consumers.get(stream);
        return c.next({ expires: 1000 }).then((m) => m ?? Promise.reject(new Error('timeout')));
      });
      await refused(`${user}: a durable consumer on ${bucket}`, () => jsm.consumers.add(stream, { durable_name: 'peek', ack_policy: 'none' as never }));
      await refused(`${user}: KV get through the client`, async () => {
        const kv = await new Kvm(nc).open(bucket);
        return kv.get(key).then((e) => e ?? Promise.reject(new Error('timeout')));
      });
      await refused(`${user}: KV put`, () => js.publish(`$KV.${bucket}.${key}`, 'forged'));
      await refused(`${user}: creating the bucket's stream`, () => jsm.streams.add({ name: stream, subjects: [`$KV.${bucket}.>`] }));
      await refused(`${user}: a snapshot of ${bucket}`, () => nc.request(`$JS.API.STREAM.SNAPSHOT.${stream}`, '{}', { timeout: 1500 }));
    }
    // A plain subscription to the buckets' subjects is refused by the server, so it sees no key as the app writes it.
    const sub = nc.subscribe(`$KV.${DATA_KEYS_BUCKET}.>`);
    const seen: string[] = [];
    const ended = (async () => {
      try {
        for await (const m of sub) seen.push(m.subject);
        return 'ended';
      } catch (err) {
        return (err as Error).message;
      }
    })();
    await nc.flush();
    assert.match(await ended, /Permissions Violation for Subscription/);
    assert.equal(seen, []);
  });
}

test('the app user keeps full use of its key store (the permissions refuse the others only)', async (ctx) => {
  const kv = await new Kvm(ctx.app).open(TENANT_KEYS_BUCKET);
  const e = await kv.get(ctx.tenant);
  assert.is(e?.operation, 'PUT');
});

test.run();

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DiscardPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { EventLog, EVENTS_STREAM } from '../../src/log/mod.ts';
import { ledgerAuthConfig } from '../../src/nats/auth.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { LEDGER_STREAM, ledgerSubject, parseBlock } from '../../src/ledger/format.ts';
import { natsFixture, tempDir } from '../helpers/nats.ts';
import { freePort } from '../../src/nats/server.ts';
import { runCli, type CliProcess } from '../helpers/proc.ts';
import { freshTenant } from './fixture.ts';

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
  auditor: NatsConnection;
  sealerUser: NatsConnection;
  ops: NatsConnection;
  sealer: CliProcess;
  sealerHttp: string;
  tenant: string;
  keyDir: string;
  lastSeq: number;
};
const test = suite<Ctx>('ledger permissions: separate-sealer mode with infra/nats/ledger-auth.conf');

test.before(async (ctx) => {
  // nats-server resolves the config's $STOCKADE_*_PASS from its environment, inherited from ours.
  for (const [u, p] of Object.entries(PASS)) process.env[`STOCKADE_${u.toUpperCase()}_PASS`] = p;
  ctx.nats = await natsFixture({ extraConfig: await readFile(AUTH, 'utf8') });
  const as = (user: keyof typeof PASS) => connectNats({ servers: ctx.nats.url, user, pass: PASS[user] });
  ctx.app = await as('app');
  ctx.auditor = await as('auditor');
  ctx.sealerUser = await as('sealer');
  ctx.ops = await as('ops');
  const log = await EventLog.connect(ctx.app);
  ctx.tenant = freshTenant();
  ctx.keyDir = join(ctx.nats.dir, 'sealer-keys');
  ctx.sealerHttp = `127.0.0.1:${await freePort()}`;
  ctx.sealer = runCli(['sealer', '--nats-url', ctx.nats.url, '--key-dir', ctx.keyDir, '--block-max-ms', '20', '--http', ctx.sealerHttp], {
    STOCKADE_NATS_USER: 'sealer',
    STOCKADE_NATS_PASS: PASS.sealer,
  });
  await ctx.sealer.waitFor(/sealer is running/);
  // Wait for the block that seals the last record, seen by the read-only auditor.
  const sub = ctx.auditor.subscribe(ledgerSubject(ctx.tenant));
  for (let i = 0; i < 5; i++) {
    ctx.lastSeq = (
      await log.appendOrThrow({ tenant: ctx.tenant, aggregateType: 'finding', aggregateId: `f${i}` }, [{ type: 'finding.created', data: { i } }], {
        expectedVersion: 'no_stream',
      })
    ).position;
  }
  for await (const m of sub) if (parseBlock(m.data, {}).lastSeq >= ctx.lastSeq) break;
  log.close();
});
test.after(async (ctx) => {
  await ctx.sealer?.kill();
  for (const nc of [ctx.app, ctx.auditor, ctx.sealerUser, ctx.ops]) await nc?.close().catch(() => {});
  await ctx.nats?.stop();
});

async function ledgerMessages(jsm: JetStreamManager): Promise<number> {
  return (await jsm.streams.info(LEDGER_STREAM)).state.messages;
}

/** Each write must fail with `pattern`, and LEDGER must hold the same messages afterwards. */
async function refused(ctx: Ctx, what: string, write: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  const jsm = await jetstreamManager(ctx.ops);
  const before = await ledgerMessages(jsm);
  try {
    await write();
  } catch (err) {
    assert.match((err as Error).message, pattern, `${what}: ${(err as Error).message}`);
    assert.is(await ledgerMessages(jsm), before, `${what} changed LEDGER`);
    return;
  }
  assert.unreachable(`${what} was allowed`);
}

const DENIED = /Permissions Violation/;

test('the app user appends events but cannot write, delete, purge or change the ledger', async (ctx) => {
  const js = jetstream(ctx.app, { timeout: 3000 });
  const jsm = await jetstreamManager(ctx.app, { timeout: 3000 });
  await refused(ctx, 'app publishes a block', () => js.publish(ledgerSubject(ctx.tenant), '{}'), DENIED);
  await refused(ctx, 'app publishes a block for a new tenant', () => js.publish(ledgerSubject('fresh-tenant'), '{}'), DENIED);
  await refused(ctx, 'app publishes a checkpoint', () => js.publish('ledger-checkpoint', '{}'), DENIED);
  await refused(ctx, 'app publishes a key record', () => js.publish('ledger-keys', '{}'), DENIED);
  await refused(ctx, 'app deletes a block', () => jsm.streams.deleteMessage(LEDGER_STREAM, 1), DENIED);
  await refused(ctx, 'app purges LEDGER', () => jsm.streams.purge(LEDGER_STREAM), DENIED);
  await refused(
    ctx,
    'app lifts deny_delete',
    async () => {
      const info = await (await jetstreamManager(ctx.ops)).streams.info(LEDGER_STREAM);
      return jsm.streams.update(LEDGER_STREAM, { ...info.config, deny_delete: false, deny_purge: false });
    },
    DENIED,
  );
  await refused(ctx, 'app deletes LEDGER', () => jsm.streams.delete(LEDGER_STREAM), DENIED);
  await refused(ctx, 'app deletes an event', () => jsm.streams.deleteMessage(EVENTS_STREAM, ctx.lastSeq), DENIED);
  await refused(ctx, "app deletes the sealer's consumer", () => jsm.consumers.delete(EVENTS_STREAM, 'stk-sealer'), DENIED);
  await refused(ctx, "app deletes a partition sealer's consumer", () => jsm.consumers.delete(EVENTS_STREAM, 'stk-sealer-p7'), DENIED);
  await refused(
    ctx,
    "app re-creates a partition sealer's consumer",
    () => jsm.consumers.add(EVENTS_STREAM, { durable_name: 'stk-sealer-p3', ack_policy: AckPolicy.All, filter_subject: 'ev.3.>' }),
    DENIED,
  );
  await refused(
    ctx,
    'app shrinks EVENTS to drop events',
    async () => {
      const info = await jsm.streams.info(EVENTS_STREAM);
      return jsm.streams.update(EVENTS_STREAM, { ...info.config, max_msgs: 1, discard: DiscardPolicy.Old });
    },
    DENIED,
  );
  await refused(ctx, "app takes a sealer's partition lease", () => js.publish('$KV.stk-leases-sealer.p.0', 'app'), DENIED);
  await refused(
    ctx,
    "app takes over a sealer worker's consumer (unfiltered, under a partition's name)",
    () => jsm.consumers.add(EVENTS_STREAM, { durable_name: 'stk-sealer-p0', ack_policy: AckPolicy.All }),
    DENIED,
  );
  await refused(ctx, "app moves a partition's sealed floor ahead", () => js.publish('$KV.stk-sealer.floor.p0', '999999'), DENIED);
});

test('the auditor is read-only, the sealer writes no events, and even ops cannot delete or purge blocks', async (ctx) => {
  const aud = jetstream(ctx.auditor, { timeout: 3000 });
  const audm = await jetstreamManager(ctx.auditor, { timeout: 3000 });
  await refused(ctx, 'auditor publishes an event', () => aud.publish(`ev.${ctx.tenant}.finding.x`, '{}'), DENIED);
  await refused(ctx, 'auditor publishes a block', () => aud.publish(ledgerSubject(ctx.tenant), '{}'), DENIED);
  await refused(ctx, 'auditor deletes a block', () => audm.streams.deleteMessage(LEDGER_STREAM, 1), DENIED);
  const sj = jetstream(ctx.sealerUser, { timeout: 3000 });
  const sjm = await jetstreamManager(ctx.sealerUser, { timeout: 3000 });
  await refused(ctx, 'sealer user publishes an event', () => sj.publish(`ev.${ctx.tenant}.finding.x`, '{}'), DENIED);
  await refused(ctx, 'sealer user deletes a block', () => sjm.streams.deleteMessage(LEDGER_STREAM, 1), DENIED);
  await refused(ctx, 'sealer user purges LEDGER', () => sjm.streams.purge(LEDGER_STREAM), DENIED);
  // A stream of its own that sources the key store would copy every key out of reach of its denies:
  // the sealer may create LEDGER and its two KV buckets, nothing else.
  await refused(
    ctx,
    'sealer user creates a stream sourcing the key store',
    () => sjm.streams.add({ name: 'STK_STEAL', subjects: [], sources: [{ name: 'KV_stk-tenant-keys' }] }),
    DENIED,
  );
  await refused(ctx, 'sealer user creates another stream', () => sjm.streams.add({ name: 'STK_OTHER', subjects: ['other.>'] }), DENIED);
  const ops = await jetstreamManager(ctx.ops, { timeout: 3000 });
  const names: string[] = [];
  for await (const n of ops.streams.names()) names.push(n);
  assert.not.ok(names.includes('STK_STEAL') || names.includes('STK_OTHER'), `no stream was made: ${names.join(', ')}`);
  await refused(ctx, 'ops deletes a block', () => ops.streams.deleteMessage(LEDGER_STREAM, 1), /not permitted|denied/i);
  await refused(ctx, 'ops purges LEDGER', () => ops.streams.purge(LEDGER_STREAM), /not permitted|denied/i);
});

test('infra/nats/ledger-auth.conf is exactly what the embedded server runs with (src/nats/auth.ts)', async () => {
  assert.fixture(await readFile(AUTH, 'utf8'), ledgerAuthConfig());
});

test("the separate sealer's own /healthz and /metrics show its lag", async (ctx) => {
  const h = await fetch(`http://${ctx.sealerHttp}/healthz`);
  const body = (await h.json()) as { status: string; checks: { sealer: { ok: boolean; lagEvents: number } } };
  assert.is(h.status, 200, JSON.stringify(body));
  assert.is(body.checks.sealer.ok, true);
  assert.is(typeof body.checks.sealer.lagEvents, 'number');
  const metrics = await (await fetch(`http://${ctx.sealerHttp}/metrics`)).text();
  assert.match(metrics, /^stockade_ledger_lag_events \d+$/m);
  assert.match(metrics, /^stockade_ledger_blocks_total [1-9]\d*$/m);
});

test('the auditor verifies and exports with read-only access', async (ctx) => {
  const env = { STOCKADE_NATS_USER: 'auditor', STOCKADE_NATS_PASS: PASS.auditor };
  const v = runCli(['ledger', 'verify', '--tenant', ctx.tenant, '--nats-url', ctx.nats.url], env);
  assert.is(await v.exited, 0, v.lines.join('\n'));
  assert.ok(
    v.lines.some((l) => l.startsWith(`ok ${ctx.tenant}: 5 entries`)),
    v.lines.join('\n'),
  );
  const e = runCli(['ledger', 'export', '--tenant', ctx.tenant, '--out', join(ctx.nats.dir, 'export'), '--nats-url', ctx.nats.url], env);
  assert.is(await e.exited, 0, e.lines.join('\n'));
  assert.ok(
    e.lines.some((l) => l.includes('5 entries')),
    e.lines.join('\n'),
  );
});

test('the application runs as the app user beside the separate sealer (serve without the sealer role)', async (ctx) => {
  const dir = await tempDir();
  const port = await freePort();
  const serve = runCli(['serve', '--data', dir.path, '--role', 'api,projector', '--http', `127.0.0.1:${port}`, '--nats-url', ctx.nats.url], {
    STOCKADE_NATS_USER: 'app',
    STOCKADE_NATS_PASS: PASS.app,
  });
  try {
    await serve.waitFor(/stockade is running/);
    const h = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.is(h.status, 200, await h.text());
    // The separate sealer keeps sealing what the application appends.
    const log = await EventLog.connect(ctx.app);
    const sub = ctx.auditor.subscribe(ledgerSubject(ctx.tenant));
    const seq = (
      await log.appendOrThrow({ tenant: ctx.tenant, aggregateType: 'finding', aggregateId: 'later' }, [{ type: 'finding.created', data: {} }], {
        expectedVersion: 'no_stream',
      })
    ).position;
    log.close();
    for await (const m of sub) if (parseBlock(m.data, {}).lastSeq >= seq) break;
    serve.child.kill('SIGTERM');
    assert.is(await serve.exited, 0, serve.lines.slice(-5).join('\n'));
  } finally {
    await serve.kill();
    await dir.cleanup();
  }
});

test.run();

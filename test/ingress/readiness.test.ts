import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { NatsConnection } from '@nats-io/transport-node';
import { Health } from '../../src/health.ts';
import { IngressFeed } from '../../src/ingress/feed.ts';
import { EventLog } from '../../src/log/mod.ts';
import { createLogger } from '../../src/logger.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { call } from '../../src/agent/client.ts';
import { createTenant, ingressFixture, tlsClient, type IngressFixture } from './fixture.ts';

/**
 * An ingress tells a load balancer whether to send it agents: its `/healthz` answers 200 only while
 * its views hold what the log stored (the same views every agent request waits for), and 503 with
 * Retry-After otherwise, without saying how far the install's log goes.
 */
const test = suite<{ f: IngressFixture; health: Health; nc: NatsConnection; other: EventLog }>('ingress readiness');

test.before(async (ctx) => {
  ctx.health = new Health();
  ctx.f = await ingressFixture({ health: ctx.health });
  // Another process (the operator API) writes through its own connection.
  ctx.nc = await connectNats({ servers: ctx.f.nats.url });
  ctx.other = await EventLog.connect(ctx.nc, { skipEnsureStream: true });
});
test.after(async (ctx) => {
  ctx.other?.close();
  await ctx.nc?.close();
  await ctx.f?.close();
});

test('ready: the views reach what another process stored before the check, and the ops check says where they are', async ({ f, health, other }) => {
  for (let i = 0; i < 5; i++) await createTenant(other);
  const stored = await other.lastPosition();
  const r = await call(tlsClient(f.caPem), f.url, 'GET', '/healthz');
  assert.is(r.status, 200);
  assert.equal(r.body, { status: 'ok' }, 'nothing about the log on the agents’ port');
  const h = await health.run(30_000);
  assert.ok(h.checks['ingress-views']?.ok, JSON.stringify(h.checks));
  // A check that did not wait for the views would answer with a position before what was stored.
  assert.ok((h.checks['ingress-views']!.position as number) >= stored, `views at ${h.checks['ingress-views']!.position}, log at ${stored}`);
});

test('views that have not started are not ready, with the reason', async ({ f }) => {
  const feed = new IngressFeed(f.log, createLogger({ level: 'silent' }));
  const r = await feed.readiness();
  assert.is(r.ok, false);
  assert.match(String(r.error), /not started/);
});

test('views that stopped answer 503 with Retry-After on /healthz and fail the ops check', async ({ f, health }) => {
  const feed = new IngressFeed(f.log, createLogger({ level: 'silent' }));
  await feed.start();
  assert.ok((await feed.readiness()).ok, 'a started feed is ready');
  await feed.close();
  const r = await feed.readiness();
  assert.is(r.ok, false);
  assert.match(String(r.error), /stopped/);

  // The ingress's own views, stopped as when the process is shutting down.
  await f.ingress.views.close();
  const answer = await call(tlsClient(f.caPem), f.url, 'GET', '/healthz');
  assert.is(answer.status, 503);
  assert.equal(answer.body, { status: 'unavailable' });
  assert.is(answer.headers['retry-after'], '1');
  const h = await health.run(30_000);
  assert.is(h.ok, false);
  assert.is(h.checks['ingress-views']?.ok, false);
  assert.is(h.checks.ingress?.ok, true, 'the server still listens: only the views hold agents back');
});

test.run();

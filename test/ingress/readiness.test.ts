import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Health } from '../../src/health.ts';
import { IngressFeed } from '../../src/ingress/feed.ts';
import { createLogger } from '../../src/logger.ts';
import { call } from '../../src/agent/client.ts';
import { createTenant, ingressFixture, tlsClient, type IngressFixture, otherProcess } from './fixture.ts';

/**
 * An ingress tells a load balancer whether to send it agents: its `/healthz` answers 200 only while
 * its views hold what the log stored (the same views every agent request waits for), and 503 with
 * Retry-After otherwise, without saying how far the install's log goes.
 */
const test = suite<{ f: IngressFixture; health: Health; other: Awaited<ReturnType<typeof otherProcess>> }>('ingress readiness');

test.before(async (ctx) => {
  ctx.health = new Health();
  ctx.f = await ingressFixture({ health: ctx.health });
  ctx.other = await otherProcess(ctx.f);
});
test.after(async (ctx) => {
  await ctx.other?.close();
  await ctx.f?.close();
});

test('ready: the views reach what another process stored before the check, and the ops check says where they are', async ({ f, health, other }) => {
  for (let i = 0; i < 5; i++) await createTenant(other.log);
  const stored = await other.log.lastPosition();
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

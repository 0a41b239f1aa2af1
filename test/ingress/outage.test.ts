import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../src/logger.ts';
import { AlertEvents } from '../../commands/alerts/events.ts';
import { alert, createTenant, enroll, heartbeat, ingressFixture, rawCall, tlsClient } from './fixture.ts';

const test = suite('ingress during an event-log outage');

/** An info-level logger whose lines are kept, and a wait for a line matching a pattern. */
function capturedLog() {
  const lines = new PassThrough();
  const seen: string[] = [];
  const waiters: Array<{ re: RegExp; resolve: () => void }> = [];
  lines.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      seen.push(line);
      for (const w of [...waiters])
        if (w.re.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
    }
  });
  const logged = (re: RegExp, timeoutMs = 60_000) =>
    seen.some((l) => re.test(l))
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no log line matching ${re} within ${timeoutMs} ms`)), timeoutMs);
          waiters.push({
            re,
            resolve: () => {
              clearTimeout(timer);
              resolve();
            },
          });
        });
  return { logger: createLogger({ level: 'info', destination: lines }), seen, logged };
}

test('the agent gets 503 with Retry-After, resends the same batch, and its events land once', async () => {
  // The ingress's log lines, to wait for its first 503 instead of sleeping.
  const { logger, logged } = capturedLog();
  const f = await ingressFixture({ logger });
  try {
    const { tenant, secret } = await createTenant(f.log, ['edr']);
    const agent = await enroll(f, secret);
    assert.is((await agent.report([heartbeat()])).status, 202);

    await f.nats.server.stop();
    const sent = agent.report([heartbeat(), alert('during the outage')], 'outage-batch');
    await logged(/"statusCode":503/);
    await f.nats.restart();
    const r = await sent;
    assert.is(r.status, 202);

    const alerts = (await f.log.readTenant(tenant)).flatMap((x) => x.events).filter((e) => e.type === AlertEvents.raised);
    assert.is(alerts.length, 1, 'the batch landed exactly once');
    const before = await f.log.lastPosition();
    assert.is((await agent.report([heartbeat(), alert('during the outage')], 'outage-batch')).status, 202);
    assert.is(await f.log.lastPosition(), before, 'and a late resend adds nothing');
    agent.close();
  } finally {
    await f.close();
  }
});

test('the ingress logs the requests it refuses, not the ones it accepts (STOCKADE_INGRESS_ACCESS_LOG=refusals)', async () => {
  const { logger, seen, logged } = capturedLog();
  const f = await ingressFixture({ logger });
  try {
    const { secret } = await createTenant(f.log, ['edr']);
    const agent = await enroll(f, secret);
    assert.is((await agent.report([heartbeat()], 'accepted-batch')).status, 202);
    const client = tlsClient(f.caPem, agent.state.certPem, agent.state.keyPem);
    const refused = await rawCall(client, f.url, 'POST', '/agent/v1/report', '{"agentId": ');
    client.destroy();
    assert.is(refused.status, 400);
    await logged(/"msg":"agent request refused"/);
    const refusals = seen.filter((l) => l.includes('"msg":"agent request refused"')).map((l) => JSON.parse(l));
    assert.equal(
      refusals.map((r) => [r.method, r.route, r.statusCode]),
      [['POST', '/agent/v1/report', 400]],
    );
    // Nothing per accepted request: neither fastify's "incoming request" nor "request completed".
    assert.is(seen.filter((l) => /"msg":"(incoming request|request completed)"/.test(l)).length, 0);
    agent.close();
  } finally {
    await f.close();
  }
});

test.run();

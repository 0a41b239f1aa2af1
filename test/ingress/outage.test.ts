import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../src/logger.ts';
import { AlertEvents } from '../../commands/alerts/events.ts';
import { alert, createTenant, enroll, heartbeat, ingressFixture } from './fixture.ts';

const test = suite('ingress during an event-log outage');

test('the agent gets 503 with Retry-After, resends the same batch, and its events land once', async () => {
  // The ingress's log lines, to wait for its first 503 instead of sleeping.
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
  const logged = (re: RegExp) => (seen.some((l) => re.test(l)) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ re, resolve })));

  const f = await ingressFixture({ logger: createLogger({ level: 'info', destination: lines }) });
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

test.run();

/**
 * The agent's own health, as report events: started and stopped, its clock skew measured against
 * the server's time in the config answer, and its spool when the ingress was away long enough for
 * the bound to drop batches.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { StkError } from '../../src/errors.ts';
import { PASSWD } from '../agent/identity-fixture.ts';
import { type EdrStack, edrStack, fastSettings, type Proc, startStockade, until } from './fixture.ts';

const test = suite('agent health: clock skew and spool');
let s: EdrStack;
let agent: Proc | null = null;

test.before(async () => {
  // The server's clock ten minutes behind the agent's.
  s = await edrStack({ host: '127.0.0.1', products: ['identity'], serverClockOffsetMs: -600_000 });
  await fastSettings(s, { localAccounts: { intervalMs: 600 } });
});
test.after(async () => {
  await agent?.kill();
  await s?.close();
});

test('a skewed clock is reported with its size; a bounded spool reports what it had to drop', async () => {
  const { dir, agentId } = await s.enrollAgent('health');
  const root = await s.hostRoot('health');
  // A spool of 4 KiB: twelve batches of account changes (about 500 bytes each, more with the
  // agent's own health reports) are well past what it holds, however the collections fall.
  agent = startStockade(['agent', 'run', '--dir', dir, '--host-root', root, '--spool-max-bytes', '4096']);
  await agent.waitFor(/"agent running"/);
  const skew = await until('the clock skew on the host', async () => (await s.api('GET', `/hosts/${agentId}`)).body.health?.skewSeconds);
  assert.ok(skew > 590 && skew < 610, `skew ${skew}`);
  assert.match((await agent.waitFor(/"clock skew"/)) ?? '', /"skewSeconds":(59\d|60\d)/);

  await s.ingress.close();
  // Every collection adds an account: many batches while the ingress is away.
  for (let i = 0; i < 12; i++) {
    const from = agent.lines.length;
    const extra = Array.from({ length: i + 1 }, (_, k) => `away${k}:x:${3000 + k}:100:${'x'.repeat(400)}:/home/away${k}:/bin/sh`).join('\n');
    await writeFile(join(root, 'etc/passwd'), `${PASSWD}${extra}\n`);
    await agent.waitFor(/"collected".*"local-accounts".*"items":[1-9]/, { from });
  }
  await s.restartIngress();
  const spool = await until('the spool report', async () => (await s.api('GET', `/hosts/${agentId}`)).body.health?.spool);
  assert.ok(spool.droppedBatches > 0, JSON.stringify(spool));
  assert.ok(spool.droppedItems >= spool.droppedBatches);
  assert.ok(spool.diskBytes <= 4096);
});

test('a 503 with Retry-After holds the batch back for the time the ingress asked, then it goes through once', async () => {
  let refusals = 3;
  const busy = await edrStack({
    host: '127.0.0.1',
    products: [],
    backpressure: {
      async admit() {
        if (refusals-- > 0) throw new StkError('STK_ERR_UNAVAILABLE', 'shedding load', { retryAfterSeconds: 1 });
      },
    },
  });
  let proc: Proc | null = null;
  try {
    await busy.admin('PUT', '/agent-config', { configIntervalMs: 500, heartbeatIntervalMs: 60_000, commandPollMs: 60_000 });
    const { dir, agentId } = await busy.enrollAgent('busy');
    proc = startStockade(['agent', 'run', '--dir', dir, '--host-root', await busy.hostRoot('busy')]);
    const deferred = JSON.parse(await proc.waitFor(/ingress unavailable; batch kept in the spool/));
    assert.equal([deferred.status, deferred.retryInMs], [503, 1000]);
    await proc.waitFor(/"heartbeat"/);
    const waits = proc.lines.filter((l) => l.includes('batch kept in the spool')).map((l) => JSON.parse(l));
    assert.equal(
      waits.map((w) => [w.status, w.retryInMs]),
      [
        [503, 1000],
        [503, 1000],
        [503, 1000],
      ],
    );
    // The first batch (heartbeat and `started`) was written once, after the three refusals.
    const host = await until('the started report', async () => (await busy.api('GET', `/hosts/${agentId}`)).body.health?.startedAt);
    assert.ok(host);
  } finally {
    await proc?.kill();
    await busy.close();
  }
});

test.run();

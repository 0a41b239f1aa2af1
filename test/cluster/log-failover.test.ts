import { jetstreamManager } from '@nats-io/jetstream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats } from '../../src/nats/connect.ts';
import { EventLog, EVENTS_STREAM } from '../../src/log/mod.ts';
import { isStkError } from '../../src/errors.ts';
import { newId } from '../../src/ids.ts';
import { clusterFixture } from '../helpers/nats.ts';

type Ctx = { cluster: Awaited<ReturnType<typeof clusterFixture>>; nc: NatsConnection; log: EventLog };
const test = suite<Ctx>('3-node cluster: event log failover');

test.before(async (ctx) => {
  ctx.cluster = await clusterFixture();
  ctx.nc = await connectNats({ servers: ctx.cluster.urls, name: 'failover-test' });
  ctx.log = await EventLog.connect(ctx.nc, { replicas: 3, publishTimeoutMs: 1500 });
});
test.after(async (ctx) => {
  ctx.log?.close();
  await ctx.nc?.close();
  await ctx.cluster?.stopAll();
});

test('killing the EVENTS leader under steady ingest loses no acknowledged event and duplicates none', async ({ cluster, log, nc: ctxNc }) => {
  const tenant =
    'failover-' +
    newId()
      .slice(0, 6)
      .toLowerCase()
      .replace(/[^a-z0-9]/g, 'x');
  const acked = new Map<string, number>();
  let attempts = 0;
  let stop = false;
  let killedAt = 0;
  let lastAckAt = 0;
  let gapMs = 0;

  // A writer that behaves as Stockade's writers must: on a transient failure it retries the
  // same event id (idempotent), so a lost ack can never become a lost or a doubled event.
  const writer = async (w: number): Promise<void> => {
    for (let i = 0; !stop; i++) {
      const id = `w${w}-${i}-${newId().slice(0, 8)}`;
      const stream = { tenant, aggregateType: 'alert', aggregateId: id };
      for (;;) {
        attempts++;
        try {
          const r = await log.appendOrThrow(stream, [{ id, type: 'alert.raised', data: { w, i } }], { expectedVersion: 'no_stream' });
          acked.set(id, r.position);
          const now = Date.now();
          // The outage as a client sees it: the longest pause between two acks after the kill.
          if (killedAt) gapMs = Math.max(gapMs, now - Math.max(lastAckAt, killedAt));
          lastAckAt = now;
          break;
        } catch (err) {
          if (!isStkError(err, 'STK_ERR_LOG_UNAVAILABLE')) throw err;
          // Back off between retries while a new leader is elected (a client's retry policy, not test timing).
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
  };
  const writers = Array.from({ length: 4 }, (_, w) => writer(w));

  const waitForAcks = (n: number): Promise<void> =>
    new Promise((resolve) => {
      const check = (): void => (acked.size >= n ? resolve() : void setImmediate(check));
      check();
    });
  await waitForAcks(300);
  const info = await (await jetstreamManager(ctxNc)).streams.info(EVENTS_STREAM);
  const leaderName = info.cluster?.leader;
  assert.ok(leaderName, 'stream has a leader');
  const leaderIndex = cluster.servers.findIndex((s) => s.options.serverName === leaderName);
  assert.ok(leaderIndex >= 0);
  const before = acked.size;
  killedAt = Date.now();
  await cluster.servers[leaderIndex]!.kill();
  await waitForAcks(before + 300);
  stop = true;
  await Promise.all(writers);

  console.log(`    leader ${leaderName} killed; publishing resumed after ${gapMs} ms; ${acked.size} acked in ${attempts} attempts`);

  const records = await log.readTenant(tenant);
  const seen = new Map<string, number>();
  for (const r of records) seen.set(r.events[0]!.id, (seen.get(r.events[0]!.id) ?? 0) + 1);
  const lost = [...acked.keys()].filter((id) => !seen.has(id));
  const dups = [...seen.entries()].filter(([, n]) => n > 1);
  assert.equal(lost, [], 'no acknowledged event lost');
  assert.equal(dups, [], 'no event stored twice');
  assert.is(records.length, acked.size);
  for (const r of records) assert.is(acked.get(r.events[0]!.id), r.position);

  const after = await (await jetstreamManager(ctxNc)).streams.info(EVENTS_STREAM);
  assert.is.not(after.cluster?.leader, leaderName, 'a new leader was elected');
  await cluster.restart(leaderIndex);
});

test.run();

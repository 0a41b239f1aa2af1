import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { NatsConnection } from '@nats-io/transport-node';
import { Keyring } from '../../src/ledger/keys.ts';
import { SealerGroup } from '../../src/ledger/group.ts';
import { ledgerStatus } from '../../src/ledger/status.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { EventLog, Streams } from '../../src/log/mod.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { clusterFixture, tempDir } from '../helpers/nats.ts';
import { freshTenant, quiet } from '../ledger/fixture.ts';
import { loadConfig } from '../../src/config/mod.ts';
import { newId } from '../../src/ids.ts';
import { retryTransient } from '../../src/log/retry.ts';

/**
 * After a node of a 3-node cluster dies, nats-server 2.9 keeps placing about one new consumer in
 * three on the dead peer, and such a create never answers. Every read that makes a consumer (a
 * scan, a durable consumer reset, a KV listing) must still get through, and a sealer whose node
 * died must resume sealing — which it did not, for minutes, when each of those waited out a full
 * timeout once and gave up (the stalled failover of issue 15).
 */
const test = suite('3-node cluster: consumers and sealing after a node is lost');

test('scans, consumer resets and sealing keep working while a node stays dead', async () => {
  const cluster = await clusterFixture();
  const dir = await tempDir('stk-node-loss-');
  const ncs: NatsConnection[] = [];
  let group: SealerGroup | null = null;
  try {
    // The sealer's connection prefers node 0, the one that will die.
    const snc = await connectNats({ servers: cluster.urls });
    ncs.push(snc);
    const streams = (await Streams.open(snc)).withTimeout(10_000);
    const anc = await connectNats({ servers: [cluster.urls[1]!, cluster.urls[2]!] });
    ncs.push(anc);
    const log = await EventLog.connect(anc, { replicas: 3, transientRetryMs: 30_000 });
    const ledger = loadConfig({ data: dir.path }, {}).ledger;
    group = await SealerGroup.start({
      streams,
      keyring: await Keyring.open(`${dir.path}/keys`, { create: true }),
      logger: quiet,
      ledger: { ...ledger, blockMaxMs: 50 },
      replicas: 3,
      workerId: 'w1',
    });
    const tenant = freshTenant('loss');
    const append = async (n: number): Promise<number> => {
      let last = 0;
      for (let i = 0; i < n; i++) {
        last = (
          await log.appendOrThrow({ tenant, aggregateType: 'alert', aggregateId: newId() }, [{ type: 'alert.raised', data: { i } }], {
            expectedVersion: 'no_stream',
          })
        ).position;
      }
      return last;
    };
    await group.waitSealed(await append(5));

    await cluster.servers[0]!.kill();
    // Once the streams have leaders again (an election, longer on a loaded machine)…
    const deadline = Date.now() + 120_000;
    while ((await streams.last('LEDGER', `ledger.${tenant}`).catch(() => null)) === null) {
      if (Date.now() > deadline) throw new Error('LEDGER has no leader two minutes after a node died');
      await new Promise((r) => setTimeout(r, 100)); // between polls of the leader
    }
    // …every read that makes a consumer gets through, whichever peer the server places it on.
    for (let round = 0; round < 12; round++) {
      let n = 0;
      for await (const _ of streams.scan('LEDGER', { filter: `ledger.${tenant}` })) n++;
      assert.ok(n >= 1, `round ${round}: the scan read the tenant's blocks`);
      await streams.resetConsumer('EVENTS', { name: `probe-${round}`, filter: 'ev.>', ackPolicy: 'all', ackWaitMs: 30_000, maxAckPending: 10 }, 0);
    }
    // Sealing goes on: what is appended now is sealed (leases may move meanwhile, so the chain
    // itself is watched), and the chain verifies.
    await append(5);
    const until = Date.now() + 120_000;
    while ((await ledgerStatus(tenant, { streams }).catch(() => null))?.height !== 10) {
      if (Date.now() > until) throw new Error('the sealer did not resume within two minutes of losing its node');
      await new Promise((r) => setTimeout(r, 100)); // between polls of the chain
    }
    const v = await verifyLedger({ streams, tenants: [tenant] });
    assert.ok(v.ok, JSON.stringify(v.tenants[0]!.break));
    assert.is(v.tenants[0]!.entries, 10);
  } finally {
    await group?.close().catch(() => {});
    for (const nc of ncs) await nc.close().catch(() => {});
    await cluster.stopAll();
    await dir.cleanup();
  }
});

test('a scan right after a node comes back reads to the end of the stream, not to the end of the lagging replica', async () => {
  const cluster = await clusterFixture();
  const nc = await connectNats({ servers: cluster.urls });
  try {
    const streams = await Streams.open(nc, { retryMs: 30_000 });
    await streams.ensureStream({ name: 'LAG', subjects: ['lag.>'], replicas: 3 });
    const body = new Uint8Array(200);
    // Through the election that follows the kill: the same message id again is a no-op.
    const publish = (subject: string, msgId: string) => retryTransient(() => streams.publish(subject, body, { msgId }), 60_000);
    for (let i = 0; i < 100; i++) await publish('lag.a', `a${i}`);
    await cluster.servers[2]!.kill();
    for (let i = 0; i < 3000; i++) await publish(i % 2 ? 'lag.a' : 'lag.b', `b${i}`);
    await cluster.restart(2);
    // A scan's consumer may run on the node that just came back, which says "nothing pending"
    // before it holds what the leader holds.
    const short: number[] = [];
    for (let r = 0; r < 20; r++) {
      let n = 0;
      await streams.scanEach('LAG', {}, () => {
        n++;
      });
      let a = 0;
      for await (const _ of streams.scan('LAG', { filter: 'lag.a' })) a++;
      if (n !== 3100 || a !== 1600) short.push(r);
    }
    assert.equal(short, [], 'scans that ended before the end of the stream');
  } finally {
    await nc.close().catch(() => {});
    await cluster.stopAll();
  }
});

test.run();

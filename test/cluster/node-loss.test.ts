import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { NatsConnection } from '@nats-io/transport-node';
import { Keyring } from '../../src/ledger/keys.ts';
import { SealerGroup } from '../../src/ledger/group.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { EventLog, Streams } from '../../src/log/mod.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { clusterFixture, tempDir } from '../helpers/nats.ts';
import { freshTenant, quiet } from '../ledger/fixture.ts';
import { loadConfig } from '../../src/config/mod.ts';
import { newId } from '../../src/ids.ts';

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
    for (let round = 0; round < 12; round++) {
      let n = 0;
      for await (const _ of streams.scan('LEDGER', { filter: `ledger.${tenant}` })) n++;
      assert.ok(n >= 1, `round ${round}: the scan read the tenant's blocks`);
      await streams.resetConsumer('EVENTS', { name: `probe-${round}`, filter: 'ev.>', ackPolicy: 'all', ackWaitMs: 30_000, maxAckPending: 10 }, 0);
    }
    // Sealing goes on: what is appended now is sealed, and the chain verifies.
    const last = await append(5);
    await group.waitSealed(last);
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

test.run();

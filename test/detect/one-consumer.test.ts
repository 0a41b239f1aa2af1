import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { once } from 'node:events';
import { agentDecider } from '../../commands/agents/decider.ts';
import type { AgentHeartbeat } from '../../commands/agents/events.ts';
import { loadPack } from '../../src/detect/pack.ts';
import { detectorConsumers } from '../../src/detect/partition.ts';
import { DETECTOR_ACK_MS, Detector, detectorEventsConsumerName } from '../../src/detect/workers.ts';
import { execute } from '../../src/domain/execute.ts';
import { EVENT_PARTITIONS, EVENTS_STREAM, partitionFilter, partitionOf } from '../../src/log/mod.ts';
import { createLogger } from '../../src/logger.ts';
import { openInstallBox } from '../../src/notify/install-box.ts';
import { AGENT_ACTOR, createTenant, enrollAgent, freshTenant } from '../helpers/events.ts';
import { detectFixture } from './fixture.ts';
import { withDeadline } from '../helpers/deadline.ts';

/**
 * The detector reads EVENTS through one consumer per process, whatever number of partitions it
 * holds; a partition taken over from a stopped process is read again from its checkpoint.
 */
const test = suite('detector: one EVENTS consumer per process');

async function beat(log: Parameters<typeof execute>[0], tenant: string, agentId: string, agentStartedAt: string): Promise<number> {
  const heartbeat = { inventory: null, agentStartedAt, agentTime: new Date().toISOString() } as AgentHeartbeat;
  return (await execute(log, { tenant, id: agentId }, agentDecider, { kind: 'heartbeat', heartbeat }, { actor: AGENT_ACTOR(agentId) })).position;
}

test('one consumer for all partitions; the per-partition ones of before are gone; a partition taken over is read from its checkpoint', async () => {
  const f = await detectFixture({ leaseMs: 1500 }, async (log) => {
    // An install from before: a per-partition EVENTS consumer of the detector.
    await log.streams.resetConsumer(
      EVENTS_STREAM,
      { name: detectorConsumers(3).events, filter: partitionFilter(3), ackPolicy: 'all', ackWaitMs: 60_000, maxAckPending: 100 },
      0,
    );
  });
  let other: Detector | null = null;
  try {
    while (f.detector.partitions.length < EVENT_PARTITIONS) await withDeadline(once(f.detector, 'partitions'), 'all partitions');
    const names = (await f.log.streams.consumers(EVENTS_STREAM)).map((c) => c.name).filter((n) => n.startsWith('stk-detector'));
    assert.equal(names, ['stk-detector-ev-w-detector-test']);

    // A second process takes half the partitions; then it stops, and the first takes them back.
    other = await Detector.start({
      log: f.log,
      streams: f.log.streams,
      pack: await loadPack(),
      box: await openInstallBox(f.log.streams),
      transport: { dashboardBaseUrl: 'https://stockade.example.com', network: { allowLoopback: true }, timeoutMs: 5000 },
      logger: createLogger({ level: 'silent' }),
      clock: () => f.now(),
      tickMs: 0,
      checkpointMs: 0,
      leaseMs: 1500,
      workerId: 'detector-other',
    });
    while (other.partitions.length === 0 || f.detector.partitions.length + other.partitions.length !== EVENT_PARTITIONS) {
      await withDeadline(Promise.race([once(other, 'partitions'), once(f.detector, 'partitions')]), 'a split');
    }
    let tenant = freshTenant('oc');
    while (!other.partitions.includes(partitionOf(tenant))) tenant = freshTenant('oc');
    await createTenant(f.log, tenant);
    const { agentId } = await enrollAgent(f.log, tenant, 'oc-01');
    const p = partitionOf(tenant);
    const first = await beat(f.log, tenant, agentId, '2026-03-01T08:00:00.000Z');
    await withDeadline(other.worker(p)!.waitEvents(first), 'the other process to read the first start');
    await other.close();
    other = null;
    // Written while nobody holds the partition: the first process reads it after taking it over.
    const restart = await beat(f.log, tenant, agentId, '2026-03-01T09:00:00.000Z');
    while (!f.detector.partitions.includes(p)) await withDeadline(once(f.detector, 'partitions'), 'the partition back');
    await f.settled(tenant, { events: restart });
    const rules = (await f.alerts(tenant)).map((a) => (a.events[0]!.data as { rule: string }).rule);
    const pack = await loadPack();
    const restarted = pack.find((r) => r.file === 'agent_health_restarted_unexpectedly.yml')!.id;
    assert.equal(rules, [restarted], 'the restart written between the two owners is seen, once');
  } finally {
    await other?.close();
    await f.cleanup();
  }
});

test('caught up with a trickle, the consumer acks about once a second, not once a record; what it handled is acked when it stops', async () => {
  const f = await detectFixture({});
  try {
    while (f.detector.partitions.length < EVENT_PARTITIONS) await withDeadline(once(f.detector, 'partitions'), 'all partitions');
    const tenant = freshTenant('ack');
    await createTenant(f.log, tenant);
    const { agentId } = await enrollAgent(f.log, tenant, 'ack-01');
    const worker = f.detector.worker(partitionOf(tenant))!;
    const acks = () => f.log.streams.calls.snapshot().ack;
    const before = acks();
    const started = Date.now();
    // One record at a time, each handled before the next is written: every one arrives caught up.
    let last = 0;
    const RECORDS = 20;
    for (let i = 0; i < RECORDS; i++) {
      last = await beat(f.log, tenant, agentId, '2026-03-01T08:00:00.000Z');
      await withDeadline(worker.waitEvents(last), `record ${i} handled`);
    }
    const seconds = (Date.now() - started) / 1000;
    const made = acks() - before;
    // One ack a record before; now at most one per DETECTOR_ACK_MS of the time the records took (and the one owed).
    assert.ok(made <= Math.ceil(seconds / (DETECTOR_ACK_MS / 1000)) + 1 && made < RECORDS, `${made} acks for ${RECORDS} records in ${seconds.toFixed(1)} s`);
    // Nothing handled is left unacked when the detector stops: the floor is the last record.
    await f.detector.close();
    const floor = (await f.log.streams.consumer(EVENTS_STREAM, detectorEventsConsumerName('detector-test')))?.ackFloor;
    assert.equal(floor, last);
  } finally {
    await f.cleanup();
  }
});

test.run();

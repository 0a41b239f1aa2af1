import { connectNats } from '../src/nats/connect.ts';
import { EVENTS_STREAM, eventSubject, EventLog, partitionFilter, type Consumption, type Delivery } from '../src/log/mod.ts';
import { newId } from '../src/ids.ts';
import { cpuSeconds } from './load-agents.ts';
import { natsFixture, report } from './util.ts';

const RATE = 2_000;
const SECONDS = 10;
const TENANTS = 8;
const PARTITIONS = 16;

/**
 * What the structure of the consumers costs nats-server per stored message (nats-server 2.9: a
 * filtered consumer evaluates every message of the stream). The same messages, at the same rate,
 * read by the roles of one install in two shapes: a durable consumer per partition for the
 * sealer and the detector (16 + 16, filtered `ev.<p>.>`) next to the projector's unfiltered one,
 * against one unfiltered consumer per role process that dispatches by the subject's partition
 * token. Every consumer acks its deliveries (ack-all, every 256) as the workers do.
 */
export async function benchConsumers(): Promise<void> {
  const results: Record<string, number> = {};
  for (const shape of ['per-partition', 'per-process'] as const) {
    const nats = await natsFixture();
    const nc = await connectNats({ servers: nats.url });
    const log = await EventLog.connect(nc);
    const feeds: Array<Consumption<Delivery>> = [];
    try {
      const names: Array<{ name: string; filter: string }> = [{ name: 'projector_x', filter: '' }];
      if (shape === 'per-partition') {
        for (let p = 0; p < PARTITIONS; p++)
          names.push({ name: `sealer-p${p}`, filter: partitionFilter(p) }, { name: `detector-p${p}`, filter: partitionFilter(p) });
      } else {
        names.push({ name: 'sealer-w', filter: '' }, { name: 'detector-w', filter: '' });
      }
      for (const n of names) {
        await log.streams.resetConsumer(EVENTS_STREAM, { name: n.name, filter: n.filter, ackPolicy: 'all', ackWaitMs: 30_000, maxAckPending: 100_000 }, 0);
        const feed = await log.streams.consume(EVENTS_STREAM, n.name, { max: 1024 });
        feeds.push(feed);
        void (async () => {
          let k = 0;
          for await (const m of feed) if (++k % 256 === 0 || m.info.pending === 0) m.ack();
        })();
      }
      const tenants = Array.from({ length: TENANTS }, (_, i) => `bench-c-${i}`);
      const body = new TextEncoder().encode(
        JSON.stringify({ format: 1, events: [{ id: 'x', type: 'agent.heartbeat', data: { inventory: { os: 'linux' } } }] }),
      );
      const cpu0 = cpuSeconds({ nats: nats.server.pid });
      const t0 = Date.now();
      let sent = 0;
      while (Date.now() - t0 < SECONDS * 1000) {
        const due = Math.floor(((Date.now() - t0) / 1000) * RATE);
        const batch: Promise<unknown>[] = [];
        for (; sent < due; sent++) {
          const t = tenants[sent % TENANTS]!;
          batch.push(log.streams.publish(eventSubject({ tenant: t, aggregateType: 'agent', aggregateId: `a${sent % 500}` }), body, { msgId: newId() }));
        }
        await Promise.all(batch);
        await new Promise((r) => setTimeout(r, 5));
      }
      const cpu = cpuSeconds({ nats: nats.server.pid }).nats! - cpu0.nats!;
      results[shape] = (cpu * 1e6) / sent;
      console.log(
        `  ${shape.padEnd(14)} ${names.length} durable consumers: nats-server ${cpu.toFixed(2)} CPU s for ${sent} messages (${Math.round(results[shape]!)} µs per message)`,
      );
    } finally {
      for (const f of feeds) await f.close();
      log.close();
      await nc.close();
      await nats.stop();
    }
  }
  report('nats-server CPU per message, one consumer per role process', results['per-process']!, 'µs', {
    label: 'one per partition',
    value: results['per-partition']!,
  });
}

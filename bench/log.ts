import { jetstream } from '@nats-io/jetstream';
import { EventLog, encodeRecord, type EventEnvelope } from '../src/log/mod.ts';
import { connectNats } from '../src/nats/connect.ts';
import { newId } from '../src/ids.ts';
import { measure, natsFixture, report } from './util.ts';

const N = 20_000;
const IN_FLIGHT = 1_000;
const data = { hostname: 'ws-0042.corp.example', process: 'powershell.exe', sha256: 'a'.repeat(64), severity: 'high', rule: 'edr.suspicious-child' };

/** (a) raw JetStream publish, (b) append across many aggregates, (c) sequential appends to one. */
export async function benchLog(): Promise<void> {
  const nats = await natsFixture();
  const nc = await connectNats({ servers: nats.url });
  try {
    const log = await EventLog.connect(nc);
    const js = jetstream(nc);
    // The same bytes as one append writes, so the reference differs only by what the log adds.
    const sample: EventEnvelope = {
      id: newId(),
      type: 'alert.raised',
      tenant: 'bench',
      aggregate: { type: 'alert', id: newId() },
      version: 1,
      at: new Date().toISOString(),
      actor: { kind: 'agent', id: newId() },
      causationId: null,
      correlationId: null,
      schema: 1,
      data,
    };
    const bytes = encodeRecord([sample]);
    console.log(`  event record: ${bytes.length} bytes; ${N} events, ${IN_FLIGHT} in flight`);

    // Warm up both paths so neither pays for connection set-up or JIT.
    await measure(2_000, IN_FLIGHT, (i) => js.publish(`ev.0.warm.raw.r${i}`, bytes));
    await measure(2_000, IN_FLIGHT, () =>
      log.append({ tenant: 'warm', aggregateType: 'alert', aggregateId: newId() }, [{ type: 'alert.raised', data }], { expectedVersion: 'no_stream' }),
    );

    const raw = await measure(N, IN_FLIGHT, (i) => js.publish(`ev.0.bench.raw.r${i}`, bytes));
    const appends = await measure(N, IN_FLIGHT, () =>
      log.append({ tenant: 'bench', aggregateType: 'alert', aggregateId: newId() }, [{ type: 'alert.raised', data }], { expectedVersion: 'no_stream' }),
    );
    const one = { tenant: 'bench', aggregateType: 'alert', aggregateId: newId() };
    let version = 0;
    const sequential = await measure(3_000, 1, async () => {
      const r = await log.appendOrThrow(one, [{ type: 'alert.updated', data }], { expectedVersion: version });
      version = r.version;
    });
    const rawSeq = await measure(3_000, 1, (i) => js.publish(`ev.0.bench.rawseq.r${i % 10}`, bytes));

    report('(a) raw JetStream publish, many in flight', raw, 'events/s');
    report('(b) append, single-event commits, many aggregates in flight', appends, 'events/s', { label: '(a)', value: raw, goal: 0.8 });
    report('(c) sequential appends to one aggregate', sequential, 'events/s', { label: 'raw awaited publish', value: rawSeq });
  } finally {
    await nc.close();
    await nats.stop();
  }
}

import { jetstream } from '@nats-io/jetstream';
import { join } from 'node:path';
import { backupStreams } from '../src/backup/backup.ts';
import { restoreStreams } from '../src/backup/restore.ts';
import { newId } from '../src/ids.ts';
import { Keyring } from '../src/ledger/keys.ts';
import { Sealer } from '../src/ledger/sealer.ts';
import { EventLog, EVENTS_STREAM } from '../src/log/mod.ts';
import { createLogger } from '../src/logger.ts';
import { connectNats } from '../src/nats/connect.ts';
import { PRODUCTS } from '../src/domain/products.ts';
import { EvidenceStore } from '../src/evidence/store.ts';
import { storeTelemetryBatch } from '../src/telemetry/ingest.ts';
import { telemetryRoot } from '../src/telemetry/items.ts';
import { telemetryStreamSpec } from '../src/telemetry/stream.ts';
import { processItem } from '../test/edr/items.ts';
import { tempDir, doorOf } from '../test/helpers/nats.ts';
import { measure, natsFixture, report } from './util.ts';

const N = 30_000;
const TENANTS = 10;
const IN_FLIGHT = 1_000;
/** Telemetry items, in sealed batches of this size, and evidence objects of this size. */
const TELEMETRY_ITEMS = 20_000;
const BATCH = 200;
const EVIDENCE = 20;
const EVIDENCE_BYTES = 256 * 1024;
const data = { hostname: 'ws-0042.corp.example', process: 'powershell.exe', sha256: 'a'.repeat(64), severity: 'high', rule: 'edr.suspicious-child' };

/**
 * Online backup of every store (EVENTS, LEDGER, sealed TELEMETRY batches, evidence objects) beside
 * a raw ordered-consumer read of EVENTS alone, and restore (file checks, republish at the original
 * sequences, read-back) beside the log's own append rate of the same events.
 */
export async function benchBackup(): Promise<void> {
  const source = await natsFixture();
  const target = await natsFixture();
  const dir = await tempDir('stk-bench-backup-');
  const nc = await connectNats({ servers: source.url });
  const tnc = await connectNats({ servers: target.url });
  try {
    const log = await EventLog.connect(nc);
    const tenants = Array.from({ length: TENANTS }, (_, i) => `bench-${i}`);
    let last = 0;
    const append = await measure(N, IN_FLIGHT, async (i) => {
      const r = await log.appendOrThrow({ tenant: tenants[i % TENANTS]!, aggregateType: 'alert', aggregateId: newId() }, [{ type: 'alert.raised', data }], {
        expectedVersion: 'no_stream',
      });
      last = Math.max(last, r.position);
    });
    await log.streams.ensureStream(telemetryStreamSpec());
    for (let b = 0; b < TELEMETRY_ITEMS / BATCH; b++) {
      const items = Array.from({ length: BATCH }, (_, i) => processItem(b * BATCH + i));
      const r = await storeTelemetryBatch(
        log,
        { tenant: tenants[b % TENANTS]!, agentId: 'agent-1', products: PRODUCTS },
        { batchId: `b${b}`, merkleRoot: telemetryRoot(items), items },
      );
      last = Math.max(last, r.position);
    }
    const evidence = new EvidenceStore(log.streams);
    for (let i = 0; i < EVIDENCE; i++) await evidence.put(tenants[i % TENANTS]!, `ev-${i}`, Buffer.alloc(EVIDENCE_BYTES, i));
    const sealer = await Sealer.start({
      streams: await doorOf(nc),
      keyring: await Keyring.open(join(dir.path, 'keys'), { create: true }),
      logger: createLogger({ level: 'silent' }),
    });
    await sealer.waitSealed(last);
    await sealer.close();

    let t0 = process.hrtime.bigint();
    let n = 0;
    // The reference: the client's own ordered consumer reading the same records, nothing else.
    const msgs = await (await jetstream(nc).consumers.get(EVENTS_STREAM)).consume({ max_messages: 4096 });
    for await (const m of msgs) {
      n++;
      if (m.seq >= last || m.info.pending === 0) break;
    }
    await msgs.close();
    const raw = n / seconds(t0);

    t0 = process.hrtime.bigint();
    const m = await backupStreams({ streams: await doorOf(nc), out: join(dir.path, 'backup') });
    const backupS = seconds(t0);
    const messages = Object.values(m.streams).reduce((sum, s) => sum + s.messages, 0);
    const objects = Object.values(m.buckets ?? {}).reduce((sum, b) => sum + b.objects.length, 0);
    console.log(
      `  ${m.streams.EVENTS.messages} event records (${(m.streams.EVENTS.bytes / 1e6).toFixed(1)} MB in the file), ${m.streams.LEDGER.messages} ledger messages, ${m.streams.TELEMETRY.messages} telemetry items, ${objects} evidence objects`,
    );
    report('backup of every store, messages/s', messages / backupS, 'msg/s', { label: 'raw ordered read of EVENTS', value: raw });

    t0 = process.hrtime.bigint();
    await restoreStreams({ streams: await doorOf(tnc), from: [join(dir.path, 'backup')] });
    const restoreS = seconds(t0);
    report('restore (check, republish in order, read back), events/s', m.streams.EVENTS.messages / restoreS, 'ev/s', {
      label: `log append, ${IN_FLIGHT} in flight`,
      value: append,
    });
    report('restore, all messages/s', messages / restoreS, 'msg/s');
  } finally {
    await tnc.close().catch(() => {});
    await nc.close().catch(() => {});
    await source.stop();
    await target.stop();
    await dir.cleanup();
  }
}

function seconds(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

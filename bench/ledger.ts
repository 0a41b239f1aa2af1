import { DeliverPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { newId } from '../src/ids.ts';
import { LEDGER_STREAM, parseBlock } from '../src/ledger/format.ts';
import { Keyring } from '../src/ledger/keys.ts';
import { Sealer } from '../src/ledger/sealer.ts';
import { verifyLedger } from '../src/ledger/verify.ts';
import { EventLog, EVENTS_STREAM, encodeRecord, type EventEnvelope } from '../src/log/mod.ts';
import { createLogger } from '../src/logger.ts';
import { connectNats } from '../src/nats/connect.ts';
import { tempDir, doorOf } from '../test/helpers/nats.ts';
import { measure, natsFixture, percentile, report } from './util.ts';

const N = 30_000;
const TENANTS = 10;
const IN_FLIGHT = 1_000;
const LAG_SECONDS = 6;
const data = { hostname: 'ws-0042.corp.example', process: 'powershell.exe', sha256: 'a'.repeat(64), severity: 'high', rule: 'edr.suspicious-child' };
const quiet = createLogger({ level: 'silent' });

/**
 * (a) sealing events/s beside raw JetStream publish of the same events, (b) verify entries/s
 * beside a raw ordered-consumer read of the same streams, (c) sealing lag p99 at a steady 50% of
 * the sealing rate measured in (a). Default block settings (1000 entries / 250 ms).
 */
export async function benchLedger(): Promise<void> {
  const nats = await natsFixture();
  const dir = await tempDir('stk-bench-ledger-');
  const nc = await connectNats({ servers: nats.url });
  try {
    const log = await EventLog.connect(nc);
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const keyring = await Keyring.open(join(dir.path, 'keys'), { create: true });
    const tenants = Array.from({ length: TENANTS }, (_, i) => `bench-${i}`);
    const sample: EventEnvelope = {
      id: newId(),
      type: 'alert.raised',
      tenant: 'bench-0',
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
    console.log(`  event record: ${bytes.length} bytes; ${N} events over ${TENANTS} tenants; blocks of ≤1000 entries / 250 ms`);

    // The reference: the same bytes published raw, into a stream of their own so the sealer never sees them.
    await jsm.streams.add({ name: 'RAW', subjects: ['raw.>'], storage: StorageType.File, retention: RetentionPolicy.Limits });
    await measure(2_000, IN_FLIGHT, (i) => js.publish(`raw.warm.r${i}`, bytes));
    const raw = await measure(N, IN_FLIGHT, (i) => js.publish(`raw.bench.r${i}`, bytes));

    // The backlog to seal, appended through the log (not timed), then one sealer started on it.
    let last = 0;
    await measure(N, IN_FLIGHT, async (i) => {
      const r = await log.appendOrThrow({ tenant: tenants[i % TENANTS]!, aggregateType: 'alert', aggregateId: newId() }, [{ type: 'alert.raised', data }], {
        expectedVersion: 'no_stream',
      });
      last = Math.max(last, r.position);
    });
    const t0 = process.hrtime.bigint();
    const sealer = await Sealer.start({ streams: await doorOf(nc), keyring, logger: quiet });
    await sealer.waitSealed(last);
    const sealing = N / (Number(process.hrtime.bigint() - t0) / 1e9);
    await sealer.close();

    // Verification of every tenant, beside an ordered-consumer pass over the same EVENTS and LEDGER
    // messages; three of each, interleaved, medians compared (this machine's load drifts within a run).
    let entries = 0;
    const verifyRates: number[] = [];
    const readRates: number[] = [];
    for (let round = 0; round < 3; round++) {
      const v0 = process.hrtime.bigint();
      const v = await verifyLedger({ streams: await doorOf(nc), tenants: 'all' });
      const verifySeconds = Number(process.hrtime.bigint() - v0) / 1e9;
      if (!v.ok) throw new Error(`bench chain does not verify: ${JSON.stringify(v.tenants.find((t) => !t.ok)?.break)}`);
      entries = v.tenants.reduce((n, t) => n + t.entries, 0);
      verifyRates.push(entries / verifySeconds);
      const r0 = process.hrtime.bigint();
      await readAll(js, jsm, EVENTS_STREAM, 'ev.>');
      await readAll(js, jsm, LEDGER_STREAM, 'ledger.>');
      readRates.push(entries / (Number(process.hrtime.bigint() - r0) / 1e9));
    }

    report('(a) raw JetStream publish, 1000 in flight', raw, 'events/s');
    report('(a) sealing a backlog (hash, chain, sign blocks, store)', sealing, 'events/s', { label: 'raw publish', value: raw, goal: 0.5 });
    report('(b) raw ordered-consumer read of EVENTS + LEDGER, median of 3', percentile(readRates, 50), 'entries/s');
    report(`(b) ledger verify of ${entries} entries, every tenant, median of 3`, percentile(verifyRates, 50), 'entries/s', {
      label: 'raw read',
      value: percentile(readRates, 50),
      goal: 0.7,
    });

    // Steady load at half the sealing rate: lag = block stored (seen on ledger.>) − append acknowledged.
    // The sealer of (a) left its consumer acked to the end, so the separate sealer starts with no backlog.
    const rate = Math.round(sealing / 2);
    const lag = await steadyLag(nats.url, nc, log, join(dir.path, 'keys'), tenants, rate);
    console.log(
      `  (c) sealing lag at a steady ${rate} events/s (50% of (a)) for ${LAG_SECONDS} s: p50 ${lag.p50.toFixed(0)} ms, p99 ${lag.p99.toFixed(0)} ms, max ${lag.max.toFixed(0)} ms   goal p99 < 1000 ms ${lag.p99 < 1000 ? 'met' : 'NOT met'}`,
    );
  } finally {
    await nc.close();
    await nats.stop();
    await dir.cleanup();
  }
}

/** Reads every message of `filter` with an ordered consumer, doing nothing with them; returns the count. */
async function readAll(js: ReturnType<typeof jetstream>, jsm: Awaited<ReturnType<typeof jetstreamManager>>, stream: string, filter: string): Promise<number> {
  const subjects = (await jsm.streams.info(stream, { subjects_filter: filter })).state.subjects ?? {};
  const total = Object.values(subjects).reduce((a, b) => a + b, 0);
  const consumer = await js.consumers.get(stream, { filter_subjects: filter, deliver_policy: DeliverPolicy.All });
  const messages = await consumer.consume({ max_messages: 2048 });
  let n = 0;
  for await (const m of messages) {
    void m.data;
    if (++n >= total) break;
  }
  await messages.close();
  return n;
}

/**
 * The sealer runs in its own process here, as in separate mode: in this process it would share
 * one thread with the load generator, and the figure would measure the generator.
 */
async function steadyLag(natsUrl: string, nc: Awaited<ReturnType<typeof connectNats>>, log: EventLog, keyDir: string, tenants: string[], rate: number) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', resolve(import.meta.dirname, '../src/cli/main.ts'), 'sealer', '--nats-url', natsUrl, '--key-dir', keyDir, '--log-level', 'info'],
    {
      env: { ...process.env, STOCKADE_LOG_JSON: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    await new Promise<void>((ready, failed) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('sealer is running')) ready();
      });
      child.on('exit', (code) => failed(new Error(`sealer exited with ${code}`)));
    });
    const storedAt = new Map<number, number>();
    let sealedThrough = 0;
    let waiter: { seq: number; resolve: () => void } | null = null;
    const sub = nc.subscribe('ledger.>', {
      callback: (_err, m) => {
        const now = performance.now();
        const b = parseBlock(m.data, {});
        for (const e of b.entries) storedAt.set(e[0], now);
        sealedThrough = Math.max(sealedThrough, b.lastSeq);
        if (waiter && storedAt.has(waiter.seq)) waiter.resolve();
      },
    });
    const ackedAt = new Map<number, number>();
    const tickMs = 10;
    const perTick = (rate * tickMs) / 1000;
    const pending: Promise<unknown>[] = [];
    const start = performance.now();
    let sent = 0;
    let last = 0;
    while (performance.now() - start < LAG_SECONDS * 1000) {
      const due = Math.floor(((performance.now() - start) / tickMs + 1) * perTick);
      for (; sent < due; sent++) {
        pending.push(
          log
            .appendOrThrow({ tenant: tenants[sent % tenants.length]!, aggregateType: 'alert', aggregateId: newId() }, [{ type: 'alert.raised', data }], {
              expectedVersion: 'no_stream',
            })
            .then((r) => {
              ackedAt.set(r.position, performance.now());
              last = Math.max(last, r.position);
            }),
        );
      }
      await new Promise((r) => setTimeout(r, tickMs));
    }
    await Promise.all(pending);
    if (!storedAt.has(last)) await new Promise<void>((r) => (waiter = { seq: last, resolve: r }));
    sub.unsubscribe();
    const lags: number[] = [];
    for (const [seq, t] of ackedAt) {
      const s = storedAt.get(seq);
      if (s !== undefined) lags.push(Math.max(0, s - t));
    }
    return { p50: percentile(lags, 50), p99: percentile(lags, 99), max: Math.max(...lags), sent };
  } finally {
    child.kill('SIGTERM');
  }
}

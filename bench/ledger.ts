import { DeliverPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { newId } from '../src/ids.ts';
import { writeFile } from 'node:fs/promises';
import { operatorApi } from '../src/api/plugin.ts';
import { exportLedger } from '../src/ledger/export.ts';
import { LEDGER_STREAM, entryHash, entryHashes, parseBlock } from '../src/ledger/format.ts';
import { Frontier } from '../src/ledger/tree.ts';
import { FileLeafStore, MerkleTree } from '../src/merkle/mod.ts';
import { apiFixture } from '../test/helpers/api.ts';
import { docBlock, runScript } from '../test/ledger/script.ts';
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
/** The sealer's first seconds (a fresh process compiling its hot paths, every chain's head loaded) are reported apart. */
const WARM_SECONDS = 2;
const data = { hostname: 'ws-0042.corp.example', process: 'powershell.exe', sha256: 'a'.repeat(64), severity: 'high', rule: 'edr.suspicious-child' };
const quiet = createLogger({ level: 'silent' });

/**
 * (a) sealing events/s beside raw JetStream publish of the same events, (b) verify entries/s
 * beside a raw ordered-consumer read of the same streams, (c) sealing lag p99 at a steady 50% of
 * the sealing rate measured in (a) once the sealer is warm (its first seconds printed apart), (d) the tree's cost per 1,000 entries, (e) inclusion proofs
 * served per second, (f) the documented shell script over about 10,000 entries. Default block
 * settings (1000 entries / 250 ms) unless said.
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

    await treeCost();
    await proofsServed();
    await shellVerification(nc, log, keyring, dir.path);

    // Steady load at half the sealing rate. The sealer of (a) left its consumer acked to the end, so
    // the separate sealer starts with no backlog. Lag as the server stamped it: a block's stored time
    // − the stored time of each event in it (the goal); and as this process saw it: the block seen on
    // ledger.> − the append acknowledged, which adds the load generator's own delays (it runs on the
    // same two cores, appending one event at a time).
    const rate = Math.round(sealing / 2);
    const lag = await steadyLag(nats.url, nc, log, join(dir.path, 'keys'), tenants, rate);
    const ms = (l: { p50: number; p99: number; max: number }) => `p50 ${l.p50.toFixed(0)} ms, p99 ${l.p99.toFixed(0)} ms, max ${l.max.toFixed(0)} ms`;
    console.log(
      `  (c) sealing lag at a steady ${rate} events/s (50% of (a)) for ${LAG_SECONDS} s after ${WARM_SECONDS} s of warm-up at a tenth of it, stored to sealed (server times, ${lag.server.n} events): ${ms(lag.server)}   goal p99 < 1000 ms ${lag.server.p99 < 1000 ? 'met' : 'NOT met'}`,
    );
    console.log(`      as the load generator saw it (append acknowledged to block received): ${ms(lag)}`);
    console.log(
      `      the warm-up's ${WARM_SECONDS} s (a sealer process just started, a tenth of the rate, server times, ${lag.warm.n} events): ${ms(lag.warm)}`,
    );
  } finally {
    await nc.close();
    await nats.stop();
    await dir.cleanup();
  }
}

/**
 * (d) What the tree adds to sealing, per 1,000 entries: the chain step alone (one SHA-256 of each
 * entry) beside the chain and tree steps (the entry's leaf, the frontier's node hashes, the root),
 * and the proof server's tree (leaves in a file, the subtree cache) fed the same entries.
 */
async function treeCost(): Promise<void> {
  const rounds = 200;
  const ev = 'e'.repeat(64);
  const chainOnly = (): void => {
    let h = '0'.repeat(64);
    for (let i = 1; i <= 1000; i++) h = entryHash('bench-0', i, h, ev);
  };
  const chainAndTree = (f: Frontier): void => {
    let h = '0'.repeat(64);
    for (let i = 1; i <= 1000; i++) {
      const step = entryHashes('bench-0', f.size + 1, h, ev);
      f.append(step.leaf);
      h = step.head;
    }
    f.root();
  };
  const per1000 = (fn: () => void): number => {
    const t0 = process.hrtime.bigint();
    for (let r = 0; r < rounds; r++) fn();
    return Number(process.hrtime.bigint() - t0) / 1e3 / rounds;
  };
  per1000(chainOnly);
  const a = per1000(chainOnly);
  const frontier = Frontier.empty();
  const b = per1000(() => chainAndTree(frontier));
  const dir = await tempDir('stk-bench-tree-');
  const store = FileLeafStore.open(join(dir.path, 'leaves'));
  const tree = new MerkleTree({ store });
  const leaf = Buffer.alloc(32, 7);
  const c = per1000(() => {
    for (let i = 0; i < 1000; i++) tree.append(leaf);
  });
  store.close();
  await dir.cleanup();
  report('(d) chain step alone, per 1,000 entries', a, 'µs');
  report('(d) chain + tree step (leaf, frontier, root), per 1,000 entries', b, 'µs', { label: 'chain alone', value: a });
  report(`(d) proof server's tree, file-backed, per 1,000 leaves (at ${tree.size.toLocaleString('en-US')})`, c, 'µs');
}

/**
 * (e) Inclusion proofs served by GET …/ledger/proof over loopback HTTP (find the entry, the block,
 * the record, the audit path, the signed head), beside the plainest read of the same API.
 */
async function proofsServed(): Promise<void> {
  const f = await apiFixture({ plugins: [operatorApi] });
  const keys = await tempDir('stk-bench-proof-keys-');
  try {
    const rt = f.stk.runtime;
    const sealer = await Sealer.start({ streams: rt.streams, keyring: await Keyring.open(join(keys.path, 'k'), { create: true }), logger: quiet });
    const tenant = 'proofs';
    await f.tenant(tenant);
    const ids: string[] = [];
    let last = 0;
    for (let i = 0; i < 5000; i++) {
      const r = await rt.log.appendOrThrow({ tenant, aggregateType: 'alert', aggregateId: newId() }, [{ type: 'alert.raised', data }], {
        expectedVersion: 'no_stream',
      });
      if (i % 50 === 0) ids.push(r.events[0]!.id);
      last = r.position;
    }
    await sealer.waitSealed(last);
    await sealer.close();
    const token = await f.token(tenant, 'auditor');
    const get = async (path: string): Promise<void> => {
      const r = await fetch(`${f.url}/api/v1/tenants/${tenant}${path}`, { headers: { authorization: `Bearer ${token}` } });
      if (r.status !== 200) throw new Error(`${path}: ${r.status} ${await r.text()}`);
      await r.arrayBuffer();
    };
    await get(`/ledger/proof?event=${ids[0]}`); // the tree is built from LEDGER at first use
    const plain = await measure(2000, 16, () => get(''));
    const proofs = await measure(2000, 16, (i) => get(`/ledger/proof?event=${ids[i % ids.length]}`));
    report('(e) GET /tenants/:tenant (one read-model document), 16 in flight', plain, 'req/s');
    report('(e) GET …/ledger/proof (5,000-entry tenant), 16 in flight', proofs, 'proofs/s', { label: 'a document read', value: plain });
  } finally {
    await f.cleanup();
    await keys.cleanup();
  }
}

/**
 * (f) The documented shell script (docs/ledger-format.md) over an export of about 10,000 entries:
 * one sha256sum pass, the tree in a pass per level, one openssl per block — with blocks of 100
 * entries, and with blocks of one entry (a quiet install signs nearly every record alone).
 */
async function shellVerification(nc: Awaited<ReturnType<typeof connectNats>>, log: EventLog, keyring: Keyring, base: string): Promise<void> {
  const script = join(base, 'verify-export.sh');
  await writeFile(script, await docBlock('verify-export.sh'), { mode: 0o755 });
  for (const [tenant, n, perBlock] of [
    ['shell-100', 10_000, 100],
    ['shell-1', 1_000, 1],
  ] as const) {
    const sealer = await Sealer.start({
      streams: await doorOf(nc),
      keyring,
      logger: quiet,
      blockMaxEntries: perBlock,
      consumerName: `bench-${tenant}`,
      owns: (t) => t === tenant,
    });
    let last = 0;
    await measure(n, IN_FLIGHT, async () => {
      const r = await log.appendOrThrow({ tenant, aggregateType: 'alert', aggregateId: newId() }, [{ type: 'alert.raised', data }], {
        expectedVersion: 'no_stream',
      });
      last = Math.max(last, r.position);
    });
    await sealer.waitSealed(last);
    await sealer.checkpoint();
    await sealer.close();
    const out = join(base, `export-${tenant}`);
    const m = await exportLedger({ streams: await doorOf(nc), tenant, out });
    const t0 = performance.now();
    const r = await runScript(script, [out]);
    const seconds = (performance.now() - t0) / 1000;
    if (r.code !== 0) throw new Error(`the script refused the bench export: ${r.out}`);
    console.log(
      `  (f) documented shell verification of ${m.height.toLocaleString('en-US')} entries in ${m.blocks.toLocaleString('en-US')} blocks: ${seconds.toFixed(1)} s (${Math.round(m.height / seconds).toLocaleString('en-US')} entries/s, ${((seconds * 1000) / m.blocks).toFixed(1)} ms per block)`,
    );
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
    const warmSeqs = new Set<number>();
    while (performance.now() - start < (WARM_SECONDS + LAG_SECONDS) * 1000) {
      // The warm-up runs at a tenth of the rate: enough to compile the sealer's paths and load every
      // chain, not so much that a cold process starts the measured seconds with a backlog.
      const elapsedMs = performance.now() - start;
      const warming = elapsedMs < WARM_SECONDS * 1000;
      const due = warming
        ? Math.floor((elapsedMs / tickMs + 1) * (perTick / 10))
        : Math.floor((WARM_SECONDS * 1000 * perTick) / tickMs / 10 + ((elapsedMs - WARM_SECONDS * 1000) / tickMs + 1) * perTick);
      for (; sent < due; sent++) {
        pending.push(
          log
            .appendOrThrow({ tenant: tenants[sent % tenants.length]!, aggregateType: 'alert', aggregateId: newId() }, [{ type: 'alert.raised', data }], {
              expectedVersion: 'no_stream',
            })
            .then((r) => {
              ackedAt.set(r.position, performance.now());
              if (warming) warmSeqs.add(r.position);
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
      const s = warmSeqs.has(seq) ? undefined : storedAt.get(seq);
      if (s !== undefined) lags.push(Math.max(0, s - t));
    }
    // The same events by the server's clock: when each was stored in EVENTS and when the block that
    // holds it was stored in LEDGER.
    const streams = await doorOf(nc);
    const first = least(ackedAt.keys());
    const eventAt = new Map<number, number>();
    await streams.scanEach(EVENTS_STREAM, { fromSeq: first, toSeq: last }, (m) => {
      if (ackedAt.has(m.seq)) eventAt.set(m.seq, m.time.getTime());
    });
    const serverLags: number[] = [];
    const warmLags: number[] = [];
    await streams.scanEach(LEDGER_STREAM, { filter: 'ledger.>', fromTime: new Date(least(eventAt.values())) }, (m) => {
      const b = parseBlock(m.data, {});
      for (const e of b.entries) {
        const at = eventAt.get(e[0]);
        if (at !== undefined) (warmSeqs.has(e[0]) ? warmLags : serverLags).push(Math.max(0, m.time.getTime() - at));
      }
    });
    const server = { p50: percentile(serverLags, 50), p99: percentile(serverLags, 99), max: percentile(serverLags, 100), n: serverLags.length };
    const warm = { p50: percentile(warmLags, 50), p99: percentile(warmLags, 99), max: percentile(warmLags, 100), n: warmLags.length };
    return { p50: percentile(lags, 50), p99: percentile(lags, 99), max: percentile(lags, 100), sent, server, warm };
  } finally {
    child.kill('SIGTERM');
  }
}

/** The smallest of many numbers (a spread of a hundred thousand overflows the stack). */
function least(xs: Iterable<number>): number {
  let min = Number.POSITIVE_INFINITY;
  for (const x of xs) if (x < min) min = x;
  return min;
}

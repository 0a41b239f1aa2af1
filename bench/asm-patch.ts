/**
 * Attack-surface and patch figures, each beside a reference measured in the same run:
 * - scan items stored in SCANS and sealed (read back, Merkle root, judged, `scan.completed` and the
 *   findings written) per second, beside a raw publish of the same item bytes to a stream;
 * - 1,000 host inventories of 2,000 packages each recorded through the ingest path (the package
 *   lists into PACKAGES, the inventories into EVENTS), then applied to the read models (a rebuild of the patches model, and of all models), beside a raw ordered read
 *   of the same EVENTS stream.
 */
import { join } from 'node:path';
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { Level } from 'level';
import { PROJECTIONS } from '../projections/index.ts';
import type { PatchInventory } from '../src/agent/patch/inventory.ts';
import { EVENTS_STREAM, EventLog } from '../src/log/mod.ts';
import { createLogger } from '../src/logger.ts';
import { connectNats } from '../src/nats/connect.ts';
import { recordInventory } from '../src/patch/ingest.ts';
import { packagesStreamSpec } from '../src/patch/packages.ts';
import { Projector } from '../src/projector/projector.ts';
import { itemBytes, type ScanItem, sortItems } from '../src/scan/items.ts';
import { storeRunItems } from '../src/scan/runs/items.ts';
import { sealRun } from '../src/scan/runs/seal.ts';
import { scansStreamSpec } from '../src/scan/runs/stream.ts';
import { newId } from '../src/ids.ts';
import { LEVEL_OPTIONS } from '../src/store/store.ts';
import { createTenant } from '../test/helpers/events.ts';
import { tempDir } from '../test/helpers/nats.ts';
import { measure, natsFixture, report } from './util.ts';

const RUNS = Number(process.env.STK_BENCH_SCAN_RUNS ?? 10);
const ITEMS_PER_RUN = Number(process.env.STK_BENCH_SCAN_ITEMS ?? 5_000);
const HOSTS = Number(process.env.STK_BENCH_HOSTS ?? 1_000);
const PACKAGES = Number(process.env.STK_BENCH_PACKAGES ?? 2_000);

/** A sweep of a /20: most ports closed, one in twenty open, every fifth open one speaking TLS with a certificate (a new one each run). */
function runItems(run: number, n: number): ScanItem[] {
  const out: ScanItem[] = [];
  for (let i = 0; i < n; i++) {
    const address = `198.51.${100 + Math.floor(i / 65_536)}.${Math.floor(i / 256) % 256}`;
    const base = { target: '198.51.100.0/20', address, port: 1 + (i % 256) };
    if (i % 20 !== 0) {
      out.push({ ...base, state: 'closed' });
      continue;
    }
    const tls = i % 100 === 0;
    out.push({
      ...base,
      state: 'open',
      ...(tls
        ? {
            tls: {
              versions: ['TLSv1.2', 'TLSv1.3'],
              negotiated: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
              ciphers: [
                { version: 'TLSv1.2', cipher: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256' },
                { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
              ],
              certificate: {
                subject: `CN=host-${i}.bench.example`,
                issuer: 'CN=Bench CA',
                sans: [`dns:host-${i}.bench.example`],
                keyType: 'ec',
                keyBits: 256,
                curve: 'P-256',
                notBefore: '2026-01-01T00:00:00.000Z',
                notAfter: '2027-01-01T00:00:00.000Z',
                selfSigned: false,
                serial: (run * 100_000 + i).toString(16),
                sha256: `${run.toString(16).padStart(8, '0')}${i.toString(16).padStart(56, '0')}`,
              },
            },
          }
        : // One open port in ten runs a vulnerable OpenSSH (a finding each run), the others a current one.
          { banner: i % 200 === 20 ? 'SSH-2.0-OpenSSH_9.6p1\\r\\n' : 'SSH-2.0-OpenSSH_9.9p1\\r\\n' }),
    });
  }
  return sortItems(out);
}

/** Scan items stored and sealed per second beside a raw publish of the same bytes, in the same run. */
export async function benchScanRuns(): Promise<void> {
  const nats = await natsFixture();
  const nc = await connectNats({ servers: nats.url, noAsyncTraces: true } as never);
  try {
    const log = await EventLog.connect(nc);
    await log.streams.ensureStream(scansStreamSpec());
    await log.streams.ensureStream({ name: 'RAWBENCH', subjects: ['rawbench.>'], discard: 'old', duplicateWindowMs: 120_000 });
    await createTenant(log, 'bench', ['attack-surface']);
    const runs = Array.from({ length: RUNS }, (_, r) => runItems(r, ITEMS_PER_RUN));
    const total = RUNS * ITEMS_PER_RUN;
    console.log(
      `  ${RUNS} runs of ${ITEMS_PER_RUN} items (${runs[0]!.filter((i) => i.state === 'open').length} open, ${runs[0]!.filter((i) => i.tls).length} TLS per run)`,
    );

    const rawOnce = async (tag: string): Promise<number> => {
      const t0 = process.hrtime.bigint();
      for (const [r, items] of runs.entries()) {
        async function* messages() {
          for (const [i, item] of items.entries()) yield { subject: `rawbench.${tag}.${r}`, data: itemBytes(item), msgId: `${tag}.${r}.${i}` };
        }
        await log.streams.publishAll(messages(), { window: 256, timeoutMs: 10_000, onAck: () => {} });
      }
      return total / (Number(process.hrtime.bigint() - t0) / 1e9);
    };
    await rawOnce('warm');
    const raw = await rawOnce('run');

    const sealedOnce = async (): Promise<{ rate: number; storeOnly: number }> => {
      let storeNs = 0n;
      const t0 = process.hrtime.bigint();
      for (const items of runs) {
        const runId = newId();
        const s0 = process.hrtime.bigint();
        await storeRunItems(log, 'bench', runId, 0, items);
        storeNs += process.hrtime.bigint() - s0;
        await sealRun(log, {
          tenant: 'bench',
          runId,
          source: 'scanner',
          agentId: 'scanner',
          commandId: null,
          targets: ['198.51.100.0/20'],
          ports: ['1-256'],
          count: items.length,
          startedAt: new Date().toISOString(),
          finishedAt: new Date().toISOString(),
          aborted: false,
          actor: { kind: 'system', id: 'scanner' },
        });
      }
      return { rate: total / (Number(process.hrtime.bigint() - t0) / 1e9), storeOnly: total / (Number(storeNs) / 1e9) };
    };
    await sealedOnce();
    const sealed = await sealedOnce();
    report('raw publish of the item bytes (publishAll, 256 in flight)', raw, 'items/s');
    report('items stored in SCANS (storeRunItems)', sealed.storeOnly, 'items/s', { label: 'raw publish', value: raw });
    report('items stored and sealed (read back, root, judged, findings)', sealed.rate, 'items/s', { label: 'raw publish', value: raw });
  } finally {
    await nc.close();
    await nats.stop();
  }
}

function inventoryOf(host: number, packages: number): PatchInventory {
  const pkgs = Array.from({ length: packages }, (_, i) => ({
    name: `bench-pkg-${i}`,
    version: `1.${i % 13}.${i % 5}-1+deb12u${host % 9}`,
    architecture: 'amd64',
    source: `bench-src-${Math.floor(i / 3)}`,
    sourceVersion: `1.${i % 13}.${i % 5}-1`,
    status: 'installed',
    held: false,
  }));
  // Twenty pending upgrades a host, five of them security updates, shared across hosts.
  const upgrades = Array.from({ length: 20 }, (_, k) => {
    const i = (host * 7 + k * 97) % packages;
    return {
      package: pkgs[i]!.name,
      architecture: 'amd64',
      from: pkgs[i]!.version,
      to: `${pkgs[i]!.version}.1`,
      security: k < 5,
      releases: [],
      publishedBy: '2026-01-01T00:00:00.000Z',
      keptBack: false,
      cves: k < 5 ? [`CVE-2026-${1000 + k}`] : [],
    };
  });
  return {
    kind: 'patch-inventory',
    takenAt: new Date(Date.UTC(2026, 1, 1) + host).toISOString(),
    os: { id: 'debian', versionId: '12', codename: 'bookworm', prettyName: 'Debian GNU/Linux 12 (bookworm)' },
    packages: pkgs,
    upgrades,
    newInstalls: [],
    removals: [],
    reboot: { required: host % 10 === 0, packages: [] },
    listsRefreshed: true,
    warnings: [],
  };
}

async function cpu<T>(fn: () => Promise<T>): Promise<{ value: T; micros: number }> {
  const c0 = process.cpuUsage();
  const value = await fn();
  const c = process.cpuUsage(c0);
  return { value, micros: c.user + c.system };
}

/** 1,000 inventories of 2,000 packages recorded, then applied to the read models, beside a raw ordered read of the same stream. */
export async function benchInventories(): Promise<void> {
  const nats = await natsFixture();
  const dir = await tempDir('stk-bench-inv-');
  const nc = await connectNats({ servers: nats.url, noAsyncTraces: true } as never);
  const db = new Level<string, unknown>(join(dir.path, 'level'), LEVEL_OPTIONS);
  try {
    const log = await EventLog.connect(nc);
    await createTenant(log, 'bench', ['patch']);
    await log.streams.ensureStream(packagesStreamSpec());
    const agents = Array.from({ length: HOSTS }, () => newId());
    const now = new Date('2026-02-20T00:00:00.000Z');
    const ingest = await measure(HOSTS, 8, (h) => recordInventory(log, { tenant: 'bench', agentId: agents[h]! }, inventoryOf(h, PACKAGES), { now }));
    const last = await log.lastPosition();
    const state = await log.streams.state(EVENTS_STREAM);
    console.log(`  ${HOSTS} hosts × ${PACKAGES} packages: ${last} records in EVENTS, ${((state?.bytes ?? 0) / 1e6).toFixed(1)} MB`);

    const raw = async (): Promise<number> => {
      const t0 = process.hrtime.bigint();
      const c = await jetstream(nc).consumers.get(EVENTS_STREAM, { deliver_policy: DeliverPolicy.All });
      const msgs = await c.consume({ max_messages: 1024 });
      let n = 0;
      for await (const m of msgs) {
        n++;
        if (m.info.pending === 0) break;
      }
      await msgs.close();
      return n / (Number(process.hrtime.bigint() - t0) / 1e9);
    };
    await raw();
    const rawRate = await raw();

    await db.open();
    const p = await Projector.open(db, log, PROJECTIONS, { durableName: 'projector_bench', logger: createLogger({ level: 'warn' }) });
    await p.rebuild(['patches']);
    const patches = await cpu(() => p.rebuild(['patches']));
    const all = await cpu(() => p.rebuild());
    report('inventories recorded through the ingest path (8 at once)', ingest, 'inventories/s');
    report('raw ordered-consumer read of EVENTS', rawRate, 'records/s');
    report('applied to the read models: patches model rebuild', patches.value.events / patches.value.seconds, 'events/s', {
      label: 'raw read',
      value: rawRate,
    });
    report(`applied to the read models: all ${PROJECTIONS.length} models`, all.value.events / all.value.seconds, 'events/s', {
      label: 'raw read',
      value: rawRate,
    });
    const rawCpu = await cpu(raw);
    report('process CPU per record, raw read', rawCpu.micros / last, 'µs');
    report('process CPU per event, patches model rebuild', patches.micros / patches.value.events, 'µs', { label: 'raw read', value: rawCpu.micros / last });
    report(`process CPU per event, all ${PROJECTIONS.length} models`, all.micros / all.value.events, 'µs', { label: 'raw read', value: rawCpu.micros / last });
  } finally {
    await db.close().catch(() => {});
    await nc.close();
    await nats.stop();
    await dir.cleanup();
  }
}

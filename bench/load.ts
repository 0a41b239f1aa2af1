import { ConsistencyTokens } from '../src/api/consistency.ts';
import { Streams } from '../src/log/mod.ts';
import { readFile, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { partitionOf } from '../src/log/mod.ts';
import { connectNats } from '../src/nats/connect.ts';
import { freePort } from '../src/nats/server.ts';
import { RoleProcess, adminApi, lastRecordOf } from '../test/faults/harness.ts';
import { tempDir } from '../test/helpers/nats.ts';
import { SealWatch, enrollAgents, runStep, type SimAgent, type StepStats } from './load-agents.ts';
import { natsFixture, percentile, report } from './util.ts';

const TENANTS = 8;
/** Compressed report interval; `REAL_INTERVAL_S` is what we take a real agent's to be. */
const INTERVAL_MS = 2_000;
const REAL_INTERVAL_S = 60;
const ALERTS_PER_BATCH = 3;
const STEPS = [100, 150, 200, 300, 400, 600, 800, 1200, 1600];
const STEP_MS = 12_000;
const WARM_MS = 2_000;
const SAMPLE_EVERY_MS = 100;
const GOAL = { reportP99Ms: 250, lagP99Ms: 2_000 };
const VELOCIRAPTOR_2VCPU = 10_000;
const FLEET_2VCPU = 2 * 6_000;

/**
 * Simulated agents against roles run as separate processes (api+read models, ingress, sealer)
 * on one nats-server: steps up the agent count until report p99 or a lag p99 misses its bound,
 * then, at a fixed load, 1 vs 2 sealer processes and 1 vs 2 API (read-model) processes.
 */
export async function benchLoad(): Promise<void> {
  const nats = await natsFixture();
  const keys = await tempDir('stk-load-keys-');
  const env = { NATS_URL: nats.url, STOCKADE_ENROLL_RATE: '10000000', STOCKADE_LEDGER_KEY_DIR: keys.path };
  // Processes without the api role answer /metrics on a port of their own: the bench reads their JetStream calls there.
  const metricsUrls = new Map<RoleProcess, string>();
  const withMetrics = async (roles: string, extra: Record<string, string> = {}): Promise<RoleProcess> => {
    const port = await freePort();
    const p = await RoleProcess.create(roles, env, { STOCKADE_METRICS_HTTP: `127.0.0.1:${port}`, ...extra });
    metricsUrls.set(p, `http://127.0.0.1:${port}`);
    return p;
  };
  const api = await withMetrics('api,projector');
  const ingress = await withMetrics('ingress');
  const sealer = await withMetrics('sealer');
  const sealer2 = await withMetrics('sealer');
  const started: RoleProcess[] = [];
  const extra: RoleProcess[] = [];
  const start = async (p: RoleProcess): Promise<void> => {
    started.push(p);
    await p.start();
  };
  const nc = await connectNats({ servers: nats.url });
  const agents: SimAgent[] = [];
  let seal: SealWatch | null = null;
  try {
    await Promise.all([start(api), start(ingress), start(sealer)]);
    const call = await adminApi(api);
    const adminKey = (await readFile(join(api.dir, 'admin.key'), 'utf8')).trim();
    const caPem = await readFile(join(ingress.dir, 'pki', 'ca.crt'), 'utf8');
    const tenants = await makeTenants(call);
    // Same admin key as the first API process, so one client can ask either replica.
    const api2 = await withMetrics('api,projector', { STOCKADE_ADMIN_KEY: adminKey });
    extra.push(api2);
    seal = await SealWatch.start(nc);
    const tokens = await ConsistencyTokens.open(await Streams.open(nc));
    const pids = (): Record<string, number> =>
      Object.fromEntries([['bench', process.pid], ['nats-server', nats.server.pid], ...started.map((p, i) => [`${p.roles}#${i}`, p.proc.child.pid!] as const)]);
    const metrics = (): Record<string, string> => Object.fromEntries(started.map((p, i) => [`${p.roles}#${i}`, p.info.api ?? metricsUrls.get(p)!] as const));
    let chunk = 0;
    const grow = async (count: number): Promise<void> => {
      // Chunks of 25 agents, tenants in turn: every step's agents are spread over all tenants.
      while (agents.length < count) {
        const t = tenants[chunk++ % TENANTS]!;
        agents.push(
          ...(await enrollAgents({
            url: ingress.info.ingress!,
            caPem,
            tenant: t.id,
            secret: t.secret,
            count: Math.min(count - agents.length, 25),
            from: agents.length,
          })),
        );
      }
    };
    const step = (count: number, apiUrls: string[]): Promise<StepStats> =>
      runStep({
        agents: agents.slice(0, count),
        ingressUrl: ingress.info.ingress!,
        apiUrls,
        adminKey,
        seal: seal!,
        tokens,
        intervalMs: INTERVAL_MS,
        alerts: ALERTS_PER_BATCH,
        ms: STEP_MS,
        warmMs: WARM_MS,
        sampleEveryMs: SAMPLE_EVERY_MS,
        pids: pids(),
        metrics: metrics(),
      });

    console.log(`  ${TENANTS} tenants (edr on, distinct partitions); each agent: its own P-256 certificate, one keep-alive mTLS connection,`);
    console.log(
      `  every ${INTERVAL_MS / 1000} s a batch (1 heartbeat + ${ALERTS_PER_BATCH} alerts) then GET /agent/v1/commands; steps of ${STEP_MS / 1000} s (${WARM_MS / 1000} s warm-up);`,
    );
    console.log(`  processes: nats-server, api+read models, ingress, sealer, and this bench (the agents) — all on ${availableParallelism()} cores`);
    console.log(
      `  ${'agents'.padStart(6)} ${'events/s'.padStart(9)} ${'report p50/p99 ms'.padStart(18)} ${'poll p99'.padStart(9)} ${'seal lag p50/p99 ms'.padStart(20)} ${'proj lag p50/p99 ms'.padStart(20)} ${'503s'.padStart(5)}  cpu s/s by process`,
    );
    let best: { agents: number; stats: StepStats } | null = null;
    let firstMiss: number | null = null;
    for (const count of STEPS) {
      await grow(count);
      let s = await step(count, [api.info.api!]);
      printRow(count, s);
      // The machine may be shared: a missed step is run once more before it counts as a miss.
      if (!meets(s)) {
        s = await step(count, [api.info.api!]);
        printRow(count, s, 'again');
      }
      if (!meets(s)) {
        firstMiss = count;
        break;
      }
      best = { agents: count, stats: s };
    }

    console.log('');
    if (best) {
      const eps = best.stats.events / best.stats.seconds;
      report(`largest agent count sustained (interval ${INTERVAL_MS / 1000} s)`, best.agents, 'agents');
      report('events/s at that count', eps, 'events/s');
      const equivalent = (best.agents * (REAL_INTERVAL_S * 1000)) / INTERVAL_MS;
      report(`same event rate as endpoints reporting every ${REAL_INTERVAL_S} s`, equivalent, 'endpoints', {
        label: 'Velociraptor, 2 vCPU (public)',
        value: VELOCIRAPTOR_2VCPU,
      });
      report(`same event rate as endpoints reporting every ${REAL_INTERVAL_S} s`, equivalent, 'endpoints', {
        label: 'Fleet, 6,000/vCPU × 2 (public)',
        value: FLEET_2VCPU,
      });
      // Not a measurement: what the same work would reach if Stockade had both cores to itself.
      const ours = Object.entries(best.stats.cpu).reduce((a, [k, v]) => a + (k === 'bench' ? 0 : v), 0) / best.stats.seconds;
      const alone = (eps / ours) * availableParallelism();
      console.log(`  server processes used ${ours.toFixed(2)} cores for ${Math.round(eps)} events/s (${Math.round(eps / ours)} events per core-second);`);
      console.log(
        `  if linear (it is not quite) with ${availableParallelism()} cores to themselves: ≈ ${Math.round(alone)} events/s ≈ ${Math.round((alone * INTERVAL_MS) / 1000 / (1 + ALERTS_PER_BATCH))} agents at ${INTERVAL_MS / 1000} s ≈ ${Math.round((alone * REAL_INTERVAL_S) / (1 + ALERTS_PER_BATCH)).toLocaleString('en-US')} at ${REAL_INTERVAL_S} s`,
      );
    } else {
      console.log(`  no step met report p99 < ${GOAL.reportP99Ms} ms and lag p99 < ${GOAL.lagP99Ms} ms`);
    }

    // Workers at a fixed load: where the single-worker run first missed, else the largest step.
    const fixed = firstMiss ?? best?.agents ?? STEPS[0]!;
    console.log(`\n  workers at a fixed load of ${fixed} agents (${((fixed * (1 + ALERTS_PER_BATCH) * 1000) / INTERVAL_MS).toFixed(0)} events/s offered):`);
    const oneSealer = await step(fixed, [api.info.api!]);
    printRow(fixed, oneSealer, '1 sealer, 1 api');
    await start(sealer2);
    await leasesSplit(
      nc,
      tenants.map((t) => partitionOf(t.id)),
    );
    const twoSealers = await step(fixed, [api.info.api!]);
    printRow(fixed, twoSealers, '2 sealers, 1 api');
    await start(api2);
    const replicaReady = await caughtUp(nc, api2, adminKey, tenants[0]!.id);
    const twoApis = replicaReady ? await step(fixed, [api.info.api!, api2.info.api!]) : null;
    if (twoApis) printRow(fixed, twoApis, '2 sealers, 2 api (lag sampled on both replicas)');
    else console.log(`  the second API replica had not caught up within 60 s: no 2-API row\n${api2.proc.lines.slice(-5).join('\n')}`);
    console.log('');
    report('seal lag p99, 2 sealer processes', percentile(twoSealers.sealLagMs, 99), 'ms', { label: '1 sealer', value: percentile(oneSealer.sealLagMs, 99) });
    report('report p99, 2 sealer processes', percentile(twoSealers.reportMs, 99), 'ms', { label: '1 sealer', value: percentile(oneSealer.reportMs, 99) });
    if (twoApis) {
      report('projection lag p99, 2 API replicas', percentile(twoApis.projectionLagMs, 99), 'ms', {
        label: '1 replica',
        value: percentile(twoSealers.projectionLagMs, 99),
      });
      report('report p99, 2 API replicas', percentile(twoApis.reportMs, 99), 'ms', { label: '1 replica', value: percentile(twoSealers.reportMs, 99) });
    }
    const share = (st: StepStats, role: string): number => Object.entries(st.cpu).reduce((a, [k, v]) => a + (k.startsWith(role) ? v : 0), 0) / st.seconds;
    console.log(
      `  on 2 cores a second worker process adds no core: sealing took ${share(oneSealer, 'sealer').toFixed(2)} cores with 1 sealer and ${share(twoSealers, 'sealer').toFixed(2)} with 2;`,
    );
    console.log(
      `  read models took ${share(twoSealers, 'api').toFixed(2)} cores with 1 replica and ${share(twoApis ?? twoSealers, 'api').toFixed(2)} with 2 (each replica applies every event).`,
    );
    const others = (st: StepStats | null): string =>
      st ? (Math.max(0, st.machineCpu - Object.values(st.cpu).reduce((a, b) => a + b, 0)) / st.seconds).toFixed(2) : '-';
    console.log(
      `  other work on the machine took ${others(oneSealer)}, ${others(twoSealers)} and ${others(twoApis)} cores during these rows: compare rows only where it is alike.`,
    );
  } finally {
    for (const a of agents) a.tls.destroy();
    await seal?.close().catch(() => {});
    await Promise.all(started.map((p) => p.stop().catch(() => {})));
    await nc.close();
    await nats.stop();
    await keys.cleanup();
    await Promise.all([api, ingress, sealer, sealer2, ...extra].map((p) => rm(p.dir, { recursive: true, force: true })));
  }
}

function meets(s: StepStats): boolean {
  return (
    s.refused === 0 &&
    percentile(s.reportMs, 99) < GOAL.reportP99Ms &&
    percentile(s.sealLagMs, 99) < GOAL.lagP99Ms &&
    percentile(s.projectionLagMs, 99) < GOAL.lagP99Ms
  );
}

function printRow(agents: number, s: StepStats, note = ''): void {
  const ms = (v: number[], p: number) => (v.length ? Math.round(percentile(v, p)).toString() : '-');
  const cpu = Object.entries(s.cpu)
    .map(([k, v]) => `${k.replace(/#\d+$/, '')} ${(v / s.seconds).toFixed(2)}`)
    .join(', ');
  const cols = [
    String(agents).padStart(6),
    Math.round(s.events / s.seconds)
      .toString()
      .padStart(9),
    `${ms(s.reportMs, 50)}/${ms(s.reportMs, 99)}`.padStart(18),
    ms(s.pollMs, 99).padStart(9),
    `${ms(s.sealLagMs, 50)}/${ms(s.sealLagMs, 99)}`.padStart(20),
    `${ms(s.projectionLagMs, 50)}/${ms(s.projectionLagMs, 99)}`.padStart(20),
    String(s.refused).padStart(5),
  ];
  const ours = Object.values(s.cpu).reduce((a, b) => a + b, 0);
  const others = Math.max(0, s.machineCpu - ours) / s.seconds;
  console.log(`  ${cols.join(' ')}  ${meets(s) ? 'ok ' : 'MISS'} ${cpu}; not ours ${others.toFixed(2)}${note ? `  [${note}]` : ''}`);
  console.log(`${' '.repeat(10)}${workLine(s)}`);
}

/**
 * Per agent request (reports and polls answered by the ingress) the JetStream calls each process
 * made, by kind, and the CPU each process spent per event stored.
 */
export function workLine(s: Pick<StepStats, 'calls' | 'requests' | 'cpu' | 'events'>): string {
  const requests = Object.values(s.requests).reduce((a, b) => a + b, 0);
  const per = (n: number, d: number) => (d > 0 ? (n / d).toFixed(2) : '-');
  const calls = Object.entries(s.calls)
    .map(([name, byKind]) => {
      const total = Object.values(byKind).reduce((a, b) => a + b, 0);
      const kinds = Object.entries(byKind)
        .filter(([, n]) => n > 0)
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k} ${per(n, requests)}`)
        .join(' ');
      return `${name.replace(/#\d+$/, '')} ${per(total, requests)}${kinds ? ` (${kinds})` : ''}`;
    })
    .join('; ');
  const cpu = Object.entries(s.cpu)
    .map(([k, v]) => `${k.replace(/#\d+$/, '')} ${s.events ? Math.round((v * 1e6) / s.events) : '-'}`)
    .join(', ');
  return `JetStream calls per request (${requests} requests): ${calls}\n${' '.repeat(10)}CPU µs per event: ${cpu}`;
}

/** Tenants whose events land in distinct partitions, so a second sealer has work to take. */
async function makeTenants(call: Awaited<ReturnType<typeof adminApi>>): Promise<Array<{ id: string; secret: string }>> {
  const run = Date.now().toString(36);
  const seen = new Set<number>();
  const ids: string[] = [];
  for (let i = 0; ids.length < TENANTS; i++) {
    const id = `load-${run}-${i}`;
    if (seen.has(partitionOf(id))) continue;
    seen.add(partitionOf(id));
    ids.push(id);
  }
  return Promise.all(
    ids.map(async (id) => {
      const created = await call('POST', '/api/v1/tenants', { id, name: `Load ${id}` });
      if (created.status !== 201) throw new Error(`tenant create answered ${created.status}: ${JSON.stringify(created.body)}`);
      const edr = await call('PUT', `/api/v1/tenants/${id}/products/edr`, { enabled: true });
      if (edr.status !== 200) throw new Error(`edr answered ${edr.status}`);
      return { id, secret: created.body.enrollSecret as string };
    }),
  );
}

/** Waits (at most 30 s) until the tenants' partitions are leased by two distinct sealer workers. */
async function leasesSplit(nc: NatsConnection, partitions: number[]): Promise<void> {
  const kv = await new Kvm(nc).open('stk-leases-sealer');
  const watch = await kv.watch({ key: 'p.*' });
  const timer = setTimeout(() => watch.stop(), 30_000);
  const owners = new Map<string, string>();
  const wanted = new Set(partitions.map((p) => `p.${p}`));
  try {
    for await (const e of watch) {
      if (!wanted.has(e.key)) continue;
      if (e.operation === 'PUT') owners.set(e.key, e.string());
      else owners.delete(e.key);
      if (new Set(owners.values()).size >= 2) return;
    }
    throw new Error('the second sealer never took a partition within 30 s');
  } finally {
    clearTimeout(timer);
    watch.stop();
  }
}

/** Waits (at most 60 s) until a new API replica has applied the tenant's newest record. */
async function caughtUp(nc: NatsConnection, p: RoleProcess, adminKey: string, tenant: string): Promise<boolean> {
  const last = await lastRecordOf(nc, tenant);
  const waitFor = (await ConsistencyTokens.open(await Streams.open(nc))).issue(tenant, last);
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    const r = await fetch(`${p.info.api}/api/v1/tenants/${tenant}/overview?waitFor=${waitFor}&waitMs=10000`, {
      headers: { authorization: `Bearer ${adminKey}` },
    });
    await r.arrayBuffer();
    if (r.status === 200) return true;
  }
  return false;
}

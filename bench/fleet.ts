import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import { Agent } from 'node:https';
import { availableParallelism, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { ConsistencyTokens } from '../src/api/consistency.ts';
import { call } from '../src/agent/client.ts';
import { COMMAND_WAIT_S } from '../src/agent/run/runner.ts';
import { partitionOf, Streams } from '../src/log/mod.ts';
import { connectNats } from '../src/nats/connect.ts';
import { freePort } from '../src/nats/server.ts';
import { createAgentKeyAndCsr } from '../src/pki/agent-key.ts';
import { adminApi, RoleProcess } from '../test/faults/harness.ts';
import { clusterFixture, tempDir } from '../test/helpers/nats.ts';
import type { Identity, Sample, WorkerInit, WorkerStats } from './fleet-worker.ts';
import { cpuSeconds, machineBusySeconds, SealWatch, scrapeAll } from './load-agents.ts';
import { natsFixture, percentile, report } from './util.ts';

const TENANTS = 8;
const INTERVAL_MS = 60_000;
/**
 * Alerts in each report beside the heartbeat: 3, the endpoint-equivalent of the issue and of the
 * published comparisons; `STOCKADE_BENCH_FLEET_ALERTS=0` or `1` measures a quieter fleet (the
 * agents sustained are then not endpoint-equivalents, and the comparison line says so).
 */
const ALERTS_PER_BATCH = Number(process.env.STOCKADE_BENCH_FLEET_ALERTS ?? 3);
if (!Number.isInteger(ALERTS_PER_BATCH) || ALERTS_PER_BATCH < 0 || ALERTS_PER_BATCH > 100)
  throw new Error(`STOCKADE_BENCH_FLEET_ALERTS must be a whole number from 0 to 100, not ${process.env.STOCKADE_BENCH_FLEET_ALERTS}`);
/** The reference agent's long-poll. */
const WAIT_S = COMMAND_WAIT_S;
/** Each report has this chance of being sent on new connections (the agent dropped them). */
const RECONNECT_RATIO = 0.02;
const GOAL = { reportP99Ms: 500, lagP99Ms: 5_000 };
/** A step is measured once this share of its connections is open (some are always reconnecting)… */
const RAMP_OPEN_SHARE = 0.99;
/** …or this long after its new agents started, whatever is open then. */
const RAMP_MAX_MS = 180_000;
/** Steps of simulated agents; `STOCKADE_BENCH_FLEET_STEPS=1000,2000` overrides. */
const STEPS = (process.env.STOCKADE_BENCH_FLEET_STEPS ?? '2000,5000,10000,20000,30000,40000,50000').split(',').map(Number);
/** Certificates enrolled for real, shared by the simulated agents (several agents to one identity). */
const POOL = Number(process.env.STOCKADE_BENCH_FLEET_POOL ?? 10_000);
const MAX_STEP = Math.max(...STEPS);
const MEASURE_MS = Number(process.env.STOCKADE_BENCH_FLEET_MEASURE_MS ?? INTERVAL_MS);
/** The role processes: groups of roles separated by `;`, each group one process; the API and an ingress must be among them. */
const ROLE_GROUPS = (process.env.STOCKADE_BENCH_FLEET_ROLES ?? 'api,projector;ingress;sealer;detector').split(';').map((g) => g.trim());
for (const needed of ['api', 'projector', 'ingress', 'sealer', 'detector'])
  if (!ROLE_GROUPS.some((g) => g.split(',').includes(needed))) throw new Error(`STOCKADE_BENCH_FLEET_ROLES has no ${needed} role: ${ROLE_GROUPS.join(';')}`);
/** `STOCKADE_BENCH_FLEET_CLUSTER=1`: the roles on a 3-node loopback cluster with 3 replicas (see `clusterOnLoopback`). */
const CLUSTER = process.env.STOCKADE_BENCH_FLEET_CLUSTER === '1';
/**
 * Descriptors each process may hold: 400,000, or the hard limit when the machine allows fewer (a
 * container without CAP_SYS_RESOURCE cannot raise it). The ingress holds two per agent, so the
 * steps stop where its descriptors end, and the bench says so.
 */
const FDS = Math.min(400_000, hardNoFile());
/** Agents one ingress process takes: what its descriptors allow, or fewer (`STOCKADE_BENCH_FLEET_AGENTS_PER_INGRESS`). */
const MAX_AGENTS_BY_FDS = Math.min(Math.floor((FDS - 1_000) / 2), Number(process.env.STOCKADE_BENCH_FLEET_AGENTS_PER_INGRESS ?? Number.POSITIVE_INFINITY));
/**
 * Ingress processes at most: one more is started (sharing the first one's CA, as the operator
 * manual says to) before a step would give one ingress more agents than its descriptors allow.
 * Agents are spread over them as a TCP load balancer in front would spread them.
 */
const MAX_INGRESS = Number(process.env.STOCKADE_BENCH_FLEET_MAX_INGRESS ?? 6);
/** Generators hold two descriptors per agent too: enough of them that none runs out. */
const GENERATORS = Number(process.env.STOCKADE_BENCH_FLEET_GENERATORS ?? Math.max(4, Math.ceil(MAX_STEP / MAX_AGENTS_BY_FDS)));

function hardNoFile(): number {
  const m = /Max open files\s+\d+\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  return !m || m[1] === 'unlimited' ? 400_000 : Number(m[1]);
}

interface Generator {
  child: ChildProcess;
  stats(): Promise<WorkerStats>;
  send(m: unknown): void;
}

/**
 * The fleet profile: simulated agents that hold a command long-poll, report a batch (a heartbeat
 * and three alerts) every 60 s at their own phase with ±10% jitter, and reconnect now and then
 * (2% of reports, resuming their TLS session), stepped up to 50,000 agents against api+read
 * models, ingress, sealer and detector processes on one nats-server. The agents run in a few
 * generator processes (`bench/fleet-worker.ts`) on the same machine, whose CPU is printed apart.
 * They share a pool of identities enrolled for real through the ingress (10,000 by default: five
 * agents to one certificate at 50,000; each identity's reports go one after another).
 */
export async function benchFleet(): Promise<void> {
  // nats-server's warnings and errors over the run (a slow consumer drops what it was sent: an ack, a delivery), printed at the end.
  const natsSaid = new Map<string, number>();
  // STOCKADE_BENCH_FLEET_CLUSTER=1: a 3-node JetStream cluster on loopback, every stream and bucket
  // with 3 replicas — on this one machine, so its figure is what replication costs per event.
  const nats = CLUSTER
    ? await clusterOnLoopback()
    : await singleNode({
        onLogLine: (line) => {
          const m = /\[(WRN|ERR)\] (.*)$/.exec(line);
          if (!m) return;
          // Grouped with addresses, ids and figures left out.
          const kind = `${m[1]} ${m[2]!.replace(/\d+(\.\d+)*(:\d+)?/g, '#').replace(/"[^"]*"/g, '"…"')}`.slice(0, 160);
          natsSaid.set(kind, (natsSaid.get(kind) ?? 0) + 1);
        },
      });
  const keys = await tempDir('stk-fleet-keys-');
  const env = {
    NATS_URL: nats.url,
    STOCKADE_ENROLL_RATE: '10000000',
    STOCKADE_LEDGER_KEY_DIR: keys.path,
    ...(CLUSTER ? { STOCKADE_REPLICAS: '3' } : {}),
  };
  const metricsUrls = new Map<RoleProcess, string>();
  const role = async (roles: string): Promise<RoleProcess> => {
    const port = await freePort();
    // STOCKADE_BENCH_CPU_PROF=<dir>: each role process writes a V8 CPU profile there when it stops.
    const prof = process.env.STOCKADE_BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.STOCKADE_BENCH_CPU_PROF}`] : [];
    const p = await RoleProcess.create(roles, env, { STOCKADE_METRICS_HTTP: `127.0.0.1:${port}` }, prof);
    metricsUrls.set(p, `http://127.0.0.1:${port}`);
    return p;
  };
  // One process per role group; `STOCKADE_BENCH_FLEET_ROLES=api,projector,sealer,detector;ingress`
  // measures fewer, larger processes (the embedded default runs every role in one).
  const all = await Promise.all(ROLE_GROUPS.map((g) => role(g)));
  const api = all.find((p) => p.roles.split(',').includes('api'))!;
  const ingress = all.find((p) => p.roles.split(',').includes('ingress'))!;
  /** The ingress processes, each with the agents it holds and its memory when it started. */
  const ingresses: Array<{ p: RoleProcess; label: string; port: number; agents: number; rss0: number }> = [];
  const labels = new Map<RoleProcess, string>(all.map((p) => [p, p.roles]));
  const generators: Generator[] = [];
  const nc = await connectNats({ servers: nats.url.split(',') });
  let seal: SealWatch | null = null;
  try {
    await Promise.all(all.map((p) => p.start()));
    // One descriptor per connection: the ingress holds two per agent.
    spawnSync('prlimit', ['--pid', String(ingress.proc.child.pid), `--nofile=${FDS}:${FDS}`]);
    ingresses.push({ p: ingress, label: 'ingress', port: Number(new URL(ingress.info.ingress!).port), agents: 0, rss0: rssBytes(ingress.proc.child.pid!) });

    const call0 = await adminApi(api);
    const adminKey = (await readFile(join(api.dir, 'admin.key'), 'utf8')).trim();
    const caPem = await readFile(join(ingress.dir, 'pki', 'ca.crt'), 'utf8');
    const ingressUrl = new URL(ingress.info.ingress!);
    const tenants = await makeTenants(call0);
    seal = await SealWatch.start(nc);
    const tokens = await ConsistencyTokens.open(await Streams.open(nc));
    const pids = (): Record<string, number> => ({
      bench: process.pid,
      ...Object.fromEntries(generators.map((g, i) => [`generator#${i}`, g.child.pid!])),
      ...nats.pids,
      ...Object.fromEntries(all.map((p) => [labels.get(p)!, p.proc.child.pid!])),
    });
    const metrics = Object.fromEntries(all.map((p) => [labels.get(p)!, p.info.api ?? metricsUrls.get(p)!]));

    console.log(
      `  ${TENANTS} tenants (edr on); agents report every ${INTERVAL_MS / 1000} s (±10%) a heartbeat + ${ALERTS_PER_BATCH} alerts, hold GET /agent/v1/commands?wait=${WAIT_S},`,
    );
    console.log(`  and reconnect before ${RECONNECT_RATIO * 100}% of reports; two keep-alive mTLS connections per agent (the poll's and the reports')`);
    const t0 = Date.now();
    const pool = await enrollPool(ingress.info.ingress!, caPem, tenants, Math.min(POOL, Math.max(...STEPS)));
    const enrollS = (Date.now() - t0) / 1000;
    console.log(
      `  ${pool.length} identities enrolled for real through the ingress in ${enrollS.toFixed(0)} s (${Math.round(pool.length / enrollS)}/s, keys and CSRs included); agents share them, several to one`,
    );
    // Samples are followed only while a step is measured.
    let onSample: (x: Sample) => void = () => {};
    for (let i = 0; i < GENERATORS; i++) generators.push(await startGenerator(i, (x) => onSample(x)));
    for (const [i, g] of generators.entries()) {
      const init: WorkerInit = {
        host: ingressUrl.hostname,
        caPem,
        localAddress: `127.0.0.${2 + i}`,
        intervalMs: INTERVAL_MS,
        jitterRatio: 0.1,
        reconnectRatio: RECONNECT_RATIO,
        alerts: ALERTS_PER_BATCH,
        waitS: WAIT_S,
        rampMs: 20_000,
      };
      g.send({ type: 'init', init });
    }
    console.log(
      `  processes: ${CLUSTER ? 'a 3-node nats-server cluster (3 replicas)' : 'nats-server'}, ${ROLE_GROUPS.join(' | ')}; ${GENERATORS} generator processes and this one — all on ${availableParallelism()} cores`,
    );
    console.log(
      `  ${'agents'.padStart(7)} ${'conns'.padStart(7)} ${'events/s'.padStart(9)} ${'report p50/p99 ms'.padStart(18)} ${'seal lag p99'.padStart(12)} ${'proj lag p99'.padStart(12)} ${'503s'.padStart(5)} ${'errs'.padStart(5)}  cpu cores by process`,
    );

    let agents = 0;
    let best: { agents: number; row: Row } | null = null;
    const rows: Row[] = [];
    const steps = STEPS.filter((s) => s <= MAX_AGENTS_BY_FDS * MAX_INGRESS);
    // What the roles say from here on is printed at the end.
    const linesFrom = new Map(all.map((p) => [p, p.proc.lines.length]));
    console.log(
      `  this machine allows ${FDS} open files per process (hard limit): an ingress holds two per agent, so each ingress process takes at most ${MAX_AGENTS_BY_FDS} agents and another (up to ${MAX_INGRESS}) is started, with the same CA, when a step needs it${steps.length < STEPS.length ? ` (${STEPS.filter((s) => !steps.includes(s)).join(', ')} skipped)` : ''}`,
    );
    for (const step of steps) {
      while (ingresses.length * MAX_AGENTS_BY_FDS < step) {
        const label = `ingress#${ingresses.length + 1}`;
        const more = await role('ingress');
        // The install's CA goes to every ingress before its first start, or it would make its own.
        await mkdir(join(more.dir, 'pki'), { recursive: true, mode: 0o700 });
        for (const f of ['ca.crt', 'ca.key']) await copyFile(join(ingress.dir, 'pki', f), join(more.dir, 'pki', f));
        await more.start();
        spawnSync('prlimit', ['--pid', String(more.proc.child.pid), `--nofile=${FDS}:${FDS}`]);
        all.push(more);
        labels.set(more, label);
        metrics[label] = metricsUrls.get(more)!;
        linesFrom.set(more, more.proc.lines.length);
        ingresses.push({ p: more, label, port: Number(new URL(more.info.ingress!).port), agents: 0, rss0: rssBytes(more.proc.child.pid!) });
        console.log(`  ${label} started for the ${step}-agent step (agents are spread over ${ingresses.length} ingress processes from here on)`);
      }
      // New agents go to the ingress processes with the fewest, as a load balancer would send them.
      const add = step - agents;
      const target = Math.ceil(step / ingresses.length);
      const perIngress = ingresses.map((x) => Math.max(0, target - x.agents));
      let over = perIngress.reduce((a, b) => a + b, 0) - add;
      for (let i = perIngress.length - 1; over > 0 && i >= 0; i--) {
        const cut = Math.min(over, perIngress[i]!);
        perIngress[i]! -= cut;
        over -= cut;
      }
      for (const [k, x] of ingresses.entries()) {
        const n = perIngress[k]!;
        x.agents += n;
        // Their identities' home generator chosen by identity, so one identity's reports stay in one process.
        for (const [w, g] of generators.entries()) {
          const count = Math.floor(n / GENERATORS) + (w < n % GENERATORS ? 1 : 0);
          const known = agents === 0 && k === 0 ? pool.filter((_, i) => i % GENERATORS === w) : [];
          g.send({ type: 'add', identities: known, count, port: x.port });
        }
      }
      agents = step;
      // New agents open their connections over 20 s; on a busy box the handshakes can take longer.
      // The step is measured once they are open (a ramp is a herd of handshakes, not the load the
      // step stands for), or after RAMP_MAX_MS whatever is open; how long it took is printed.
      const rampStart = Date.now();
      let ramp = { open: 0, full: 0 };
      do {
        await sleep(ramp.open === 0 ? 25_000 : 2_000);
        const s = await Promise.all(generators.map((g) => g.stats()));
        ramp = { open: s.reduce((a, x) => a + x.connections, 0), full: ramp.full + s.reduce((a, x) => a + x.handshakes.full, 0) };
      } while (ramp.open < 2 * step * RAMP_OPEN_SHARE && Date.now() - rampStart < RAMP_MAX_MS);
      console.log(
        `  ${step}-agent step: ${ramp.open} of ${2 * step} connections open ${Math.round((Date.now() - rampStart) / 1000)} s after the new agents started (${ramp.full} full handshakes); measuring`,
      );
      const before = cpuSeconds(pids());
      const beforeSystem = cpuSeconds(pids(), 'system');
      const machine0 = machineBusySeconds();
      const scraped0 = await scrapeAll(metrics);
      const start = Date.now();
      const probes: Promise<void>[] = [];
      const sealLagMs: number[] = [];
      const slowest: Array<{ tenant: string; seq: number; atS: number; ms: number }> = [];
      const projectionLagMs: number[] = [];
      const windows: WorkerStats[] = [];
      let replica = 0;
      const watching = seal;
      onSample = (x) => {
        const seq = tokens.read(x.tenant, x.token) ?? 0;
        watching.watch(x.tenant, seq, x.ackAt, (ms) => {
          sealLagMs.push(ms);
          slowest.push({ tenant: x.tenant, seq, atS: (x.ackAt - start) / 1000, ms });
        });
        if (replica++ % 5 !== 0) return;
        probes.push(
          // The tenant's own document: the wait is the same as any read's (the projector reaching
          // the position), without the work of an overview 30 times a second counted as the server's.
          fetch(`${api.info.api}/api/v1/tenants/${x.tenant}?waitFor=${x.token}&waitMs=10000`, {
            headers: { authorization: `Bearer ${adminKey}` },
          }).then(
            async (r) => {
              await r.arrayBuffer();
              projectionLagMs.push(r.status === 200 ? Date.now() - x.ackAt : Math.max(10_000, Date.now() - x.ackAt));
            },
            () => {},
          ),
        );
      };
      while (Date.now() - start < MEASURE_MS) {
        await sleep(5_000);
        windows.push(...(await Promise.all(generators.map((g) => g.stats()))));
      }
      onSample = () => {};
      const seconds = (Date.now() - start) / 1000;
      const after = cpuSeconds(pids());
      const afterSystem = cpuSeconds(pids(), 'system');
      const machine = machineBusySeconds() - machine0;
      const scraped1 = await scrapeAll(metrics);
      await Promise.all(probes);
      const unsealed = await seal.settle(5_000);
      if (process.env.STOCKADE_BENCH_FLEET_TRACE)
        console.log(
          `  slowest sealed: ${slowest
            .sort((a, b) => b.ms - a.ms)
            .slice(0, 12)
            .map((x) => `${x.tenant.slice(-2)}#${x.seq}@${x.atS.toFixed(1)}s ${Math.round(x.ms)}ms`)
            .join(', ')}`,
        );
      const last = windows.slice(-GENERATORS);
      const row: Row = {
        agents: step,
        connections: last.reduce((a, s) => a + s.connections, 0),
        seconds,
        reportMs: windows.flatMap((s) => s.reportMs),
        events: windows.reduce((a, s) => a + s.events, 0),
        reports: windows.reduce((a, s) => a + s.reports, 0),
        polls: windows.reduce((a, s) => a + s.polls, 0),
        refused: windows.reduce((a, s) => a + s.refused, 0),
        errors: windows.reduce((a, s) => a + s.errors + s.pollErrors, 0),
        handshakes: { full: windows.reduce((a, s) => a + s.handshakes.full, 0), resumed: windows.reduce((a, s) => a + s.handshakes.resumed, 0) },
        failures: windows.reduce<Record<string, number>>((a, s) => {
          for (const [k, n] of Object.entries(s.failures)) a[k] = (a[k] ?? 0) + n;
          return a;
        }, {}),
        sealLagMs,
        unsealed,
        projectionLagMs,
        cpu: Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? v)])),
        cpuSystem: Object.fromEntries(Object.entries(afterSystem).map(([k, v]) => [k, v - (beforeSystem[k] ?? v)])),
        machineCpu: machine,
        calls: Object.fromEntries(Object.entries(scraped1).map(([k, v]) => [k, minus(v.calls, scraped0[k]?.calls ?? {})])),
        requests:
          Object.values(scraped1).reduce((a, v) => a + Object.values(v.requests).reduce((x, y) => x + y, 0), 0) -
          Object.values(scraped0).reduce((a, v) => a + Object.values(v.requests).reduce((x, y) => x + y, 0), 0),
        rss: rssOf(pids()),
        ingressRssDelta: ingresses.reduce((a, x) => a + rssBytes(x.p.proc.child.pid!) - x.rss0, 0),
        loopDelayMs: Object.fromEntries(Object.entries(scraped1).map(([k, v]) => [k, v.loopDelayMs])),
      };
      rows.push(row);
      printRow(row);
      if (!meets(row)) break;
      best = { agents: step, row };
    }

    console.log('');
    if (best) {
      const r = best.row;
      const eps = r.events / r.seconds;
      if (ALERTS_PER_BATCH === 3)
        report('agents sustained (report every 60 s, long-poll held)', best.agents, 'agents', { label: 'Velociraptor, 2 vCPU (public)', value: 10_000 });
      else report(`agents sustained (${ALERTS_PER_BATCH} alerts a report: not endpoint-equivalents)`, best.agents, 'agents');
      report('events/s at that count', eps, 'events/s');
      report('report p99 at that count', percentile(r.reportMs, 99), 'ms');
      report('seal lag p99 / projection lag p99', percentile(r.sealLagMs, 99), `ms / ${Math.round(percentile(r.projectionLagMs, 99))} ms`);
      const server = Object.entries(r.cpu).reduce((a, [k, v]) => a + (k === 'bench' || k.startsWith('generator') ? 0 : v), 0) / r.seconds;
      console.log(
        `  server processes used ${server.toFixed(2)} cores for ${Math.round(eps)} events/s (${Math.round((server * 1e6) / eps)} µs of server CPU per event)`,
      );
      console.log(
        `  ingress memory per agent connection (RSS growth / open connections): ${(r.ingressRssDelta / 1024 / Math.max(1, r.connections)).toFixed(1)} KiB`,
      );
    } else {
      console.log(`  no step met report p99 < ${GOAL.reportP99Ms} ms and lag p99 < ${GOAL.lagP99Ms} ms`);
    }
    console.log(`  machine: ${cpus().length} cores, ${cpus()[0]?.model ?? ''}`);
    // What the roles said during the steps (info and above, by message; not the API's request lines).
    for (const p of all) {
      const said = new Map<string, number>();
      for (const line of p.proc.lines.slice(linesFrom.get(p) ?? 0)) {
        const m = /"level":(\d+).*?"msg":"([^"]*)"/.exec(line);
        if (m && Number(m[1]) >= 30 && m[2] !== 'incoming request' && m[2] !== 'request completed') said.set(m[2]!, (said.get(m[2]!) ?? 0) + 1);
      }
      if (said.size)
        console.log(
          `  ${labels.get(p)} logged: ${[...said]
            .sort((a, b) => b[1] - a[1])
            .slice(0, 5)
            .map(([msg, n]) => `${n}× ${msg}`)
            .join('; ')}`,
        );
    }
    if (natsSaid.size)
      console.log(
        `  nats-server logged: ${[...natsSaid]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 5)
          .map(([msg, n]) => `${n}× ${msg}`)
          .join('; ')}`,
      );
  } finally {
    for (const g of generators) g.send({ type: 'stop' });
    await seal?.close().catch(() => {});
    await Promise.all(all.map((p) => p.stop().catch(() => {})));
    for (const g of generators) g.child.kill('SIGKILL');
    await nc.close();
    await nats.stop();
    await keys.cleanup();
    await Promise.all(all.map((p) => rm(p.dir, { recursive: true, force: true })));
  }
}

interface Row {
  agents: number;
  connections: number;
  seconds: number;
  reportMs: number[];
  events: number;
  reports: number;
  polls: number;
  refused: number;
  errors: number;
  handshakes: { full: number; resumed: number };
  failures: Record<string, number>;
  sealLagMs: number[];
  /** Samples not seen sealed by the end of the step (counted at their age then). */
  unsealed: number;
  projectionLagMs: number[];
  cpu: Record<string, number>;
  /** The kernel's part of `cpu` (system time: syscalls, loopback TCP, TLS records are user time). */
  cpuSystem: Record<string, number>;
  machineCpu: number;
  calls: Record<string, Record<string, number>>;
  requests: number;
  rss: Record<string, number>;
  ingressRssDelta: number;
  /** Each role's event-loop delay over the measured window (p99, max), from its /metrics. */
  loopDelayMs: Record<string, { p99: number; max: number } | null>;
}

function meets(r: Row): boolean {
  return (
    r.refused === 0 &&
    r.errors <= r.reports * 0.001 &&
    percentile(r.reportMs, 99) < GOAL.reportP99Ms &&
    percentile(r.sealLagMs, 99) < GOAL.lagP99Ms &&
    percentile(r.projectionLagMs, 99) < GOAL.lagP99Ms
  );
}

function printRow(r: Row): void {
  const ms = (v: number[], p: number) => (v.length ? Math.round(percentile(v, p)).toString() : '-');
  const eps = r.events / r.seconds;
  const cols = [
    String(r.agents).padStart(7),
    String(r.connections).padStart(7),
    Math.round(eps).toString().padStart(9),
    `${ms(r.reportMs, 50)}/${ms(r.reportMs, 99)}`.padStart(18),
    ms(r.sealLagMs, 99).padStart(12),
    ms(r.projectionLagMs, 99).padStart(12),
    String(r.refused).padStart(5),
    String(r.errors).padStart(5),
  ];
  const cores = Object.entries(r.cpu)
    .map(([k, v]) => `${k} ${(v / r.seconds).toFixed(2)}`)
    .join(', ');
  const ours = Object.values(r.cpu).reduce((a, b) => a + b, 0);
  console.log(`  ${cols.join(' ')}  ${meets(r) ? 'ok ' : 'MISS'} ${cores}; not ours ${(Math.max(0, r.machineCpu - ours) / r.seconds).toFixed(2)}`);
  const pad = ' '.repeat(11);
  const perEvent = Object.entries(r.cpu)
    .filter(([k]) => k !== 'bench' && !k.startsWith('generator'))
    .map(([k, v]) => `${k} ${r.events ? Math.round((v * 1e6) / r.events) : '-'} (kernel ${v ? Math.round((100 * (r.cpuSystem[k] ?? 0)) / v) : 0}%)`)
    .join(', ');
  const generatorsUs = Object.entries(r.cpu).reduce((a, [k, v]) => a + (k.startsWith('generator') ? v : 0), 0);
  console.log(`${pad}server CPU µs per event: ${perEvent}; the generators ${r.events ? Math.round((generatorsUs * 1e6) / r.events) : '-'} (not the server's)`);
  const calls = Object.entries(r.calls)
    .map(([name, byKind]) => {
      const total = Object.values(byKind).reduce((a, b) => a + b, 0);
      const kinds = Object.entries(byKind)
        .filter(([, n]) => n > 0)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 4)
        .map(([k, n]) => `${k} ${(n / Math.max(1, r.requests)).toFixed(3)}`)
        .join(' ');
      return `${name} ${(total / Math.max(1, r.requests)).toFixed(3)}${kinds ? ` (${kinds})` : ''}`;
    })
    .join('; ');
  console.log(
    `${pad}lags ms (p50/p90/p99/max): sealed ${[50, 90, 99, 100].map((q) => ms(r.sealLagMs, q)).join('/')} of ${r.sealLagMs.length} samples (${r.unsealed} not seen sealed by the end, counted at their age); read models ${[50, 90, 99, 100].map((q) => ms(r.projectionLagMs, q)).join('/')} of ${r.projectionLagMs.length}`,
  );
  console.log(`${pad}requests ${r.requests} (${r.reports} reports, ${r.polls} long-polls answered); JetStream calls per request: ${calls}`);
  const loops = Object.entries(r.loopDelayMs)
    .flatMap(([k, d]) => (d ? [`${k} ${Math.round(d.p99)}/${Math.round(d.max)}`] : []))
    .join(', ');
  // A loop held for seconds makes every request and the ingress's views wait alike; a quiet loop with views behind points at delivery.
  if (loops) console.log(`${pad}event-loop delay ms (p99/max over the window): ${loops}`);
  const rss = Object.entries(r.rss)
    .map(([k, v]) => `${k} ${Math.round(v / 1024 / 1024)}`)
    .join(', ');
  const failures = Object.entries(r.failures)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  if (failures) console.log(`${pad}failed requests: ${failures}`);
  console.log(
    `${pad}memory MiB: ${rss}; ingress +${(r.ingressRssDelta / 1024 / Math.max(1, r.connections)).toFixed(1)} KiB per connection; TLS handshakes full ${r.handshakes.full}, resumed ${r.handshakes.resumed}`,
  );
}

function minus(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - (b[k] ?? 0)]));
}

function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function rssOf(pids: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, rssBytes(pid)]));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startGenerator(i: number, onSample: (s: Sample) => void): Promise<Generator> {
  const file = resolve(import.meta.dirname, 'fleet-worker.ts');
  const child = spawn('prlimit', [`--nofile=${FDS}:${FDS}`, '--', process.execPath, '--import', 'tsx', file], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, FLEET_WORKER: String(i) },
  });
  const waiting: Array<(s: WorkerStats) => void> = [];
  await new Promise<void>((resolveReady, reject) => {
    child.once('error', reject);
    child.on('message', (m: { type: string; stats?: WorkerStats; sample?: Sample }) => {
      if (m.type === 'ready') resolveReady();
      else if (m.type === 'sample') onSample(m.sample!);
      else if (m.type === 'stats') waiting.shift()?.(m.stats!);
    });
  });
  return {
    child,
    send: (m) => child.send(m as never),
    stats: () =>
      new Promise<WorkerStats>((r) => {
        waiting.push(r);
        child.send({ type: 'stats' });
      }),
  };
}

/** Tenants whose events land in distinct partitions (the sealer and detector have work everywhere). */
async function makeTenants(call0: Awaited<ReturnType<typeof adminApi>>): Promise<Array<{ id: string; secret: string }>> {
  const run = Date.now().toString(36);
  const seen = new Set<number>();
  const ids: string[] = [];
  for (let i = 0; ids.length < TENANTS; i++) {
    const id = `fleet-${run}-${i}`;
    if (seen.has(partitionOf(id))) continue;
    seen.add(partitionOf(id));
    ids.push(id);
  }
  return Promise.all(
    ids.map(async (id) => {
      const created = await call0('POST', '/api/v1/tenants', { id, name: `Fleet ${id}` });
      if (created.status !== 201) throw new Error(`tenant create answered ${created.status}: ${JSON.stringify(created.body)}`);
      const edr = await call0('PUT', `/api/v1/tenants/${id}/products/edr`, { enabled: true });
      if (edr.status !== 200) throw new Error(`edr answered ${edr.status}`);
      return { id, secret: created.body.enrollSecret as string };
    }),
  );
}

/** `n` identities enrolled through the ingress (P-256 keys made here, as an agent makes its own), tenants in turn. */
async function enrollPool(url: string, caPem: string, tenants: Array<{ id: string; secret: string }>, n: number): Promise<Identity[]> {
  const anon = new Agent({ ca: caPem, keepAlive: true, maxSockets: 32 });
  const out: Identity[] = [];
  let next = 0;
  let busy = 0;
  try {
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < n) {
          const i = next++;
          const t = tenants[i % tenants.length]!;
          const { keyPem, csrPem } = await createAgentKeyAndCsr('ec-P-256');
          const body = { secret: t.secret, csr: csrPem, hostname: `fleet-${i}`, os: 'linux', agentVersion: 'fleet' };
          let r = await call(anon, url, 'POST', '/agent/v1/enroll', body);
          // Busy: tried again after what it asks, as the agent does.
          for (let tries = 0; r.status === 503 && tries < 10; tries++) {
            busy++;
            await sleep(1_000 * Number(r.body?.error?.data?.retryAfterSeconds ?? 1));
            r = await call(anon, url, 'POST', '/agent/v1/enroll', body);
          }
          if (r.status !== 201) throw new Error(`enroll answered ${r.status}: ${JSON.stringify(r.body)}`);
          out.push({ tenant: t.id, agentId: r.body.agentId, certPem: r.body.certificate, keyPem });
        }
      }),
    );
  } finally {
    anon.destroy();
  }
  if (busy) console.log(`  ${busy} enrollments were answered 503 (busy) and sent again after their Retry-After`);
  return out;
}

/** The bus of a fleet run: its URL(s) for the roles, its server processes by label, and how to stop it. */
interface Bus {
  url: string;
  pids: Record<string, number>;
  stop(): Promise<void>;
}

async function singleNode(o: Parameters<typeof natsFixture>[0]): Promise<Bus> {
  const f = await natsFixture(o);
  return { url: f.url, pids: { 'nats-server': f.server.pid }, stop: () => f.stop() };
}

async function clusterOnLoopback(): Promise<Bus> {
  const c = await clusterFixture();
  return {
    url: c.urls.join(','),
    pids: Object.fromEntries(c.servers.map((s, i) => [`nats-server#${i + 1}`, s.pid])),
    stop: () => c.stopAll(),
  };
}

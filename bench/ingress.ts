import { Agent } from 'node:https';
import { jetstream } from '@nats-io/jetstream';
import { call, type AgentState } from '../src/agent/client.ts';
import { EVENTS_STREAM, type EventLog, encodeRecord, eventSubject, tenantFilter } from '../src/log/mod.ts';
import { createLogger } from '../src/logger.ts';
import { newId } from '../src/ids.ts';
import { createAgentKeyAndCsr } from '../src/pki/agent-key.ts';
import { IngressFeed } from '../src/ingress/feed.ts';
import { admitted, type AgentIdentity } from '../src/ingress/identity.ts';
import { readAgentRecord } from '../src/ingress/agents.ts';
import { planReport, writeReport } from '../src/ingress/report.ts';
import { createTenant } from '../test/ingress/fixture.ts';
import { ingressOnNats, measure, report } from './util.ts';

const ENROLLMENTS = 2_000;
const ENROLL_IN_FLIGHT = 32;
const AGENTS = 50;
const BATCH = 100;
const BATCHES_PER_AGENT = 10;
const WAITING = 2_000;
const VIEW_MESSAGES = 20_000;

const alertData = {
  rule: 'edr.suspicious-child',
  severity: 'high',
  title: 'powershell.exe spawned by winword.exe',
  details: { process: 'powershell.exe', parent: 'winword.exe', sha256: 'a'.repeat(64) },
};

/**
 * Enrollments/s end to end over HTTPS (CSR → certificate → `agent.enrolled` appended) beside raw
 * JetStream publishes of the same record, and report events/s through the ingress (50 agents on
 * keep-alive mTLS connections, batches of 100 alerts) beside the same batches written through the
 * write path directly, in the same run.
 */
export async function benchIngress(): Promise<void> {
  const bench = await ingressOnNats('stk-bench-ingress-');
  const { log, ingress, nc } = bench;
  const js = jetstream(nc);
  try {
    const { tenant, secret } = await createTenant(log, ['edr']);
    const caPem = ingress.ca.certificatePem;

    // The agents' keys and CSRs are made before the clock starts: that work is the agents', not the server's.
    const csrs = await Promise.all(Array.from({ length: ENROLLMENTS + AGENTS }, () => createAgentKeyAndCsr('ec-P-256')));
    const anon = new Agent({ ca: caPem, keepAlive: true, maxSockets: ENROLL_IN_FLIGHT });
    const enrollBody = (i: number) => ({ secret, csr: csrs[i]!.csrPem, hostname: `host-${i}`, os: 'linux', agentVersion: 'bench' });
    await measure(50, 8, (i) => call(anon, ingress.url, 'POST', '/agent/v1/enroll', enrollBody(ENROLLMENTS + i - 50)));
    const enrolled: AgentState[] = [];
    const enrollRate = await measure(ENROLLMENTS, ENROLL_IN_FLIGHT, async (i) => {
      const r = await call(anon, ingress.url, 'POST', '/agent/v1/enroll', enrollBody(i));
      if (r.status !== 201) throw new Error(`enroll answered ${r.status}: ${JSON.stringify(r.body)}`);
      if (i < AGENTS) enrolled.push({ url: ingress.url, agentId: r.body.agentId, keyPem: csrs[i]!.keyPem, certPem: r.body.certificate, caPem });
    });
    const enrolledSample = (await log.readAggregate({ tenant, aggregateType: 'agent', aggregateId: enrolled[0]!.agentId })).events[0]!;
    const enrolledBytes = encodeRecord([enrolledSample]);
    const rawEnroll = await measure(ENROLLMENTS, ENROLL_IN_FLIGHT, (i) =>
      js.publish(eventSubject({ tenant: 'bench-raw', aggregateType: 'agent', aggregateId: `e${i}` }), enrolledBytes),
    );
    anon.destroy();

    // Reports: every agent on its own keep-alive mTLS connection.
    const agents = enrolled.map((s) => ({ s, tls: new Agent({ ca: caPem, cert: s.certPem, key: s.keyPem, keepAlive: true, maxSockets: 1 }) }));
    const batch = () => Array.from({ length: BATCH }, () => ({ kind: 'alert' as const, at: new Date().toISOString(), data: alertData }));
    const send = async (a: (typeof agents)[number]) => {
      const r = await call(a.tls, ingress.url, 'POST', '/agent/v1/report', { agentId: a.s.agentId, batchId: newId(), events: batch() });
      if (r.status !== 202) throw new Error(`report answered ${r.status}: ${JSON.stringify(r.body)}`);
    };
    await Promise.all(agents.map((a) => send(a))); // warm-up: connections, JIT
    const t0 = process.hrtime.bigint();
    await Promise.all(
      agents.map(async (a) => {
        for (let b = 0; b < BATCHES_PER_AGENT; b++) await send(a);
      }),
    );
    const reportRate = (AGENTS * BATCHES_PER_AGENT * BATCH) / (Number(process.hrtime.bigint() - t0) / 1e9);

    // One report's record (the tenant's newest), for its size.
    const alertBytes = (await log.streams.last(EVENTS_STREAM, tenantFilter(tenant)))!.data;

    // The same batches through the write path itself (plan, decide, seal, encode, one commit each),
    // without the HTTPS edge: the ratio is what TLS, HTTP, the schema and authentication add.
    const identities = await Promise.all(
      enrolled.map(async (s) => admitted({ record: await readAgentRecord(log, tenant, s.agentId), tenant: { suspended: false, products: ['edr'] } })),
    );
    const direct = async (agent: AgentIdentity): Promise<void> => {
      const plan = planReport(agent, agent.products, { agentId: agent.agentId, batchId: newId(), events: batch() });
      if (!plan.ok) throw plan.error;
      await writeReport(log, agent, plan);
    };
    await Promise.all(identities.map((a) => direct(a))); // warm-up
    const t1 = process.hrtime.bigint();
    await Promise.all(
      identities.map(async (a) => {
        for (let b = 0; b < BATCHES_PER_AGENT; b++) await direct(a);
      }),
    );
    const directRate = (AGENTS * BATCHES_PER_AGENT * BATCH) / (Number(process.hrtime.bigint() - t1) / 1e9);
    for (const a of agents) a.tls.destroy();

    console.log(
      `  ${ENROLLMENTS} enrollments (P-256 CSRs, ${ENROLL_IN_FLIGHT} in flight); ${AGENTS} agents × ${BATCHES_PER_AGENT} batches × ${BATCH} alerts; report record ${alertBytes.length} bytes`,
    );
    report('enrollments end to end over HTTPS (CSR → certificate → event)', enrollRate, 'enroll/s', {
      label: 'raw publish of agent.enrolled',
      value: rawEnroll,
    });
    console.log(`  ${'enrollment goal: ≥ 500/s'.padEnd(58)} ${enrollRate >= 500 ? 'met' : 'NOT met'}`);
    // Goal: the edge costs at most what the write itself costs.
    report('report events through the ingress (mTLS, batches of 100)', reportRate, 'events/s', {
      label: 'the same batches written directly',
      value: directRate,
      goal: 0.5,
    });

    // The views while thousands of requests wait for them (a new ingress taking a fleet's first requests).
    const quiet = await viewsRate(log, js, enrolledBytes, 0);
    const busy = await viewsRate(log, js, enrolledBytes, WAITING);
    report(`views following the log, ${WAITING} requests waiting on them`, busy, 'msgs/s', { label: 'no request waiting', value: quiet });
  } finally {
    await bench.close();
  }
}

/**
 * Messages/s an ingress's views apply while `waiting` requests each ask, again and again, for views
 * that hold everything stored before they asked (`current()`), as a new ingress's are asked by a
 * fleet's first requests: from the first of the messages stored to the views holding the last.
 */
async function viewsRate(log: EventLog, js: ReturnType<typeof jetstream>, bytes: Uint8Array, waiting: number): Promise<number> {
  const feed = new IngressFeed(log, createLogger({ level: 'silent' }));
  await feed.start();
  let done = false;
  const askers = Array.from({ length: waiting }, async () => {
    while (!done) await feed.current(60_000).catch(() => {});
  });
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: VIEW_MESSAGES / 500 }, async (_, b) => {
      for (let i = 0; i < 500; i++) await js.publish(eventSubject({ tenant: 'bench-views', aggregateType: 'alert', aggregateId: `v${b}-${i}` }), bytes);
    }),
  );
  const end = await log.lastPosition();
  await new Promise<void>((resolve) => {
    const check = (): void => (feed.position >= end ? resolve() : void setImmediate(check));
    check();
  });
  const rate = VIEW_MESSAGES / ((performance.now() - t0) / 1000);
  done = true;
  await feed.close();
  await Promise.all(askers);
  return rate;
}

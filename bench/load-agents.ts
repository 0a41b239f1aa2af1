import type { ConsistencyTokens } from '../src/api/consistency.ts';
import { Agent } from 'node:https';
import { readFileSync } from 'node:fs';
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { call } from '../src/agent/client.ts';
import { newId } from '../src/ids.ts';
import { LEDGER_STREAM, LEDGER_SUBJECT_PREFIX } from '../src/ledger/format.ts';
import { createAgentKeyAndCsr } from '../src/pki/agent-key.ts';

/** One simulated endpoint: its own certificate on its own keep-alive mTLS connection. */
export interface SimAgent {
  tenant: string;
  agentId: string;
  tls: Agent;
}

/** What one step of load recorded; latencies in ms. */
export interface StepStats {
  reportMs: number[];
  pollMs: number[];
  refused: number;
  events: number;
  sealLagMs: number[];
  projectionLagMs: number[];
  /** CPU seconds per role process over the measured window. */
  cpu: Record<string, number>;
  /** JetStream calls per role process over the measured window, by kind (from each one's /metrics). */
  calls: Record<string, Record<string, number>>;
  /** Requests the ingress answered over the measured window, by route. */
  requests: Record<string, number>;
  /** CPU seconds the whole machine spent busy over the window (ours and everyone else's). */
  machineCpu: number;
  seconds: number;
}

const ALERT = { rule: 'edr.load-test', severity: 'medium', title: 'simulated detection', details: { process: 'sim.exe' } } as const;

/** Enrolls `count` agents of `tenant` through the ingress; keys are made before, as an agent would. */
export async function enrollAgents(o: { url: string; caPem: string; tenant: string; secret: string; count: number; from: number }): Promise<SimAgent[]> {
  const csrs = await Promise.all(Array.from({ length: o.count }, () => createAgentKeyAndCsr('ec-P-256')));
  const anon = new Agent({ ca: o.caPem, keepAlive: true, maxSockets: 16 });
  try {
    return await Promise.all(
      csrs.map(async (c, i) => {
        const r = await call(anon, o.url, 'POST', '/agent/v1/enroll', {
          secret: o.secret,
          csr: c.csrPem,
          hostname: `sim-${o.from + i}`,
          os: 'linux',
          agentVersion: 'load',
        });
        if (r.status !== 201) throw new Error(`enroll answered ${r.status}: ${JSON.stringify(r.body)}`);
        return {
          tenant: o.tenant,
          agentId: r.body.agentId,
          tls: new Agent({ ca: o.caPem, cert: r.body.certificate, key: c.keyPem, keepAlive: true, maxSockets: 1 }),
        };
      }),
    );
  } finally {
    anon.destroy();
  }
}

/**
 * Follows LEDGER from now on and tells, for a sampled report, when a block of its tenant first
 * covers the report's position: one ordered consumer for all samples, not one per sample.
 */
export class SealWatch {
  readonly #pending: Array<{ tenant: string; seq: number; ackAt: number; done: (ms: number) => void }> = [];
  /** Per tenant, the blocks sealed lately: the last sequence each covers and when it was stored. */
  readonly #blocks = new Map<string, Array<{ lastSeq: number; at: number }>>();
  #messages: { close(): Promise<unknown> } | null = null;
  #drained: (() => void) | null = null;

  static async start(nc: NatsConnection): Promise<SealWatch> {
    const w = new SealWatch();
    const c = await jetstream(nc).consumers.get(LEDGER_STREAM, { filter_subjects: `${LEDGER_SUBJECT_PREFIX}>`, deliver_policy: DeliverPolicy.New });
    const messages = await c.consume();
    w.#messages = messages;
    void (async () => {
      for await (const m of messages) {
        const tenant = m.subject.slice(LEDGER_SUBJECT_PREFIX.length);
        const lastSeq = (JSON.parse(new TextDecoder().decode(m.data)) as { lastSeq: number }).lastSeq;
        // When the block was stored, not when this process read it: a busy bench reads late.
        const at = m.time.getTime();
        const blocks = w.#blocks.get(tenant) ?? [];
        blocks.push({ lastSeq, at });
        while (blocks.length > 1 && blocks[0]!.at < at - 600_000) blocks.shift();
        w.#blocks.set(tenant, blocks);
        for (let i = w.#pending.length - 1; i >= 0; i--) {
          const p = w.#pending[i]!;
          if (p.tenant === tenant && p.seq <= lastSeq) {
            w.#pending.splice(i, 1);
            p.done(Math.max(0, at - p.ackAt));
          }
        }
        if (w.#pending.length === 0) w.#drained?.();
      }
    })();
    return w;
  }

  /**
   * Records the time from `ackAt` until `seq` of `tenant` was sealed (the storing of the first block
   * that covers it) to `done`, whether that happened already or is still to come.
   */
  watch(tenant: string, seq: number, ackAt: number, done: (ms: number) => void): void {
    const sealed = this.#blocks.get(tenant)?.find((b) => b.lastSeq >= seq);
    if (sealed) done(Math.max(0, sealed.at - ackAt));
    else this.#pending.push({ tenant, seq, ackAt, done });
  }

  /** Waits up to `graceMs` for outstanding samples, then counts each still unsealed at its age; returns how many those were. */
  async settle(graceMs: number): Promise<number> {
    if (this.#pending.length) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#drained = resolve;
        timer = setTimeout(resolve, graceMs);
      });
      clearTimeout(timer);
      this.#drained = null;
    }
    const now = Date.now();
    const late = this.#pending.splice(0);
    for (const p of late) p.done(now - p.ackAt);
    return late.length;
  }

  async close(): Promise<void> {
    await this.#messages?.close();
  }
}

/**
 * Runs every agent for `ms`: each reports a heartbeat and `alerts` alerts, then polls its
 * commands, once per `intervalMs` (starting at a random offset so the load is spread). Figures
 * count only after `warmMs`; about one report every `sampleEveryMs` is followed to its sealing
 * and, through `?waitFor=`, to its visibility on an API replica (taken in turn).
 */
export async function runStep(o: {
  agents: SimAgent[];
  ingressUrl: string;
  apiUrls: string[];
  adminKey: string;
  seal: SealWatch;
  /** The install's read tokens: a report answers with one, the bench reads its position from it. */
  tokens: ConsistencyTokens;
  intervalMs: number;
  alerts: number;
  ms: number;
  warmMs: number;
  sampleEveryMs: number;
  pids: Record<string, number>;
  /** Base URL of each role process's /metrics, by the same names as `pids`. */
  metrics: Record<string, string>;
}): Promise<StepStats> {
  const s: StepStats = {
    reportMs: [],
    pollMs: [],
    refused: 0,
    events: 0,
    sealLagMs: [],
    projectionLagMs: [],
    cpu: {},
    calls: {},
    requests: {},
    machineCpu: 0,
    seconds: (o.ms - o.warmMs) / 1000,
  };
  const start = Date.now();
  const measureFrom = start + o.warmMs;
  const end = start + o.ms;
  let lastSample = 0;
  let replica = 0;
  const probes: Promise<void>[] = [];
  let cpu0: Record<string, number> | null = null;
  let machine0 = 0;
  let scraped0: Promise<Scraped> | null = null;
  const cpuTimer = setTimeout(() => {
    cpu0 = cpuSeconds(o.pids);
    machine0 = machineBusySeconds();
    scraped0 = scrapeAll(o.metrics);
  }, o.warmMs);

  const sample = (tenant: string, token: string, ackAt: number): void => {
    const position = o.tokens.read(tenant, token) ?? 0;
    o.seal.watch(tenant, position, ackAt, (ms) => s.sealLagMs.push(ms));
    const api = o.apiUrls[replica++ % o.apiUrls.length]!;
    probes.push(
      fetch(`${api}/api/v1/tenants/${tenant}/overview?waitFor=${token}&waitMs=10000`, { headers: { authorization: `Bearer ${o.adminKey}` } }).then(
        async (r) => {
          await r.arrayBuffer();
          s.projectionLagMs.push(r.status === 200 ? Date.now() - ackAt : Math.max(10_000, Date.now() - ackAt));
        },
      ),
    );
  };

  const loop = async (a: SimAgent): Promise<void> => {
    await sleep(Math.random() * o.intervalMs);
    while (Date.now() < end) {
      const t0 = Date.now();
      const at = new Date(t0).toISOString();
      const events = [{ kind: 'heartbeat', at, data: {} }, ...Array.from({ length: o.alerts }, () => ({ kind: 'alert', at, data: ALERT }))];
      const r = await call(a.tls, o.ingressUrl, 'POST', '/agent/v1/report', { agentId: a.agentId, batchId: newId(), events });
      const t1 = Date.now();
      const counted = t0 >= measureFrom && t1 <= end;
      if (r.status !== 202) {
        if (counted) s.refused++;
      } else if (counted) {
        s.reportMs.push(t1 - t0);
        s.events += events.length;
        if (t1 - lastSample >= o.sampleEveryMs) {
          lastSample = t1;
          sample(a.tenant, r.body.consistencyToken as string, t1);
        }
      }
      const p0 = Date.now();
      const c = await call(a.tls, o.ingressUrl, 'GET', '/agent/v1/commands');
      if (c.status === 200 && counted) s.pollMs.push(Date.now() - p0);
      await sleep(t0 + o.intervalMs - Date.now());
    }
  };
  await Promise.all(o.agents.map(loop));
  clearTimeout(cpuTimer);
  const cpu1 = cpuSeconds(o.pids);
  for (const [role, t] of Object.entries(cpu1)) s.cpu[role] = t - (cpu0?.[role] ?? t);
  s.machineCpu = machineBusySeconds() - machine0;
  const scraped1 = await scrapeAll(o.metrics);
  const before = (await (scraped0 ?? Promise.resolve(scraped1))) as Scraped;
  for (const [name, after] of Object.entries(scraped1)) {
    s.calls[name] = minus(after.calls, before[name]?.calls ?? after.calls);
    for (const [route, n] of Object.entries(minus(after.requests, before[name]?.requests ?? after.requests))) s.requests[route] = (s.requests[route] ?? 0) + n;
  }
  await Promise.all(probes);
  await o.seal.settle(5_000);
  return s;
}

type Scraped = Record<string, { calls: Record<string, number>; requests: Record<string, number>; loopDelayMs: { p99: number; max: number } | null }>;

/** JetStream calls by kind and ingress responses by route, from each process's /metrics. */
export async function scrapeAll(urls: Record<string, string>): Promise<Scraped> {
  const out: Scraped = {};
  await Promise.all(
    Object.entries(urls).map(async ([name, url]) => {
      const text = await fetch(`${url}/metrics`).then(
        (r) => r.text(),
        () => '',
      );
      const calls: Record<string, number> = {};
      const requests: Record<string, number> = {};
      for (const m of text.matchAll(/^stockade_jetstream_calls_total\{op="([a-z_]+)"\} (\d+)/gm)) calls[m[1]!] = Number(m[2]);
      for (const m of text.matchAll(/^stockade_ingress_responses_total\{route="([^"]+)",status="\d+"\} (\d+)/gm)) {
        requests[m[1]!] = (requests[m[1]!] ?? 0) + Number(m[2]);
      }
      // prom-client resets its event-loop delay histogram on each scrape: this is the delay since the one before.
      const delay = (q: string): number | null => {
        const m = new RegExp(`^stockade_nodejs_eventloop_lag_${q}_seconds (\\S+)`, 'm').exec(text);
        return m ? Number(m[1]) * 1000 : null;
      };
      const p99 = delay('p99');
      const max = delay('max');
      out[name] = { calls, requests, loopDelayMs: p99 === null || max === null ? null : { p99, max } };
    }),
  );
  return out;
}

function minus(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - (b[k] ?? 0)]));
}

/** User + system CPU seconds of each process (Linux /proc; clock ticks of 1/100 s). */
export function cpuSeconds(pids: Record<string, number>, only?: 'system'): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      out[name] = ((only === 'system' ? 0 : Number(fields[11])) + Number(fields[12])) / 100;
    } catch {
      out[name] = 0;
    }
  }
  return out;
}

/** Busy CPU seconds of the whole machine since boot (/proc/stat: all but idle and iowait). */
export function machineBusySeconds(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - f[3]! - f[4]!) / 100;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}

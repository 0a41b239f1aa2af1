/**
 * One load-generator process of the fleet profile (`bench/fleet.ts` forks several): it simulates
 * many agents, each with two keep-alive mTLS connections to the ingress — one holding a command
 * long-poll (`GET /agent/v1/commands?wait=30`, asked again as soon as it is answered), one for its
 * report, a batch every interval at its own phase with jitter — and now and then drops both and
 * reconnects (resuming its TLS session). Simulated agents share the identities (certificates) the
 * parent enrolled, several to one; the reports of one identity are sent one after another, as one
 * agent would.
 */
import { createSecureContext, type SecureContext } from 'node:tls';
import { newId } from '../src/ids.ts';
import { FleetConn } from './fleet-conn.ts';

export interface Identity {
  tenant: string;
  agentId: string;
  certPem: string;
  keyPem: string;
}

export interface WorkerInit {
  host: string;
  caPem: string;
  localAddress: string;
  intervalMs: number;
  /** Each report is moved by up to ± this share of the interval. */
  jitterRatio: number;
  /** Share of reports before which the agent drops its connections and reconnects. */
  reconnectRatio: number;
  alerts: number;
  waitS: number;
  /** New agents open their connections spread over this long. */
  rampMs: number;
}

export interface WorkerStats {
  reportMs: number[];
  reports: number;
  events: number;
  refused: number;
  errors: number;
  polls: number;
  pollErrors: number;
  handshakes: { full: number; resumed: number };
  /** Failed requests by what went wrong (a status or an error's message). */
  failures: Record<string, number>;
  connections: number;
  agents: number;
  rssBytes: number;
}

/** An acknowledged report (about one per 100 ms per generator): the parent follows it to sealing and to the read models. */
export interface Sample {
  tenant: string;
  token: string;
  ackAt: number;
}

/** `add`: `count` more agents, all on the ingress at `port` (several ingress processes share the fleet). */
type Msg = { type: 'init'; init: WorkerInit } | { type: 'add'; identities: Identity[]; count: number; port: number } | { type: 'stats' } | { type: 'stop' };

const ALERT = { rule: 'edr.load-test', severity: 'medium', title: 'simulated detection', details: { process: 'sim.exe' } };

let init: WorkerInit;
/** Each identity's TLS session per ingress port: a session resumes only with the process that issued it. */
const identities: Array<Identity & { context: SecureContext; sessions: Map<number, Buffer>; chain: Promise<unknown> }> = [];
const conns = new Set<FleetConn>();
let stopped = false;
let stats: WorkerStats = fresh();
let lastSampleMs = 0;
let agents = 0;

function fresh(): WorkerStats {
  return {
    reportMs: [],
    reports: 0,
    events: 0,
    refused: 0,
    errors: 0,
    polls: 0,
    pollErrors: 0,
    handshakes: { full: 0, resumed: 0 },
    failures: {},
    connections: 0,
    agents: 0,
    rssBytes: 0,
  };
}

function failed(what: string): void {
  stats.failures[what] = (stats.failures[what] ?? 0) + 1;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

function conn(id: (typeof identities)[number], port: number): FleetConn {
  const c = new FleetConn({
    host: init.host,
    port,
    localAddress: init.localAddress,
    context: id.context,
    sessions: { get: () => id.sessions.get(port), set: (s) => id.sessions.set(port, s) },
    onConnect: (resumed) => {
      if (resumed) stats.handshakes.resumed++;
      else stats.handshakes.full++;
    },
  });
  conns.add(c);
  return c;
}

/** One simulated agent: its poll loop and its report timer. */
function simulate(id: (typeof identities)[number], port: number): void {
  agents++;
  const poll = conn(id, port);
  const report = conn(id, port);
  const pollLoop = async (): Promise<void> => {
    await sleep(Math.random() * init.rampMs);
    while (!stopped) {
      try {
        const a = await poll.request('GET', `/agent/v1/commands?wait=${init.waitS}`);
        if (a.status === 200) stats.polls++;
        else {
          stats.pollErrors++;
          failed(`poll ${a.status}`);
          await sleep(1000);
        }
      } catch (err) {
        if (stopped) return;
        // The agent's own reconnect (below) cut its poll short: the next poll goes on a new connection.
        if (poll.closedByUs) continue;
        stats.pollErrors++;
        failed(`poll ${(err as Error).message}`);
        await sleep(500 + Math.random() * 1000);
      }
    }
  };
  const send = async (): Promise<void> => {
    if (Math.random() < init.reconnectRatio) {
      // Now and then an agent's connections drop (a laptop sleeps, a NAT forgets): both reconnect, resuming.
      report.close();
      poll.close();
    }
    const at = new Date().toISOString();
    const events = [{ kind: 'heartbeat', at, data: {} }, ...Array.from({ length: init.alerts }, () => ({ kind: 'alert', at, data: ALERT }))];
    const body = JSON.stringify({ agentId: id.agentId, batchId: newId(), events });
    const t0 = performance.now();
    try {
      const a = await report.request('POST', '/agent/v1/report', body);
      const ms = performance.now() - t0;
      if (a.status === 202) {
        stats.reports++;
        stats.events += events.length;
        stats.reportMs.push(ms);
        const now = Date.now();
        if (now - lastSampleMs >= 100) {
          lastSampleMs = now;
          // Sent at once, not with the next stats: the parent starts following it to sealing and to
          // the read models now, so the lags it measures do not include a wait for the next window.
          const sample: Sample = { tenant: id.tenant, token: (JSON.parse(a.body) as { consistencyToken: string }).consistencyToken, ackAt: now };
          process.send!({ type: 'sample', sample });
        }
      } else if (a.status === 503) stats.refused++;
      else {
        stats.errors++;
        failed(`report ${a.status}`);
      }
    } catch (err) {
      stats.errors++;
      failed(`report ${(err as Error).message}`);
    }
  };
  const reportLoop = async (): Promise<void> => {
    // A starting agent asks for its configuration first: its reports' connection is open (and its
    // certificate known to the ingress) before the first report, as in a fleet that runs.
    await sleep(Math.random() * init.rampMs);
    if (stopped) return;
    const config = await report.request('GET', '/agent/v1/config').catch((err: Error) => ({ status: 0, body: err.message }));
    if (config.status !== 200) failed(`config ${config.status || config.body}`);
    let next = Date.now() + Math.random() * init.intervalMs;
    while (!stopped) {
      await sleep(next - Date.now());
      if (stopped) return;
      // One report at a time per identity, as one agent sends them.
      const run = id.chain.then(send);
      id.chain = run.catch(() => {});
      await run;
      next += init.intervalMs * (1 + init.jitterRatio * (2 * Math.random() - 1));
    }
  };
  void pollLoop();
  void reportLoop();
}

// The bench is gone (finished, interrupted or killed): its generators go with it.
process.on('disconnect', () => process.exit(0));

process.on('message', (m: Msg) => {
  switch (m.type) {
    case 'init':
      init = m.init;
      return;
    case 'add': {
      for (const i of m.identities) {
        identities.push({
          ...i,
          context: createSecureContext({ ca: init.caPem, cert: i.certPem, key: i.keyPem }),
          sessions: new Map(),
          chain: Promise.resolve(),
        });
      }
      const from = agents;
      for (let k = 0; k < m.count; k++) simulate(identities[(from + k) % identities.length]!, m.port);
      return;
    }
    case 'stats': {
      const out = stats;
      stats = fresh();
      out.connections = [...conns].filter((c) => c.open).length;
      out.agents = agents;
      out.rssBytes = process.memoryUsage().rss;
      process.send!({ type: 'stats', stats: out });
      return;
    }
    case 'stop':
      stopped = true;
      for (const c of conns) c.close();
      setTimeout(() => process.exit(0), 100);
      return;
  }
});
process.send!({ type: 'ready' });

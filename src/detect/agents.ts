/**
 * Agent health, derived from agent events: when each agent was last heard from, whether it said it
 * was stopping, when its process started, its clock, its certificate. Pure: records in, detection
 * records out, time as data. Silence and certificate expiry depend on the time now, so `tick(nowMs)`
 * derives them; the detector calls it at each partition tick with its clock (a test's clock too).
 *
 * Every derived record carries the EVENTS sequence it rests on (the heartbeat that was last, the
 * event that set the certificate), so an alert counts it once however often the detector derives
 * it again (after a restart, every day a certificate is still near expiry).
 */
import { AGENT, AgentEvents, type AgentEnrolled, type CertificateRenewed } from '../../commands/agents/events.ts';
import type { EventEnvelope } from '../domain/events.ts';
import { type AgentHealthRecord, type CertificateRecord, certificateRecord, type DetectItem } from './records.ts';

/**
 * What the detector reads in an `agent.heartbeat`'s data besides the inventory. The ingress puts the
 * report event's time in `agentTime`; `agentStartedAt` and `stopping` come from the agent.
 */
export interface HeartbeatHealth {
  /** The agent's clock when it sent the heartbeat (ISO). */
  agentTime?: string;
  /** When the agent process started (ISO): a new value is a new start. */
  agentStartedAt?: string;
  /** The agent announces a clean stop (service stop, shutdown). */
  stopping?: boolean;
  agentVersion?: string;
}

/** One agent's health as the detector keeps it (checkpointed with the partition). */
export interface AgentHealth {
  hostname: string;
  agentVersion: string | null;
  revoked: boolean;
  lastSeenMs: number;
  /** EVENTS sequence of the last commit that showed the agent alive. */
  lastSeenSeq: number;
  /** Silence was reported for the current gap. */
  silent: boolean;
  /** The last `agentStartedAt` seen; null before the first. */
  startedAt: string | null;
  /** The agent said it was stopping since it last started. */
  stoppedCleanly: boolean;
  cert: { fingerprint: string; notAfter: string; seq: number; days: number | null } | null;
}

/** A record for the rules, the agent it is about, and the message it rests on. */
export interface Derived {
  tenant: string;
  agentId: string;
  item: DetectItem;
  /** The EVENTS sequence the record rests on. */
  seq: number;
  /** The time of the match: the event's time, or the tick's for silence and certificates. */
  atMs: number;
}

const DAY_MS = 86_400_000;

/**
 * The agents of a detector partition by tenant and id, with when each is next due a look: the
 * moment its silence would begin (last heard + `silenceMs`) or its certificate's whole days to
 * expiry change. A tick looks only at the agents due by then (a queue ordered by that moment), not
 * at the whole book: a fleet that reports on time costs a tick nothing, where a pass over every
 * agent each second grew with the fleet.
 */
export class AgentBook {
  readonly #agents: Agents = new Map();
  readonly #due = new DueQueue();
  /** When each agent's entry in the queue is due; an entry whose time is not this one is stale and skipped. */
  readonly #scheduled = new WeakMap<AgentHealth, number>();
  readonly #silenceMs: number;
  /** Agents the last tick looked at (its cost), for tests and metrics. */
  lastTickLooked = 0;

  constructor(silenceMs: number) {
    this.#silenceMs = silenceMs;
  }

  /** The book from a checkpoint's JSON; every agent is due a look at the first tick that its times call for. */
  static fromJson(json: Record<string, Record<string, AgentHealth>> | undefined, silenceMs: number): AgentBook {
    const book = new AgentBook(silenceMs);
    for (const [t, m] of Object.entries(json ?? {})) for (const [id, a] of Object.entries(m)) book.#put(t, id, a);
    return book;
  }

  /** The book as JSON for a checkpoint. */
  toJson(): Record<string, Record<string, AgentHealth>> {
    const out: Record<string, Record<string, AgentHealth>> = {};
    for (const [t, m] of this.#agents) out[t] = Object.fromEntries(m);
    return out;
  }

  get(tenant: string, agentId: string): AgentHealth | undefined {
    return this.#agents.get(tenant)?.get(agentId);
  }

  /** The hostname an agent enrolled with, if the book knows the agent. */
  hostnameOf(tenant: string, agentId: string): string | null {
    return this.get(tenant, agentId)?.hostname ?? null;
  }

  /** Applies one commit of an `agent` aggregate (at stream sequence `seq`); returns the records it gives. */
  observe(tenant: string, agentId: string, events: readonly EventEnvelope[], seq: number): Derived[] {
    const out = observeAgent(this.#agents, tenant, agentId, events, seq);
    const a = this.get(tenant, agentId);
    if (a) this.#schedule(tenant, agentId, a);
    return out;
  }

  /**
   * What the time `nowMs` says: agents not heard from for `silenceMs` (once per gap), and each
   * certificate whose whole days to expiry changed since it was last looked at.
   */
  tick(nowMs: number): Derived[] {
    const out: Derived[] = [];
    let looked = 0;
    for (let e = this.#due.peek(); e && e.at <= nowMs; e = this.#due.peek()) {
      this.#due.pop();
      // Stale: the agent was scheduled earlier since (this entry was left in place), or enrolled again.
      if (this.#scheduled.get(e.agent) !== e.at || this.get(e.tenant, e.agentId) !== e.agent) continue;
      this.#scheduled.delete(e.agent);
      looked++;
      lookAt(e.tenant, e.agentId, e.agent, nowMs, this.#silenceMs, out);
      this.#schedule(e.tenant, e.agentId, e.agent, nowMs);
    }
    this.lastTickLooked = looked;
    return out;
  }

  #put(tenant: string, agentId: string, a: AgentHealth): void {
    put(this.#agents, tenant, agentId, a);
    this.#schedule(tenant, agentId, a);
  }

  /** Queues the agent for when it is next due, unless an entry at that time or sooner is queued already. */
  #schedule(tenant: string, agentId: string, a: AgentHealth, afterMs = -Infinity): void {
    const due = dueAt(a, this.#silenceMs);
    if (due === Infinity) return;
    // Never again within the tick that just looked at it.
    const at = Math.max(due, afterMs + 1);
    const queued = this.#scheduled.get(a);
    if (queued !== undefined && queued <= at) return;
    this.#scheduled.set(a, at);
    this.#due.push({ at, tenant, agentId, agent: a });
  }
}

/** When the agent next needs a look: its silence beginning, or its certificate's days to expiry changing (at once when never counted). */
function dueAt(a: AgentHealth, silenceMs: number): number {
  if (a.revoked) return Infinity;
  let due = a.silent ? Infinity : a.lastSeenMs + silenceMs;
  const c = a.cert;
  if (c) {
    const notAfterMs = Date.parse(c.notAfter);
    if (Number.isFinite(notAfterMs)) due = Math.min(due, c.days === null ? -Infinity : notAfterMs - c.days * DAY_MS + 1);
  }
  return due;
}

interface Due {
  at: number;
  tenant: string;
  agentId: string;
  agent: AgentHealth;
}

/** A binary min-heap of agents by the time they are due. */
class DueQueue {
  readonly #h: Due[] = [];

  peek(): Due | undefined {
    return this.#h[0];
  }

  push(d: Due): void {
    const h = this.#h;
    let i = h.push(d) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.at <= d.at) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = d;
  }

  pop(): void {
    const h = this.#h;
    const last = h.pop();
    if (h.length === 0 || !last) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const child = r < h.length && h[r]!.at < h[l]!.at ? r : l;
      if (h[child]!.at >= last.at) break;
      h[i] = h[child]!;
      i = child;
    }
    h[i] = last;
  }
}

type Agents = Map<string, Map<string, AgentHealth>>;

function put(agents: Agents, tenant: string, agentId: string, a: AgentHealth): void {
  let m = agents.get(tenant);
  if (!m) {
    m = new Map();
    agents.set(tenant, m);
  }
  m.set(agentId, a);
}

function observeAgent(agents: Agents, tenant: string, agentId: string, events: readonly EventEnvelope[], seq: number): Derived[] {
  const out: Derived[] = [];
  const emit = (item: DetectItem, atMs: number): void => {
    out.push({ tenant, agentId, item, seq, atMs });
  };
  for (const e of events) {
    if (e.aggregate.type !== AGENT) continue;
    const atMs = Date.parse(e.at);
    const a = agents.get(tenant)?.get(agentId);
    switch (e.type) {
      case AgentEvents.enrolled: {
        const d = e.data as AgentEnrolled;
        put(agents, tenant, agentId, {
          hostname: d.hostname,
          agentVersion: d.agentVersion,
          revoked: false,
          lastSeenMs: atMs,
          lastSeenSeq: seq,
          silent: false,
          startedAt: null,
          stoppedCleanly: false,
          cert: { fingerprint: d.certFingerprint, notAfter: d.certNotAfter, seq, days: null },
        });
        break;
      }
      case AgentEvents.certificateRenewed: {
        if (!a) break;
        const d = e.data as CertificateRenewed;
        a.cert = { fingerprint: d.certFingerprint, notAfter: d.certNotAfter, seq, days: null };
        alive(a, atMs, seq, emit);
        break;
      }
      case AgentEvents.revoked:
        if (a) a.revoked = true;
        break;
      case AgentEvents.heartbeat: {
        if (!a) break;
        alive(a, atMs, seq, emit);
        heartbeat(a, e.data as HeartbeatHealth, atMs, emit);
        break;
      }
    }
  }
  return out;
}

function alive(a: AgentHealth, atMs: number, seq: number, emit: (item: DetectItem, atMs: number) => void): void {
  if (a.silent && !a.revoked) {
    const rec: AgentHealthRecord = { kind: 'agent-health', event: 'resumed', silentSeconds: Math.max(0, Math.round((atMs - a.lastSeenMs) / 1000)) };
    if (a.agentVersion) rec.agentVersion = a.agentVersion;
    emit(rec, atMs);
  }
  a.silent = false;
  // A heartbeat batch written late never moves last-seen backwards.
  if (atMs >= a.lastSeenMs) {
    a.lastSeenMs = atMs;
    a.lastSeenSeq = seq;
  }
}

function heartbeat(a: AgentHealth, h: HeartbeatHealth, atMs: number, emit: (item: DetectItem, atMs: number) => void): void {
  if (typeof h.agentVersion === 'string') a.agentVersion = h.agentVersion;
  const base = (event: AgentHealthRecord['event']): AgentHealthRecord => ({
    kind: 'agent-health',
    event,
    ...(a.agentVersion ? { agentVersion: a.agentVersion } : {}),
  });
  if (typeof h.agentStartedAt === 'string' && h.agentStartedAt !== a.startedAt) {
    // A start after a start with no clean stop between: killed, crashed, or the host lost power.
    if (a.startedAt !== null && !a.stoppedCleanly) emit(base('restarted_unexpectedly'), atMs);
    emit(base('started'), atMs);
    a.startedAt = h.agentStartedAt;
    a.stoppedCleanly = false;
  }
  if (typeof h.agentTime === 'string') {
    const agentMs = Date.parse(h.agentTime);
    if (Number.isFinite(agentMs)) emit({ ...base('clock_skew'), skewSeconds: Math.round((agentMs - atMs) / 1000) }, atMs);
  }
  if (h.stopping === true) {
    a.stoppedCleanly = true;
    emit(base('stopped'), atMs);
  }
}

/** Looks at one agent at `nowMs`: silence once per gap, the certificate when its whole days to expiry changed. */
function lookAt(tenant: string, agentId: string, a: AgentHealth, nowMs: number, silenceMs: number, out: Derived[]): void {
  if (a.revoked) return;
  if (!a.silent && nowMs - a.lastSeenMs >= silenceMs) {
    a.silent = true;
    const rec: AgentHealthRecord = { kind: 'agent-health', event: 'silent', silentSeconds: Math.floor((nowMs - a.lastSeenMs) / 1000) };
    if (a.agentVersion) rec.agentVersion = a.agentVersion;
    out.push({ tenant, agentId, item: rec, seq: a.lastSeenSeq, atMs: nowMs });
  }
  const c = a.cert;
  if (!c) return;
  const notAfterMs = Date.parse(c.notAfter);
  const days = Number.isFinite(notAfterMs) ? Math.floor((notAfterMs - nowMs) / DAY_MS) : null;
  if (days === null || days === c.days) return;
  c.days = days;
  const rec: CertificateRecord = certificateRecord(
    {
      subject: `CN=${agentId}`,
      issuer: 'Stockade install CA',
      serialNumber: c.fingerprint,
      notAfter: c.notAfter,
      selfSigned: false,
      purpose: 'agent-client',
      host: a.hostname,
    },
    nowMs,
  );
  out.push({ tenant, agentId, item: rec, seq: c.seq, atMs: nowMs });
}

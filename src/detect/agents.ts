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

/** Agents by tenant, then by agent id. */
export type AgentBook = Map<string, Map<string, AgentHealth>>;

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

function agent(book: AgentBook, tenant: string, agentId: string): AgentHealth | undefined {
  return book.get(tenant)?.get(agentId);
}

function put(book: AgentBook, tenant: string, agentId: string, a: AgentHealth): void {
  let m = book.get(tenant);
  if (!m) {
    m = new Map();
    book.set(tenant, m);
  }
  m.set(agentId, a);
}

/** The hostname an agent enrolled with, if the book knows the agent. */
export function hostnameOf(book: AgentBook, tenant: string, agentId: string): string | null {
  return agent(book, tenant, agentId)?.hostname ?? null;
}

/** Applies one commit of an `agent` aggregate (at stream sequence `seq`); returns the records it gives. */
export function observeAgent(book: AgentBook, tenant: string, agentId: string, events: readonly EventEnvelope[], seq: number): Derived[] {
  const out: Derived[] = [];
  const emit = (item: DetectItem, atMs: number): void => {
    out.push({ tenant, agentId, item, seq, atMs });
  };
  for (const e of events) {
    if (e.aggregate.type !== AGENT) continue;
    const atMs = Date.parse(e.at);
    const a = agent(book, tenant, agentId);
    switch (e.type) {
      case AgentEvents.enrolled: {
        const d = e.data as AgentEnrolled;
        put(book, tenant, agentId, {
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

/**
 * What the time `nowMs` says: agents not heard from for `silenceMs` (once per gap), and each
 * certificate whose whole days to expiry changed since it was last looked at.
 */
export function tickAgents(book: AgentBook, nowMs: number, silenceMs: number): Derived[] {
  const out: Derived[] = [];
  for (const [tenant, agents] of book) {
    for (const [agentId, a] of agents) {
      if (a.revoked) continue;
      if (!a.silent && nowMs - a.lastSeenMs >= silenceMs) {
        a.silent = true;
        const rec: AgentHealthRecord = { kind: 'agent-health', event: 'silent', silentSeconds: Math.floor((nowMs - a.lastSeenMs) / 1000) };
        if (a.agentVersion) rec.agentVersion = a.agentVersion;
        out.push({ tenant, agentId, item: rec, seq: a.lastSeenSeq, atMs: nowMs });
      }
      const c = a.cert;
      if (c) {
        const notAfterMs = Date.parse(c.notAfter);
        const days = Number.isFinite(notAfterMs) ? Math.floor((notAfterMs - nowMs) / DAY_MS) : null;
        if (days !== null && days !== c.days) {
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
      }
    }
  }
  return out;
}

/** The book as JSON for a checkpoint. */
export function bookToJson(book: AgentBook): Record<string, Record<string, AgentHealth>> {
  const out: Record<string, Record<string, AgentHealth>> = {};
  for (const [t, m] of book) out[t] = Object.fromEntries(m);
  return out;
}

/** The book from a checkpoint's JSON. */
export function bookFromJson(json: Record<string, Record<string, AgentHealth>> | undefined): AgentBook {
  const book: AgentBook = new Map();
  for (const [t, m] of Object.entries(json ?? {})) book.set(t, new Map(Object.entries(m)));
  return book;
}

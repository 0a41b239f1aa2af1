import { AGENT, AgentEvents, type AgentEnrolled, type CertificateRenewed } from '../../commands/agents/events.ts';
import { StkError } from '../errors.ts';
import { type Bucket, EVENTS_STREAM, type EventLog, eventSubject, type StoredMessage } from '../log/mod.ts';
import type { IngressFeed } from './feed.ts';

/** KV bucket of each agent's current certificate: an index of its `enrolled` and `certificate-renewed` events. */
export const AGENT_CERTS_BUCKET = 'stk-agent-certs';

/**
 * How long the certificate that asked for a renewal keeps working when the new one is never used:
 * the renewal's answer was lost, or the agent stopped before it saved the new certificate. Once the
 * new certificate is used, the one it replaced is refused at once.
 */
export const RENEW_GRACE_MS = 7 * 86_400_000;

/** An agent's certificates as the ingress accepts them; fingerprints are hex SHA-256 of the DER. */
export interface CertificateState {
  current: string;
  /** The certificate that asked for the renewal to `current`, until `current` is first used or `previousUntil` passes. */
  previous: string | null;
  /** ISO time after which `previous` is refused whatever happens. */
  previousUntil: string | null;
}

/**
 * Which certificate of an agent may still talk for it. Every request's certificate must chain to
 * the install's CA (OpenSSL) and be the agent's current one: a renewal retires the certificate it
 * replaced as soon as the new one is used (at the latest after `RENEW_GRACE_MS`), so a copy of an
 * older key and certificate stops working. The state lives in the KV bucket `stk-agent-certs`
 * (written by the ingress after it stored the `enrolled` or `certificate-renewed` event and before
 * it answers), cached in memory per process; a fingerprint the cache does not know is looked up in
 * KV before it is refused (another ingress may have renewed the agent), and an agent the bucket
 * does not know (enrolled before the bucket existed, or a bucket lost with a NATS restore) is read
 * once from its events, the source of truth, and written back.
 */
export class AgentCertificates {
  readonly #log: EventLog;
  readonly #kv: Bucket;
  readonly #cache = new Map<string, CertificateState>();
  readonly #max: number;

  private constructor(log: EventLog, kv: Bucket, max: number) {
    this.#log = log;
    this.#kv = kv;
    this.#max = max;
  }

  /**
   * With `feed`, a renewal stored by any ingress drops this process's cached state of that agent
   * as the record passes (requests bring the feed up to the log first), so the next request reads
   * the new state.
   */
  static async open(log: EventLog, o: { replicas?: number; max?: number; feed?: IngressFeed } = {}): Promise<AgentCertificates> {
    const kv = await log.streams.bucket(AGENT_CERTS_BUCKET, { history: 1, replicas: o.replicas ?? 1 });
    const certs = new AgentCertificates(log, kv, o.max ?? 200_000);
    o.feed?.add({ replayed: [], apply: () => {}, live: (m, type) => type === AGENT && certs.#passed(m) });
    return certs;
  }

  #passed(m: StoredMessage): void {
    if (this.#cache.size === 0) return;
    const data = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
    if (data.indexOf(RENEWED) < 0) return;
    // ev.<p>.<tenant>.agent.<agentId>
    const parts = m.subject.split('.');
    this.#cache.delete(keyOf(parts[2]!, parts[4]!));
  }

  /**
   * Refuses (STK_ERR_AGENT_CERT_INVALID) a request of `agentId` made with certificate `fingerprint`
   * unless it is the agent's current certificate, or the one a renewal replaced while the new one
   * was never used.
   */
  async check(tenant: string, agentId: string, fingerprint: string, now: Date): Promise<void> {
    const key = keyOf(tenant, agentId);
    let state = this.#cache.get(key);
    if (state?.current !== fingerprint) state = (await this.#read(tenant, agentId)) ?? undefined;
    if (!state) throw superseded('no certificate is on record for this agent');
    if (state.current === fingerprint) {
      // The new certificate is in use: the one it replaced is retired, here and for every ingress.
      if (state.previous) await this.#write(key, { current: state.current, previous: null, previousUntil: null });
      return;
    }
    if (state.previous === fingerprint && state.previousUntil && now.getTime() < Date.parse(state.previousUntil)) return;
    throw superseded('this certificate was replaced by a renewal');
  }

  /** Records an enrollment's certificate. */
  enrolled(tenant: string, agentId: string, fingerprint: string): Promise<void> {
    return this.#write(keyOf(tenant, agentId), { current: fingerprint, previous: null, previousUntil: null });
  }

  /** Records a renewal: `fingerprint` is current, `replaces` (the certificate that asked) works until it is used. */
  renewed(tenant: string, agentId: string, fingerprint: string, replaces: string, now: Date): Promise<void> {
    return this.#write(keyOf(tenant, agentId), {
      current: fingerprint,
      previous: replaces,
      previousUntil: new Date(now.getTime() + RENEW_GRACE_MS).toISOString(),
    });
  }

  async #write(key: string, state: CertificateState): Promise<void> {
    try {
      await this.#kv.put(key, JSON.stringify(state));
    } catch (err) {
      throw new StkError(
        'STK_ERR_LOG_UNAVAILABLE',
        `cannot record the agent's certificate: ${(err as Error).message}`,
        { retryAfterSeconds: 1 },
        { cause: err },
      );
    }
    this.#remember(key, state);
  }

  async #read(tenant: string, agentId: string): Promise<CertificateState | null> {
    const key = keyOf(tenant, agentId);
    let state: CertificateState | null = null;
    try {
      const entry = await this.#kv.get(key);
      if (entry && entry.operation === 'PUT') state = parseState(entry.string());
    } catch (err) {
      throw new StkError('STK_ERR_LOG_UNAVAILABLE', `cannot read the agent's certificate: ${(err as Error).message}`, { retryAfterSeconds: 1 }, { cause: err });
    }
    if (!state) {
      state = await this.#fromEvents(tenant, agentId);
      if (state) await this.#write(key, state);
    }
    if (state) this.#remember(key, state);
    return state;
  }

  /** The newest certificate the agent's events name (read once per agent the bucket does not know). */
  async #fromEvents(tenant: string, agentId: string): Promise<CertificateState | null> {
    let current: string | null = null;
    const subject = eventSubject({ tenant, aggregateType: AGENT, aggregateId: agentId });
    const enrolled = Buffer.from(`"${AgentEvents.enrolled}"`);
    await this.#log.streams.scanEach(EVENTS_STREAM, { filter: subject }, (m) => {
      const data = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
      // Most of an agent's commits are reports: only a body naming one of the two types is decoded.
      if (data.indexOf(enrolled) < 0 && data.indexOf(RENEWED) < 0) return;
      for (const e of this.#log.decode(m).events) {
        if (e.aggregate.type !== AGENT || e.aggregate.id !== agentId) continue;
        if (e.type === AgentEvents.enrolled) current = (e.data as AgentEnrolled).certFingerprint;
        if (e.type === AgentEvents.certificateRenewed) current = (e.data as CertificateRenewed).certFingerprint;
      }
    });
    return current ? { current, previous: null, previousUntil: null } : null;
  }

  #remember(key: string, state: CertificateState): void {
    this.#cache.delete(key);
    if (this.#cache.size >= this.#max) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(key, state);
  }
}

const RENEWED = Buffer.from(`"${AgentEvents.certificateRenewed}"`);

/** KV keys allow `-`, `_` and `.`: a tenant and an agent id (both checked patterns) joined by a dot. */
const keyOf = (tenant: string, agentId: string): string => `${tenant}.${agentId}`;

function parseState(text: string): CertificateState | null {
  try {
    const s = JSON.parse(text) as Partial<CertificateState>;
    if (typeof s.current !== 'string') return null;
    return {
      current: s.current,
      previous: typeof s.previous === 'string' ? s.previous : null,
      previousUntil: typeof s.previousUntil === 'string' ? s.previousUntil : null,
    };
  } catch {
    return null;
  }
}

function superseded(why: string): StkError {
  return new StkError('STK_ERR_AGENT_CERT_INVALID', `client certificate refused: ${why}`, { reason: 'CERT_SUPERSEDED' });
}

/** The fingerprint form certificates are recorded with (hex SHA-256 of the DER) from Node's `AA:BB:…`. */
export function fingerprintOf(fingerprint256: string): string {
  return fingerprint256.replaceAll(':', '').toLowerCase();
}

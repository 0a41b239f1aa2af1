import { StkError } from '../errors.ts';
import { type EventLog, type LogRecord, type StoredMessage, VERSION_HEADER } from '../log/mod.ts';
import { AGENT, AgentEvents } from '../../commands/agents/events.ts';
import type { IngressFeed } from './feed.ts';

/** What the ingress knows of an enrolled agent on each request. */
export interface AgentRecord {
  tenant: string;
  agentId: string;
  /** Version of the agent aggregate: what the next append expects. */
  version: number;
  revoked: boolean;
  /** Stream position of the agent's newest commit, when known (spares the append a lookup). */
  position?: number;
  /** Message id of the agent's newest commit: a report batch whose commit it is was already written. */
  lastMsgId?: string;
}

/**
 * Reads an agent's enrolled record from the event log (one message get of its newest commit), with
 * no LevelDB. The agent decider makes revocation terminal (nothing is appended to a revoked agent),
 * so that one commit tells whether the agent exists and whether it is revoked. The tenant in the
 * certificate's O only says where the record lives: a record that is missing there refuses the request.
 */
export async function readAgentRecord(log: EventLog, tenant: string, agentId: string): Promise<AgentRecord | null> {
  let record: LogRecord | null;
  try {
    record = await log.lastCommit({ tenant, aggregateType: AGENT, aggregateId: agentId });
  } catch (err) {
    throw new StkError('STK_ERR_LOG_UNAVAILABLE', `event log read failed: ${(err as Error).message}`, { retryAfterSeconds: 1 }, { cause: err });
  }
  if (!record) return null;
  return {
    tenant,
    agentId,
    version: record.version,
    revoked: record.events.some((e) => e.type === AgentEvents.revoked),
    position: record.position,
    lastMsgId: record.msgId,
  };
}

interface Head {
  exists: boolean;
  version: number;
  position: number;
  revoked: boolean;
  msgId: string | undefined;
  loading: Promise<void> | null;
}

const REVOKED = Buffer.from(`"${AgentEvents.revoked}"`);

/**
 * The agents of recent requests, in memory: each one's newest commit (version, position, message
 * id) and whether it is revoked. An agent is read from the log (one message get) on its first
 * request; from then on the feed keeps it current from the records it already reads — every commit
 * on an agent's subject passes through the ingress's one follow — so a request needs no read of
 * its own, and a revocation reaches the ingress as a record it follows. `IngressFeed.current()`
 * before a lookup makes it hold everything stored before the request arrived.
 *
 * A commit that lands while an agent is being read is applied too (it is kept in the entry being
 * filled), so a revocation can never be lost between the read and the feed. At most `max` agents
 * are held; the one unused the longest is dropped first and read again when it comes back.
 */
export class AgentHeads {
  readonly #log: EventLog;
  readonly #heads = new Map<string, Head>();
  readonly #max: number;
  readonly #onRevoked: (tenant: string, agentId: string) => void;

  constructor(log: EventLog, feed: IngressFeed, o: { max?: number; onRevoked?: (tenant: string, agentId: string) => void } = {}) {
    this.#log = log;
    this.#max = o.max ?? 200_000;
    this.#onRevoked = o.onRevoked ?? (() => {});
    feed.add({ replayed: [], apply: () => {}, live: (m, type) => type === AGENT && this.#live(m) });
  }

  /** Agents held now. */
  get size(): number {
    return this.#heads.size;
  }

  /** The agent's record as of the feed's position (read from the log on first use); null when no such agent. */
  async record(tenant: string, agentId: string): Promise<AgentRecord | null> {
    const key = `${tenant}/${agentId}`;
    let h = this.#heads.get(key);
    if (h) {
      // Re-inserted: the map stays in order of use.
      this.#heads.delete(key);
      this.#heads.set(key, h);
      if (h.loading) await h.loading;
      return recordOf(tenant, agentId, h);
    }
    const head: Head = { exists: false, version: 0, position: 0, revoked: false, msgId: undefined, loading: null };
    h = head;
    if (this.#heads.size >= this.#max) this.#heads.delete(this.#heads.keys().next().value!);
    this.#heads.set(key, head);
    head.loading = (async () => {
      const read = await readAgentRecord(this.#log, tenant, agentId);
      // The feed may have applied a newer commit meanwhile: the newer of the two stands.
      if (read && (read.position ?? 0) > head.position) {
        Object.assign(head, { exists: true, version: read.version, position: read.position ?? 0, msgId: read.lastMsgId });
        head.revoked ||= read.revoked;
      }
    })();
    try {
      await head.loading;
    } catch (err) {
      if (this.#heads.get(key) === head) this.#heads.delete(key);
      throw err;
    } finally {
      head.loading = null;
    }
    return recordOf(tenant, agentId, head);
  }

  /** The agent's own write went through: its head is the new commit (unless the feed has seen a newer one). */
  wrote(tenant: string, agentId: string, commit: { version: number; position: number; msgId: string }): void {
    const h = this.#heads.get(`${tenant}/${agentId}`);
    if (!h || commit.position <= h.position) return;
    Object.assign(h, { exists: true, version: commit.version, position: commit.position, msgId: commit.msgId });
  }

  #live(m: StoredMessage): void {
    // ev.<p>.<tenant>.agent.<agentId>
    const parts = m.subject.split('.');
    const tenant = parts[2]!;
    const agentId = parts[4]!;
    const h = this.#heads.get(`${tenant}/${agentId}`);
    if (!h || m.seq <= h.position) return;
    const version = Number(m.headers?.get(VERSION_HEADER));
    Object.assign(h, {
      exists: true,
      version: Number.isInteger(version) ? version : h.version,
      position: m.seq,
      msgId: m.headers?.get('Nats-Msg-Id') || undefined,
    });
    // Only a body that names the event type can hold it; one that does is decoded to be sure.
    const data = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
    if (!h.revoked && data.indexOf(REVOKED) >= 0 && this.#log.decode(m).events.some((e) => e.aggregate.type === AGENT && e.type === AgentEvents.revoked)) {
      h.revoked = true;
      this.#onRevoked(tenant, agentId);
    }
  }
}

function recordOf(tenant: string, agentId: string, h: Head): AgentRecord | null {
  if (!h.exists) return null;
  return { tenant, agentId, version: h.version, revoked: h.revoked, position: h.position, ...(h.msgId ? { lastMsgId: h.msgId } : {}) };
}

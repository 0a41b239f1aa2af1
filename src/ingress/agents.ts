import { StkError } from '../errors.ts';
import type { EventLog, LogRecord } from '../log/mod.ts';
import { AGENT, AgentEvents } from '../../commands/agents/events.ts';

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
 * Reads an agent's enrolled record from the event log, with no LevelDB and no cache.
 *
 * The agent decider makes revocation terminal (nothing is appended to a revoked agent), so the
 * newest commit of the agent's aggregate alone tells whether it exists and whether it is revoked:
 * one direct get of the last message on the agent's subject per request. The trade-off, chosen on
 * purpose: one extra round trip to JetStream per agent request (well under a millisecond on
 * loopback) in exchange for a revocation that holds on the very next request at every ingress
 * process, with nothing to keep in memory or warm up, and no window in which a stale cache lets
 * a revoked agent through. The tenant in the certificate's O only says where the record lives:
 * a record that is missing there refuses the request.
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

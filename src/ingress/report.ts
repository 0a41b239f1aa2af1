import { createHash } from 'node:crypto';
import { StkError } from '../errors.ts';
import type { Decider } from '../domain/decider.ts';
import type { Product } from '../domain/products.ts';
import type { Actor, EventLog, NewEvent } from '../log/mod.ts';
import { agentDecider } from '../../commands/agents/decider.ts';
import { AGENT } from '../../commands/agents/events.ts';
import { alertDecider } from '../../commands/alerts/decider.ts';
import { findingDecider } from '../../commands/findings/decider.ts';
import { scanDecider } from '../../commands/scans/decider.ts';
import { evidenceDecider } from '../../commands/evidence/decider.ts';
import type { AgentRecord } from './agents.ts';
import type { ReportKind } from './schemas.ts';

/** One event of a report batch, as the schema has already checked it. */
export interface ReportEvent {
  kind: ReportKind;
  at: string;
  data: Record<string, any>;
}

export interface ReportBatch {
  agentId: string;
  batchId?: string;
  events: ReportEvent[];
}

/**
 * The product each report kind belongs to; `null` = the core, always on. A finding names its
 * product in `data.product` (patch by default): a missing patch, an exposed service and a weak
 * account are findings of three different products.
 */
export function productOfReport(e: ReportEvent): Product | null {
  switch (e.kind) {
    case 'heartbeat':
      return null;
    case 'alert':
    case 'evidence':
      return 'edr';
    case 'scan-run':
      return 'attack-surface';
    case 'finding':
      return (e.data.product as Product | undefined) ?? 'patch';
  }
}

/** One append the batch makes: to the agent itself, or to a new aggregate it creates. */
interface Write {
  aggregateType: string;
  aggregateId: string;
  events: NewEvent[];
  /** The agent's own aggregate is appended at its known version; new aggregates at no_stream. */
  onAgent: boolean;
}

/**
 * Plans a batch: checks every event's product against the tenant's products and turns every event
 * into domain events through the domains' own deciders, before anything is written. A refusal is
 * a value and nothing of the batch is written.
 *
 * Ids are derived from (agent, batch id or the batch's content, index): the same batch sent again
 * makes the same events on the same aggregates, so a retry after a timeout or a 503 adds nothing.
 * The envelope's time is the server's (a heartbeat's time is when the agent was last seen); the
 * agent's own clock goes into the payloads (`observedAt`, `finishedAt`, `collectedAt`).
 */
export function planReport(
  agent: AgentRecord,
  products: readonly Product[],
  batch: ReportBatch,
): { ok: true; writes: Write[] } | { ok: false; error: StkError } {
  for (const [i, e] of batch.events.entries()) {
    const product = productOfReport(e);
    if (product && !products.includes(product)) {
      return {
        ok: false,
        error: new StkError('STK_ERR_PRODUCT_DISABLED', `report kind ${e.kind} needs product ${product}, which is off for this tenant`, {
          product,
          field: `events/${i}`,
        }),
      };
    }
  }
  const base = sha256(`${agent.tenant}\0${agent.agentId}\0${batch.batchId ?? sha256(JSON.stringify(batch.events))}`);
  // One SHA-256 per event names both its aggregate and its first event (16 bytes each).
  const derive = (i: number, j = 0): { aggregateId: string; eventId: string } => {
    const h = createHash('sha256').update(`${base}:${i}:${j}`).digest();
    return { aggregateId: h.toString('base64url', 0, 16), eventId: h.toString('base64url', 16, 32) };
  };
  const agentId = agent.agentId;
  const heartbeats: NewEvent[] = [];
  const writes: Write[] = [];
  for (const [i, e] of batch.events.entries()) {
    const fresh = <S, C>(decider: Decider<S, C>, command: C): void => {
      const d = decider.decide(command, decider.initialState());
      if (!d.ok) throw d.error; // a fresh aggregate accepts its creating command; anything else is a bug
      const ids = d.events.map((_, j) => derive(i, j));
      writes.push({
        aggregateType: decider.aggregateType,
        aggregateId: ids[0]!.aggregateId,
        events: d.events.map((ev, j) => ({ ...ev, id: ids[j]!.eventId })),
        onAgent: false,
      });
    };
    switch (e.kind) {
      case 'heartbeat': {
        const d = agentDecider.decide({ kind: 'heartbeat', heartbeat: { inventory: e.data.inventory ?? null } }, { exists: true, revoked: false });
        if (!d.ok) throw d.error;
        heartbeats.push(...d.events.map((ev, j) => ({ ...ev, id: derive(i, j).eventId })));
        break;
      }
      case 'alert':
        fresh(alertDecider, {
          kind: 'raise',
          alert: {
            agentId,
            product: 'edr',
            rule: e.data.rule,
            severity: e.data.severity,
            title: e.data.title,
            ...(e.data.details ? { details: e.data.details } : {}),
            observedAt: e.at,
          },
        });
        break;
      case 'finding':
        fresh(findingDecider, {
          kind: 'report',
          finding: {
            agentId,
            product: productOfReport(e)!,
            title: e.data.title,
            severity: e.data.severity,
            subject: e.data.subject,
            ...(e.data.details ? { details: e.data.details } : {}),
            observedAt: e.at,
          },
        });
        break;
      case 'scan-run':
        fresh(scanDecider, {
          kind: 'record',
          scan: {
            agentId,
            product: 'attack-surface',
            merkleRoot: e.data.merkleRoot,
            itemCount: e.data.itemCount,
            startedAt: e.data.startedAt,
            finishedAt: e.at,
          },
        });
        break;
      case 'evidence':
        fresh(evidenceDecider, {
          kind: 'collect',
          evidence: { agentId, name: e.data.name, sha256: e.data.sha256, sizeBytes: e.data.sizeBytes, collectedAt: e.at },
        });
        break;
    }
  }
  if (heartbeats.length) writes.unshift({ aggregateType: AGENT, aggregateId: agentId, events: heartbeats, onAgent: true });
  return { ok: true, writes };
}

/**
 * Writes a planned batch. The agent's own commit goes first, at the version its record was read
 * at: if the agent was revoked in between, that append conflicts, the record is read again and
 * the whole batch is refused before any other write. The new aggregates follow in parallel; a
 * conflict on one of them means an earlier try of this very batch created it.
 * Returns the highest log position written (for read-your-writes) and the number of events.
 */
export async function writeReport(
  log: EventLog,
  agent: AgentRecord,
  writes: Write[],
  reread: () => Promise<AgentRecord | null>,
): Promise<{ position: number; events: number }> {
  const actor: Actor = { kind: 'agent', id: agent.agentId };
  let position = 0;
  let count = 0;
  const own = writes.find((w) => w.onAgent);
  if (own) {
    let version = agent.version;
    for (let attempt = 0; ; attempt++) {
      const r = await log.append({ tenant: agent.tenant, aggregateType: own.aggregateType, aggregateId: own.aggregateId }, own.events, {
        expectedVersion: version,
        actor,
      });
      if (r.ok) {
        position = r.value.position;
        count += own.events.length;
        break;
      }
      const now = await reread();
      if (!now) throw new StkError('STK_ERR_AGENT_CERT_INVALID', 'no enrolled agent matches this certificate');
      if (now.revoked) throw new StkError('STK_ERR_AGENT_REVOKED', 'agent is revoked');
      if (attempt >= 3) throw r.error;
      version = now.version;
    }
  }
  const results = await Promise.all(
    writes
      .filter((w) => !w.onAgent)
      .map((w) =>
        log.append({ tenant: agent.tenant, aggregateType: w.aggregateType, aggregateId: w.aggregateId }, w.events, { expectedVersion: 'no_stream', actor }),
      ),
  );
  for (const r of results) {
    if (r.ok) {
      position = Math.max(position, r.value.position);
      count += r.value.events.length;
    } else if (r.error.code !== 'STK_ERR_LOG_VERSION_CONFLICT') {
      throw r.error;
    }
  }
  return { position, events: count };
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

import { hash } from 'node:crypto';
import { type AgentLifecycleCommand, agentDecider } from '../../commands/agents/decider.ts';
import type { AgentHealth, AgentHeartbeat } from '../../commands/agents/events.ts';
import { type AlertCommand, alertDecider } from '../../commands/alerts/decider.ts';
import { type EvidenceCommand, evidenceDecider } from '../../commands/evidence/decider.ts';
import { type FindingCommand, findingDecider } from '../../commands/findings/decider.ts';
import { type ScanCommand, scanDecider } from '../../commands/scans/decider.ts';
import type { Decider } from '../domain/decider.ts';
import { type BirthCommand, derivedIds, type Executed, execute } from '../domain/execute.ts';
import type { Product } from '../domain/products.ts';
import { isStkError, StkError } from '../errors.ts';
import type { Actor, EventLog } from '../log/mod.ts';
import type { AgentRecord } from './agents.ts';
import type { ReportKind } from './schemas.ts';

/** One event of a report batch, as the schema has already checked it. */
export interface ReportEvent {
  kind: ReportKind;
  at: string;
  // biome-ignore lint/suspicious/noExplicitAny: the data schema of each kind checked it (schemas.ts)
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
    case 'agent-health':
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

/**
 * One command the batch makes: the agent's own heartbeats (appended at the version its record
 * was read at), or the creation of a new aggregate (an alert, a finding…) under an id derived from
 * the batch. Built by `planReport` and run by `writeReport` through the one write path.
 */
export type ReportWrite = {
  [K in keyof ReportDeciders]: { decider: ReportDeciders[K]['decider']; id: string; command: ReportDeciders[K]['command']; eventIds: (i: number) => string };
}[keyof ReportDeciders];

interface ReportDeciders {
  agent: { decider: typeof agentDecider; command: AgentLifecycleCommand };
  alert: { decider: typeof alertDecider; command: AlertCommand };
  finding: { decider: typeof findingDecider; command: FindingCommand };
  scan: { decider: typeof scanDecider; command: ScanCommand };
  evidence: { decider: typeof evidenceDecider; command: EvidenceCommand };
}

/**
 * Plans a batch: checks every event's product against the tenant's products and turns every event
 * into a command for its domain's decider, before anything is written. A refusal is a value and
 * nothing of the batch is written.
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
): { ok: true; own: ReportWrite | null; created: ReportWrite[] } | { ok: false; error: StkError } {
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
  const key = [agent.tenant, agent.agentId, batch.batchId ?? sha256(JSON.stringify(batch.events))];
  const agentId = agent.agentId;
  const heartbeats: AgentHeartbeat[] = [];
  const health: AgentHealth[] = [];
  const created: ReportWrite[] = [];
  for (const [i, e] of batch.events.entries()) {
    // The new aggregate's id and its events' ids, all from the batch's key and the event's index.
    const id = derivedIds(...key, 'aggregate')(i);
    const eventIds = derivedIds(...key, String(i));
    switch (e.kind) {
      case 'heartbeat':
        // The agent's clock goes with its liveness facts: the detector measures skew and restarts from them.
        heartbeats.push({
          inventory: e.data.inventory ?? null,
          agentTime: e.at,
          ...(e.data.agentStartedAt !== undefined ? { agentStartedAt: e.data.agentStartedAt } : {}),
          ...(e.data.stopping !== undefined ? { stopping: e.data.stopping } : {}),
          ...(e.data.agentVersion !== undefined ? { agentVersion: e.data.agentVersion } : {}),
        });
        break;
      case 'agent-health':
        health.push({ ...(e.data as Omit<AgentHealth, 'observedAt'>), observedAt: e.at });
        break;
      case 'alert':
        created.push({
          decider: alertDecider,
          id,
          eventIds,
          command: {
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
          },
        });
        break;
      case 'finding':
        created.push({
          decider: findingDecider,
          id,
          eventIds,
          command: {
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
          },
        });
        break;
      case 'scan-run':
        created.push({
          decider: scanDecider,
          id,
          eventIds,
          command: {
            kind: 'record',
            scan: {
              agentId,
              product: 'attack-surface',
              merkleRoot: e.data.merkleRoot,
              itemCount: e.data.itemCount,
              startedAt: e.data.startedAt,
              finishedAt: e.at,
            },
          },
        });
        break;
      case 'evidence':
        created.push({
          decider: evidenceDecider,
          id,
          eventIds,
          command: { kind: 'collect', evidence: { agentId, name: e.data.name, sha256: e.data.sha256, sizeBytes: e.data.sizeBytes, collectedAt: e.at } },
        });
        break;
    }
  }
  const own: ReportWrite | null =
    heartbeats.length || health.length
      ? {
          decider: agentDecider,
          id: agentId,
          command: { kind: 'heartbeats', heartbeats, ...(health.length ? { health } : {}) },
          eventIds: derivedIds(...key, 'agent'),
        }
      : null;
  return { ok: true, own, created };
}

/**
 * Writes a planned batch as **one** commit through the write path: the agent's own events, with
 * every new aggregate (alert, finding, scan run, evidence) born in the same message
 * (`src/log/births.ts`) — one JetStream publish per report, atomic: the batch is stored whole or
 * not at all.
 *
 * The commit goes on the agent's subject at the version its record was read at: if the agent was
 * revoked in between, the server refuses the publish, the decider refuses it on the re-read, and
 * nothing is written. A batch with nothing for the agent itself goes into the commit that creates
 * its first new aggregate (under an id derived from the batch), with the others born there.
 *
 * A retry of the batch writes nothing twice: within the stream's duplicate window the message id
 * (derived from the batch) answers with the original commit; later, a batch whose commit is the
 * agent's newest (an agent resending the batch whose answer it lost, before any other) is
 * answered from it, and a batch without agent events finds its first aggregate already created.
 * Returns the log position written (for read-your-writes) and the number of events.
 */
export async function writeReport(
  log: EventLog,
  agent: AgentRecord,
  plan: { own: ReportWrite | null; created: ReportWrite[] },
): Promise<{ position: number; events: number; duplicate: boolean; agentHead?: { version: number; position: number; msgId: string } }> {
  const actor: Actor = { kind: 'agent', id: agent.agentId };
  const target = (id: string) => ({ tenant: agent.tenant, id });
  const births = (ws: ReportWrite[]): BirthCommand[] =>
    ws.map((w) => ({ decider: w.decider as Decider<unknown, unknown>, command: w.command, seed: w.id, eventIds: w.eventIds }));
  let r: Executed;
  if (plan.own) {
    const own = plan.own;
    if (agent.lastMsgId !== undefined && agent.lastMsgId === own.eventIds(0)) return { position: agent.position ?? 0, events: 0, duplicate: true };
    r = await agentWrite(() =>
      execute(log, target(own.id), agentDecider, own.command as AgentLifecycleCommand, {
        actor,
        eventIds: own.eventIds,
        known: { version: agent.version, state: { exists: true, revoked: false }, ...(agent.position !== undefined ? { position: agent.position } : {}) },
        births: births(plan.created),
      }),
    );
  } else {
    const [first, ...rest] = plan.created;
    if (!first) return { position: 0, events: 0, duplicate: false };
    r = await execute(log, target(first.id), first.decider as Decider<unknown, unknown>, first.command, {
      actor,
      eventIds: first.eventIds,
      known: 'new',
      idempotent: true,
      births: births(rest),
    });
  }
  const events = r.events.length + r.born.reduce((n, b) => n + b.events.length, 0);
  // The agent's new head, for the views that hold it (the next report expects it).
  const agentHead = plan.own && r.position > 0 ? { version: r.version, position: r.position, msgId: plan.own.eventIds(0) } : undefined;
  return { position: r.position, events, duplicate: r.duplicate, ...(agentHead ? { agentHead } : {}) };
}

/**
 * Runs a write to the agent's own aggregate, answering a refusal because the agent was revoked
 * meanwhile the way every agent route answers a revoked agent.
 */
export async function agentWrite<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (isStkError(err, 'STK_ERR_INVALID_TRANSITION') && err.data.actual === 'revoked') throw new StkError('STK_ERR_AGENT_REVOKED', 'agent is revoked');
    if (isStkError(err, 'STK_ERR_NOT_FOUND')) throw new StkError('STK_ERR_AGENT_CERT_INVALID', 'no enrolled agent matches this certificate');
    throw err;
  }
}

function sha256(s: string): string {
  return hash('sha256', s, 'hex');
}

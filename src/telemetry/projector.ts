import type { Level } from 'level';
import type { EventEnvelope } from '../domain/events.ts';
import type { StoredMessage, Streams } from '../log/mod.ts';
import type { Logger } from '../logger.ts';
import { StreamProjector } from '../projector/stream-projector.ts';
import type { Projection } from '../store/model.ts';
import { telemetryBatchId, telemetryItemId } from './ids.ts';
import { BATCH_HEADER, INDEX_HEADER, parseTelemetrySubject, TELEMETRY_STREAM } from './stream.ts';

const decoder = new TextDecoder();

/** The last batch seen: a batch's items come together, so its id is derived once, not per item. */
let lastBatch = { key: '', id: '' };

/** The `telemetry` aggregate id of a batch (a SHA-256), remembered for the batch's next items. */
function batchOf(tenant: string, agentId: string, batchId: string): string {
  const key = `${tenant}\u0000${agentId}\u0000${batchId}`;
  if (lastBatch.key !== key) lastBatch = { key, id: telemetryBatchId(tenant, agentId, batchId) };
  return lastBatch.id;
}

/**
 * A TELEMETRY message as a projection sees it: an envelope of type `telemetry.<kind>` on the
 * agent's aggregate, at the time the ingress stored it, with the batch id as correlation and the
 * item's id (`<batch>:<index>`, `telemetryItemId`) as its id — the name a tenant sees; the stream
 * sequence is only the projector's position. Null for a message that is not a telemetry item
 * (nothing else is published under `tm.>`).
 */
export function telemetryEnvelope(m: StoredMessage): EventEnvelope | null {
  const where = parseTelemetrySubject(m.subject);
  if (!where) return null;
  const batchId = m.headers?.get(BATCH_HEADER) ?? '';
  const index = Number(m.headers?.get(INDEX_HEADER) ?? Number.NaN);
  if (!batchId || !Number.isInteger(index) || index < 0) return null;
  let item: { kind?: unknown };
  try {
    item = JSON.parse(decoder.decode(m.data)) as { kind?: unknown };
  } catch {
    return null;
  }
  if (typeof item?.kind !== 'string') return null;
  return {
    id: telemetryItemId(batchOf(where.tenant, where.agentId, batchId), index),
    type: `telemetry.${item.kind}`,
    tenant: where.tenant,
    aggregate: { type: 'agent', id: where.agentId },
    version: 0,
    at: m.time.toISOString(),
    actor: { kind: 'agent', id: where.agentId },
    causationId: null,
    correlationId: batchId,
    schema: 1,
    data: item,
  };
}

/**
 * The telemetry read models (processes, connections, identities), built from the TELEMETRY stream
 * by a `StreamProjector` (a durable consumer acked per batch, documents and positions in one
 * LevelDB batch); positions are TELEMETRY sequences.
 */
export function openTelemetryProjector(
  db: Level<string, unknown>,
  streams: Streams,
  projections: readonly Projection[],
  o: { durableName: string; logger: Logger },
): Promise<StreamProjector> {
  return StreamProjector.open(db, streams, projections, { stream: TELEMETRY_STREAM, filter: 'tm.>', envelope: telemetryEnvelope, ...o });
}

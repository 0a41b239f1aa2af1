import { createHash } from 'node:crypto';
import type { Projection } from '../src/store/model.ts';
import { connectionsProjection } from './connections/projection.ts';
import { identitiesProjection } from './identities/projection.ts';
import { processesProjection } from './processes/projection.ts';
import { telemetryBatchesProjection } from './telemetry-batches/projection.ts';

/**
 * The read models fed by the TELEMETRY stream (src/telemetry/projector.ts), not by EVENTS: each
 * item arrives as an envelope of type `telemetry.<kind>` whose aggregate is the agent, whose time
 * is when the ingress stored it, whose id is the item's id (`<batch>:<index>`, what a Merkle proof
 * is asked for: a document's `itemId`) and whose position is its TELEMETRY sequence. That sequence
 * orders the documents (their `seq`) and stays in the server: the API answers documents without it
 * (`publicTelemetryDoc`). The batch index (`telemetry-batches`) is the server's own.
 */
export const TELEMETRY_PROJECTIONS: readonly Projection[] = [processesProjection, connectionsProjection, identitiesProjection, telemetryBatchesProjection];

/** A document id derived from what identifies it (128 bits of SHA-256, base64url: token-safe). */
export function docId(...parts: Array<string | number | null>): string {
  return createHash('sha256').update(parts.map(String).join('\u0000')).digest().toString('base64url', 0, 16);
}

import { createHash } from 'node:crypto';
import type { Projection } from '../src/store/model.ts';
import { connectionsProjection } from './connections/projection.ts';
import { identitiesProjection } from './identities/projection.ts';
import { processesProjection } from './processes/projection.ts';

/**
 * The read models fed by the TELEMETRY stream (src/telemetry/projector.ts), not by EVENTS: each
 * item arrives as an envelope of type `telemetry.<kind>` whose aggregate is the agent, whose time
 * is when the ingress stored it, and whose position is its TELEMETRY sequence — so a document's
 * `seq` is the item to ask a Merkle proof for.
 */
export const TELEMETRY_PROJECTIONS: readonly Projection[] = [processesProjection, connectionsProjection, identitiesProjection];

/** A document id derived from what identifies it (128 bits of SHA-256, base64url: token-safe). */
export function docId(...parts: Array<string | number | null>): string {
  return createHash('sha256').update(parts.map(String).join('\u0000')).digest().toString('base64url', 0, 16);
}

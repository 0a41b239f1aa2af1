import type { EvidenceStore } from '../evidence/store.ts';
import type { EventLog } from '../log/mod.ts';
import type { CursorSeal, TenantStore } from '../store/store.ts';
import type { StreamProjector } from '../projector/stream-projector.ts';
import { buildTelemetryProof, type TelemetryProof } from './proof.ts';

/** What the operator API reads besides the EVENTS read models: telemetry models, proofs, evidence bytes. */
export interface TelemetryReadSide {
  projector: StreamProjector;
  evidence: EvidenceStore;
  log: EventLog;
}

/** The same, bound to one tenant: none of it can name another. */
export interface TenantTelemetry {
  /** The telemetry read models (processes, connections, identities) of this tenant. */
  store: TenantStore;
  /** The Merkle inclusion proof of TELEMETRY item `seq`, if it is this tenant's. */
  proof(seq: number): Promise<TelemetryProof>;
  /** The stored bytes of this tenant's evidence, checked against its sealed hash. */
  evidence(evidenceId: string, sha256: string): Promise<Buffer>;
}

/** Binds the telemetry read side to one tenant. */
export function tenantTelemetry(side: TelemetryReadSide, tenant: string, cursors: CursorSeal): TenantTelemetry {
  return {
    store: side.projector.store.forTenant(tenant).withSealedCursors(cursors),
    proof: (seq) => buildTelemetryProof(side.log, tenant, seq),
    evidence: (evidenceId, sha256) => side.evidence.read(tenant, evidenceId, sha256),
  };
}

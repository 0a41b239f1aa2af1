import { TELEMETRY_BATCHES, type TelemetryBatchDoc } from '../../projections/telemetry-batches/projection.ts';
import type { EvidenceStore } from '../evidence/store.ts';
import type { EventLog } from '../log/mod.ts';
import type { Doc } from '../store/model.ts';
import type { CursorSeal, ListOptions, Page } from '../store/store.ts';
import type { StreamProjector } from '../projector/stream-projector.ts';
import { buildTelemetryProof, type TelemetryProof } from './proof.ts';

/** What the operator API reads besides the EVENTS read models: telemetry models, proofs, evidence bytes. */
export interface TelemetryReadSide {
  projector: StreamProjector;
  evidence: EvidenceStore;
  log: EventLog;
}

/** A telemetry document as a tenant receives it: without `seq`, its install-wide TELEMETRY sequence. */
export type PublicTelemetryDoc<T extends Doc = Doc> = Omit<T, 'seq'>;

/** The documents of the telemetry read models a tenant may read (lists, one by id), stripped of `seq`. */
export interface TelemetryDocs {
  get<T extends Doc = Doc>(collection: string, id: string): Promise<PublicTelemetryDoc<T> | null>;
  list<T extends Doc = Doc>(collection: string, o?: ListOptions): Promise<Page<PublicTelemetryDoc<T>>>;
}

/** The same, bound to one tenant: none of it can name another. */
export interface TenantTelemetry {
  /** The telemetry read models (processes, connections, identities) of this tenant. */
  store: TelemetryDocs;
  /** The Merkle inclusion proof of telemetry item `itemId` (`<batch>:<index>`), if it is this tenant's. */
  proof(itemId: string): Promise<TelemetryProof>;
  /** The stored bytes of this tenant's evidence, checked against its sealed hash. */
  evidence(evidenceId: string, sha256: string): Promise<Buffer>;
}

/**
 * A document without its `seq`: the order of the telemetry models is the order of TELEMETRY, whose
 * sequences are install-wide (the gaps between a tenant's own would show other tenants' volume).
 */
export function publicTelemetryDoc<T extends Doc>(d: T): PublicTelemetryDoc<T> {
  const { seq: _seq, ...rest } = d;
  return rest;
}

/** Binds the telemetry read side to one tenant. */
export function tenantTelemetry(side: TelemetryReadSide, tenant: string, cursors: CursorSeal): TenantTelemetry {
  const store = side.projector.store.forTenant(tenant).withSealedCursors(cursors);
  return {
    store: {
      get: async <T extends Doc>(collection: string, id: string) => {
        const d = await store.get<T>(collection, id);
        return d && publicTelemetryDoc(d);
      },
      list: async <T extends Doc>(collection: string, o?: ListOptions) => {
        const page = await store.list<T>(collection, o);
        return { ...page, items: page.items.map(publicTelemetryDoc) };
      },
    },
    proof: (itemId) =>
      buildTelemetryProof(side.log, tenant, itemId, async (batch) => (await store.get<TelemetryBatchDoc>(TELEMETRY_BATCHES, batch))?.firstSeq ?? null),
    evidence: (evidenceId, sha256) => side.evidence.read(tenant, evidenceId, sha256),
  };
}

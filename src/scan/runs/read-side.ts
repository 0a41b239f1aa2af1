import type { Level } from 'level';
import { SCAN_ITEM, type ScanItemData } from '../../../projections/scan-items/projection.ts';
import { SCANS_PROJECTIONS } from '../../../projections/scans-stream.ts';
import type { EventEnvelope } from '../../domain/events.ts';
import type { EventLog, StoredMessage } from '../../log/mod.ts';
import type { Logger } from '../../logger.ts';
import { StreamProjector } from '../../projector/stream-projector.ts';
import type { CursorSeal, TenantStore } from '../../store/store.ts';
import type { ScanItem } from '../items.ts';
import { buildScanProof, type ScanItemProof } from './proof.ts';
import { itemIndexOf, parseRunSubject, SCANS_STREAM, type ScansStreamOptions, scansStreamSpec } from './stream.ts';

const decoder = new TextDecoder();

/** A SCANS message as the SCANS projections see it (`scan.item` on the run's aggregate); null for anything else. */
export function scansEnvelope(m: StoredMessage): EventEnvelope<ScanItemData> | null {
  const where = parseRunSubject(m.subject);
  const index = itemIndexOf(m);
  if (!where || !Number.isInteger(index) || index < 0) return null;
  let item: ScanItem;
  try {
    item = JSON.parse(decoder.decode(m.data)) as ScanItem;
  } catch {
    return null;
  }
  if (typeof item?.address !== 'string' || typeof item.port !== 'number' || typeof item.state !== 'string') return null;
  return {
    id: `sc${m.seq}`,
    type: SCAN_ITEM,
    tenant: where.tenant,
    aggregate: { type: 'scan', id: where.runId },
    version: 0,
    at: m.time.toISOString(),
    actor: { kind: 'system', id: 'scans' },
    causationId: null,
    correlationId: null,
    schema: 1,
    data: { index, item },
  };
}

/** What the operator API reads besides the EVENTS read models for attack surface: items, assets, proofs. */
export interface ScanReadSide {
  projector: StreamProjector;
  log: EventLog;
}

/** The same, bound to one tenant: none of it can name another. */
export interface TenantScans {
  /** The SCANS read models (scan items, endpoints, addresses, certificates) of this tenant. */
  store: TenantStore;
  /** Waits (bounded) until the SCANS models reflect SCANS sequence `seq`. */
  waitFor(seq: number, timeoutMs: number): Promise<boolean>;
  /** The inclusion proof of item `index` of sealed run `runId`, if it is this tenant's. */
  proof(runId: string, index: number): Promise<ScanItemProof>;
}

/** Binds the read side to one tenant. */
export function tenantScans(side: ScanReadSide, tenant: string, cursors: CursorSeal): TenantScans {
  return {
    store: side.projector.store.forTenant(tenant).withSealedCursors(cursors),
    waitFor: (seq, timeoutMs) => side.projector.waitFor(seq, timeoutMs),
    proof: (runId, index) => buildScanProof(side.log, tenant, runId, index),
  };
}

/** Opens SCANS (creating it if missing) and starts the projector of its read models in `db`. */
export async function openScanReadSide(
  o: { db: Level<string, unknown>; log: EventLog; logger: Logger; durableName: string } & ScansStreamOptions,
): Promise<ScanReadSide> {
  const { db, log, logger, durableName, ...retention } = o;
  await log.streams.ensureStreamWithin(scansStreamSpec(retention));
  const projector = await StreamProjector.open(db, log.streams, SCANS_PROJECTIONS, {
    stream: SCANS_STREAM,
    filter: 'sc.>',
    durableName,
    logger,
    envelope: scansEnvelope,
  });
  await projector.start();
  return { projector, log };
}

import type { Level } from 'level';
import type { EventEnvelope } from '../domain/events.ts';
import { tenantFilter, type EventLog } from '../log/mod.ts';
import { ModelWriter, positionKey, putJson, RawBatch } from '../store/batch.ts';
import type { Projection } from '../store/model.ts';
import type { ReadStore } from '../store/store.ts';

/**
 * What an event asks of one tenant's read models beyond its own writes: `forget` — they are
 * rebuilt from the tenant's events as they read now (keys destroyed, fields erased); `remove` —
 * they are removed, with the admin index entries the tenant's events wrote (an offboarding).
 */
export type ResetMode = 'forget' | 'remove';

/** What the data lifecycle asks of the projector (src/lifecycle/readmodels.ts builds it). */
export interface ProjectorLifecycle {
  /** The reset an event asks for, if any. */
  resetOf(e: EventEnvelope): ResetMode | null;
  /** Before a reset: what the event destroys is destroyed here too (idempotent), so the replay cannot read it. */
  enforce(e: EventEnvelope): Promise<void>;
  /** Tenants offboarded anywhere in the stream: their events are skipped, their read models stay removed. */
  deletedTenants(log: EventLog): Promise<Set<string>>;
  /** After a tenant's read models are removed: other stores of the process that hold its documents (the telemetry models). */
  afterRemove?: (tenant: string) => Promise<void>;
}

/** Deletes every document of one tenant in the active generations of a store's models (one batch); returns how many keys went. */
export async function clearTenantModels(store: ReadStore, tenant: string): Promise<number> {
  const out = new RawBatch(store.db);
  try {
    for (const p of store.projections) {
      const sub = store.tenantSub(p.model, store.activeGen(p.model), tenant);
      for await (const k of sub.keys()) out.del(sub.prefix + k);
    }
    const n = out.length;
    await out.write();
    return n;
  } catch (err) {
    await out.discard();
    throw err;
  }
}

/** The reset a record asks for (the strongest of its events'), with the event that asks. */
export function resetOfRecord(lc: ProjectorLifecycle, events: readonly EventEnvelope[]): { mode: ResetMode; event: EventEnvelope } | null {
  let found: { mode: ResetMode; event: EventEnvelope } | null = null;
  for (const e of events) {
    const mode = lc.resetOf(e);
    if (mode === 'remove') return { mode, event: e };
    if (mode && !found) found = { mode, event: e };
  }
  return found;
}

/** A batch that records its final ops instead of writing them: what a replay would write. */
class RecordingBatch extends RawBatch {
  readonly ops = new Map<string, string | null>();

  constructor(db: Level<string, unknown>) {
    super(db);
  }

  override put(key: string, value: string): void {
    this.ops.set(key, value);
  }

  override del(key: string): void {
    this.ops.set(key, null);
  }
}

export interface ResetResult {
  events: number;
  /** Keys deleted and written in the one batch. */
  deleted: number;
  written: number;
}

/**
 * Rewrites one tenant's documents in the given model generations, in one LevelDB batch (with each
 * model's `position` when given, so a crash leaves either the old documents or the new ones):
 * `forget` replays the tenant's events up to `upTo`, revealed as they read now, into fresh
 * documents that replace the old ones — a document is byte-identical unless it held an erased
 * field; `remove` deletes every document of the tenant and every admin index entry its events
 * wrote. Other tenants' keys are never read or written.
 */
export async function resetTenant(o: {
  store: ReadStore;
  log: EventLog;
  tenant: string;
  upTo: number;
  mode: ResetMode;
  models: ReadonlyArray<{ projection: Projection; gen: number }>;
  position?: number;
}): Promise<ResetResult> {
  const { store, log, tenant } = o;
  const replay = new RecordingBatch(store.db);
  const writers = o.models.map((m) => new ModelWriter(store, m.projection, m.gen, 0, { fresh: true }));
  for (const w of writers) w.into(replay);
  let events = 0;
  try {
    await log.scanRecords({ filter: tenantFilter(tenant), toSeq: o.upTo }, async (raw) => {
      const r = await log.reveal(raw);
      events += r.events.length;
      for (const w of writers) {
        for (const e of r.events) {
          const p = w.apply(e, r.position);
          if (p) await p;
        }
      }
    });
    for (const w of writers) w.settle();
  } finally {
    await replay.discard();
  }
  const out = new RawBatch(store.db);
  let deleted = 0;
  let written = 0;
  try {
    const prefixes: string[] = [];
    for (const m of o.models) {
      const sub = store.tenantSub(m.projection.model, m.gen, tenant);
      prefixes.push(sub.prefix);
      for await (const k of sub.keys()) {
        const key = sub.prefix + k;
        if (o.mode === 'forget' && replay.ops.get(key) != null) continue;
        out.del(key);
        deleted++;
      }
    }
    for (const [key, value] of replay.ops) {
      const inTenant = prefixes.some((p) => key.startsWith(p));
      if (o.mode === 'remove') {
        // The tenant's own keys are deleted above; what is left are the admin indexes it wrote.
        if (!inTenant && value !== null) {
          out.del(key);
          deleted++;
        }
      } else if (value === null) out.del(key);
      else {
        out.put(key, value);
        written++;
      }
    }
    if (o.position !== undefined) for (const m of o.models) putJson(out, store.meta, positionKey(m.projection.model, m.gen), o.position);
    await out.write();
  } catch (err) {
    await out.discard();
    throw err;
  }
  return { events, deleted, written };
}

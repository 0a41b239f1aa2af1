import { createHash } from 'node:crypto';
import { privacyDecider } from '../../commands/privacy/decider.ts';
import { TENANT } from '../../commands/tenants/events.ts';
import { tenantDecider, type TenantState } from '../../commands/tenants/decider.ts';
import type { Actor } from '../domain/events.ts';
import { derivedIds, execute } from '../domain/execute.ts';
import type { RetentionKind } from '../domain/personal.ts';
import { aggregateTypeFilter, type EventLog, type Streams } from '../log/mod.ts';
import type { EvidenceStore } from '../evidence/store.ts';
import type { KeyStore } from '../privacy/keystore.ts';
import { SCANS_STREAM, scansTenantFilter } from '../scan/runs/stream.ts';
import { TELEMETRY_STREAM, telemetryTenantFilter } from '../telemetry/stream.ts';

/** The lifecycle role's actor in the events it records. */
export const LIFECYCLE_ACTOR: Actor = { kind: 'system', id: 'lifecycle' };

/** Kinds whose payload keys retention destroys (their data is sealed in EVENTS). */
const KEYED_KINDS = ['events', 'evidence', 'scan-items'] as const satisfies readonly RetentionKind[];

/**
 * A store outside EVENTS whose items age out by kind: telemetry (built in), evidence bytes in the
 * object store and scan items where they are kept register one each. `remove` deletes what the
 * tenant stored before `cutoff` and says how many items went.
 */
export interface RetentionTarget {
  kind: RetentionKind;
  remove(tenant: string, cutoff: Date): Promise<number>;
  /** Everything of the tenant, store and all (offboarding); `remove` with no cut-off when absent. */
  destroy?(tenant: string): Promise<number>;
}

/** Evidence bytes age out of the tenant's object store bucket; an offboarding removes the bucket. */
export function evidenceTarget(store: EvidenceStore): RetentionTarget {
  return { kind: 'evidence', remove: (tenant, cutoff) => store.removeOlderThan(tenant, cutoff), destroy: (tenant) => store.destroy(tenant) };
}

/** Telemetry ages out of the TELEMETRY stream per tenant (the stream's own max age bounds every tenant). */
export function telemetryTarget(streams: Streams): RetentionTarget {
  return {
    kind: 'telemetry',
    async remove(tenant, cutoff) {
      const before = await streams.seqAt(TELEMETRY_STREAM, cutoff);
      return before > 1 ? streams.purge(TELEMETRY_STREAM, telemetryTenantFilter(tenant), before) : 0;
    },
  };
}

/** Scan items age out of the SCANS stream per tenant (the stream's own max age bounds every tenant). */
export function scanItemsTarget(streams: Streams): RetentionTarget {
  return {
    kind: 'scan-items',
    async remove(tenant, cutoff) {
      const before = await streams.seqAt(SCANS_STREAM, cutoff);
      return before > 1 ? streams.purge(SCANS_STREAM, scansTenantFilter(tenant), before) : 0;
    },
    destroy: (tenant) => streams.purge(SCANS_STREAM, scansTenantFilter(tenant)),
  };
}

/** What one pass did, per tenant. */
export interface RetentionReport {
  destroyed: Array<{ tenant: string; kind: RetentionKind; periods: string[]; keys: number }>;
  removed: Array<{ tenant: string; kind: RetentionKind; items: number }>;
}

/** Every tenant's state (including its retention), from the tenant aggregates of the log. */
export async function tenantStates(log: EventLog): Promise<Map<string, TenantState>> {
  const states = new Map<string, TenantState>();
  await log.scanRecords({ filter: aggregateTypeFilter(TENANT) }, (r) => {
    let s = states.get(r.tenant) ?? tenantDecider.initialState();
    for (const e of r.events) s = tenantDecider.evolve(s, e);
    states.set(r.tenant, s);
  });
  return states;
}

/** The first instant after month `YYYY-MM` (UTC): a month's key ages out once that is older than the cut-off. */
export function periodEnd(period: string): Date {
  const [y, m] = period.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m, 1));
}

/**
 * One retention pass at `now`, deterministic in its inputs: for every tenant and kind with a
 * retention (the tenant's own, else the install's default), the data keys of every month that
 * ended before the cut-off are destroyed — recorded first as a sealed `privacy.keys-destroyed`
 * naming the kind, the months, the cut-off and the key ids, so the ledger shows what aged out and
 * when, and the events stay as verifiable ciphertext — and the targets outside EVENTS remove what
 * is older than the cut-off (recorded as `privacy.data-removed` when anything went). Ids are
 * derived from what is destroyed, so two passes (or two processes) record each act once.
 */
export async function applyRetention(o: {
  log: EventLog;
  keys: KeyStore | null;
  now: Date;
  defaults: Record<RetentionKind, number | null>;
  targets?: readonly RetentionTarget[];
  tenants?: Map<string, TenantState>;
}): Promise<RetentionReport> {
  const report: RetentionReport = { destroyed: [], removed: [] };
  const states = o.tenants ?? (await tenantStates(o.log));
  for (const [tenant, state] of [...states].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!state.exists || state.deleted) continue;
    const days = (kind: RetentionKind): number | null => state.retention[kind] ?? o.defaults[kind];
    const cutoffOf = (d: number): Date => new Date(o.now.getTime() - d * 86_400_000);
    if (o.keys) {
      for (const kind of KEYED_KINDS) {
        const d = days(kind);
        if (d === null) continue;
        const cutoff = cutoffOf(d);
        const aged = (await o.keys.keysOfKind(tenant, kind)).filter((k) => periodEnd(k.period).getTime() <= cutoff.getTime());
        if (aged.length === 0) continue;
        // One act per tenant and kind: each act makes every projector replay the tenant once.
        const keyIds = aged.map((k) => k.keyId).sort();
        const periods = [...new Set(aged.map((k) => k.period))].sort();
        const id = `ret-${kind}-${createHash('sha256').update(keyIds.join(',')).digest('base64url').slice(0, 22)}`;
        await execute(
          o.log,
          { tenant, id },
          privacyDecider,
          { kind: 'record-destruction', destruction: { reason: 'retention', keyIds, tenantKey: false, kind, periods, cutoff: cutoff.toISOString() } },
          { actor: LIFECYCLE_ACTOR, known: 'new', idempotent: true, eventIds: derivedIds(tenant, id) },
        );
        await o.keys.destroy(tenant, keyIds);
        report.destroyed.push({ tenant, kind, periods, keys: keyIds.length });
      }
    }
    for (const t of o.targets ?? []) {
      const d = days(t.kind);
      if (d === null) continue;
      const cutoff = cutoffOf(d);
      const items = await t.remove(tenant, cutoff);
      if (items === 0) continue;
      const id = `rm-${t.kind}-${createHash('sha256').update(cutoff.toISOString()).digest('base64url').slice(0, 16)}`;
      await execute(
        o.log,
        { tenant, id },
        privacyDecider,
        { kind: 'record-removal', removal: { kind: t.kind, cutoff: cutoff.toISOString(), items } },
        { actor: LIFECYCLE_ACTOR, known: 'new', idempotent: true, eventIds: derivedIds(tenant, id) },
      );
      report.removed.push({ tenant, kind: t.kind, items });
    }
  }
  return report;
}

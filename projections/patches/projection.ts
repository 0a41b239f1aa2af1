import { createHash } from 'node:crypto';
import {
  type HostComplianceFact,
  type InventoryRecorded,
  type JobRecorded,
  PATCH_DEFAULTS,
  PatchEvents as E,
  type PatchSettings,
  type PendingUpgradeFact,
} from '../../commands/patch/events.ts';
import type { Doc, DocRef, Write } from '../../src/store/model.ts';
import { defineProjection } from '../define.ts';

export type PatchSettingsDoc = Doc & PatchSettings & { updatedAt: string };

/** A host's patch state as of its latest inventory. */
export interface PatchHostDoc extends Doc {
  agentId: string;
  takenAt: string;
  recordedAt: string;
  os: InventoryRecorded['os'];
  listsRefreshed: boolean;
  warnings: string[];
  warningCount: number;
  reboot: InventoryRecorded['reboot'];
  packageCount: number;
  /** Where the host's installed packages are (PACKAGES stream) and their sealed SHA-256. */
  packagesSeq: number;
  packagesSha256: string;
  pending: PendingUpgradeFact[];
  compliance: HostComplianceFact;
  /** `yes` / `no`, for filtering. */
  compliant: 'yes' | 'no';
  rebootRequired: 'yes' | 'no';
  openFindings: number;
  lastCommandId: string | null;
}

/** A package with a pending upgrade, and the hosts it is pending on; listed most hosts first. */
export interface PatchPackageDoc extends Doc {
  package: string;
  hosts: Record<string, { from: string; to: string; security: boolean; availableSince: string; cves: string[]; keptBack: boolean }>;
  hostCount: number;
  securityHosts: number;
  /** `yes` when it is a security update on some host. */
  security: 'yes' | 'no';
  cves: string[];
}

/** A tenant's counts over its hosts' latest inventories. */
export interface PatchSummaryDoc extends Doc {
  hosts: number;
  compliant: number;
  needingReboot: number;
  withOverdueUpdates: number;
  missingSecurity: number;
  updatedAt: string;
}

/** The tenant's counts as they stood at the end of one UTC day (its last inventory that day). */
export interface PatchTrendDoc extends Doc {
  day: string;
  hosts: number;
  compliant: number;
  needingReboot: number;
  withOverdueUpdates: number;
  missingSecurity: number;
}

export type PatchJobDoc = Doc & JobRecorded & { commandId: string; recordedAt: string };

// Ids hold the tenant, so no two tenants ever hold a document under one id.
const hashId = (...parts: string[]): string => createHash('sha256').update(parts.join('\u0000')).digest().toString('base64url', 0, 16);

/** The id of a package's document in a tenant (package names hold `.`, `+` and `:`). */
export function packageDocId(tenant: string, name: string): string {
  return hashId(tenant, 'package', name);
}

/** The id of a tenant's trend document of the UTC day of `at`. */
export function trendDocId(tenant: string, at: string): string {
  return hashId(tenant, 'trend', at.slice(0, 10));
}

/** The id of a tenant's summary document: the tenant itself. */
export const summaryDocId = (tenant: string): string => tenant;
const dayNumber = (at: string): number => Number(at.slice(0, 10).replace(/-/g, ''));
const yes = (b: boolean): 'yes' | 'no' => (b ? 'yes' : 'no');
// Listed worst first: overdue updates, then missing ones, then a reboot pending.
const hostOrder = (c: HostComplianceFact): number => c.overThreshold * 1_000_000 + Math.min(c.missingSecurity, 99_999) * 10 + (c.rebootRequired ? 1 : 0);

function inventoryReads(e: { tenant: string; aggregate: { id: string }; at: string; data: unknown }): DocRef[] {
  const d = e.data as InventoryRecorded;
  const names = new Set([...d.pending.map((p) => p.package), ...d.cleared]);
  return [
    { collection: 'patch-hosts', id: e.aggregate.id },
    { collection: 'patch-summary', id: summaryDocId(e.tenant) },
    { collection: 'patch-trend', id: trendDocId(e.tenant, e.at) },
    ...[...names].map((n) => ({ collection: 'patch-packages', id: packageDocId(e.tenant, n) })),
  ];
}

/**
 * The Patches view: each host's compliance and pending updates (and where its installed packages are), the
 * packages by the number of hosts missing them, the tenant's counts and their daily series, and
 * each install-patches job's result. Fed by `patch.inventory-recorded` (compliance as evaluated
 * when the inventory arrived) and `patch.job-recorded`.
 */
export const patchesProjection = defineProjection({
  model: 'patches',
  main: 'patch-hosts',
  collections: {
    'patch-settings': { indexes: [] },
    'patch-hosts': { indexes: ['compliant', 'rebootRequired'] },
    'patch-packages': { indexes: ['security'] },
    'patch-summary': { indexes: [] },
    'patch-trend': { indexes: [] },
    'patch-jobs': { indexes: ['agentId'] },
  },
  on: {
    [E.settingsChanged]: {
      reads: (e) => [{ collection: 'patch-settings', id: e.tenant }],
      apply: (e, docs, seq) => {
        const old = docs.get<PatchSettingsDoc>('patch-settings', e.tenant);
        const doc: PatchSettingsDoc = { ...PATCH_DEFAULTS, ...(old ?? { id: e.tenant, seq }), ...(e.data as Partial<PatchSettings>), updatedAt: e.at };
        return [{ collection: 'patch-settings', id: e.tenant, doc }];
      },
    },
    [E.inventoryRecorded]: {
      reads: inventoryReads,
      apply: (e, docs, seq) => {
        const d = e.data as InventoryRecorded;
        const agentId = e.aggregate.id;
        const writes: Write[] = [];
        const old = docs.get<PatchHostDoc>('patch-hosts', agentId);
        const host: PatchHostDoc = {
          id: agentId,
          seq: hostOrder(d.compliance),
          agentId,
          takenAt: d.takenAt,
          recordedAt: e.at,
          os: d.os,
          listsRefreshed: d.listsRefreshed,
          warnings: d.warnings,
          warningCount: d.warningCount,
          reboot: d.reboot,
          packageCount: d.packageCount,
          packagesSeq: d.packagesSeq,
          packagesSha256: d.packagesSha256,
          pending: d.pending,
          compliance: d.compliance,
          compliant: yes(d.compliance.compliant),
          rebootRequired: yes(d.compliance.rebootRequired),
          openFindings: d.openKeys.length,
          lastCommandId: d.commandId ?? old?.lastCommandId ?? null,
        };
        writes.push({ collection: 'patch-hosts', id: agentId, doc: host });

        const pending = new Map(d.pending.map((p) => [p.package, p]));
        for (const name of new Set([...pending.keys(), ...d.cleared])) {
          const id = packageDocId(e.tenant, name);
          const doc = docs.get<PatchPackageDoc>('patch-packages', id);
          const hosts = { ...(doc?.hosts ?? {}) };
          const p = pending.get(name);
          if (p) hosts[agentId] = { from: p.from, to: p.to, security: p.security, availableSince: p.availableSince, cves: p.cves, keptBack: p.keptBack };
          else delete hosts[agentId];
          const list = Object.values(hosts);
          if (list.length === 0) {
            if (doc) writes.push({ collection: 'patch-packages', id, doc: null });
            continue;
          }
          const securityHosts = list.filter((h) => h.security).length;
          const next: PatchPackageDoc = {
            id,
            seq: list.length,
            package: name,
            hosts,
            hostCount: list.length,
            securityHosts,
            security: yes(securityHosts > 0),
            cves: [...new Set(list.flatMap((h) => h.cves))].sort(),
          };
          writes.push({ collection: 'patch-packages', id, doc: next });
        }

        const s = docs.get<PatchSummaryDoc>('patch-summary', summaryDocId(e.tenant)) ?? {
          id: summaryDocId(e.tenant),
          seq,
          hosts: 0,
          compliant: 0,
          needingReboot: 0,
          withOverdueUpdates: 0,
          missingSecurity: 0,
          updatedAt: e.at,
        };
        const was = old?.compliance;
        const now = d.compliance;
        const delta = (b: boolean | undefined): number => (b ? 1 : 0);
        const summary: PatchSummaryDoc = {
          ...s,
          hosts: s.hosts + (old ? 0 : 1),
          compliant: s.compliant + delta(now.compliant) - delta(was?.compliant),
          needingReboot: s.needingReboot + delta(now.rebootRequired) - delta(was?.rebootRequired),
          withOverdueUpdates: s.withOverdueUpdates + delta(now.overThreshold > 0) - delta((was?.overThreshold ?? 0) > 0),
          missingSecurity: s.missingSecurity + now.missingSecurity - (was?.missingSecurity ?? 0),
          updatedAt: e.at,
        };
        writes.push({ collection: 'patch-summary', id: summary.id, doc: summary });
        const day = trendDocId(e.tenant, e.at);
        const trend: PatchTrendDoc = {
          id: day,
          seq: dayNumber(e.at),
          day: e.at.slice(0, 10),
          hosts: summary.hosts,
          compliant: summary.compliant,
          needingReboot: summary.needingReboot,
          withOverdueUpdates: summary.withOverdueUpdates,
          missingSecurity: summary.missingSecurity,
        };
        writes.push({ collection: 'patch-trend', id: day, doc: trend });
        return writes;
      },
    },
    [E.jobRecorded]: {
      apply: (e, _docs, seq) => {
        const doc: PatchJobDoc = { ...(e.data as JobRecorded), id: e.aggregate.id, seq, commandId: e.aggregate.id, recordedAt: e.at };
        return [{ collection: 'patch-jobs', id: doc.id, doc }];
      },
    },
  },
});

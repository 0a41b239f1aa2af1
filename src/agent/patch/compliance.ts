/**
 * Patch compliance as pure functions of inventories, the kept availability state and the time
 * (given as data): what security updates a host is missing and for how long, and the findings
 * they raise, deduplicated by `patch:<package>:<candidate-version>`.
 */
import type { InstalledPackage, PatchInventory, PendingUpgrade } from './inventory.ts';
import { compareVersions } from './version.ts';

const DAY_MS = 86_400_000;

/**
 * When each pending upgrade was first known to be available, by dedup key (ISO times). Kept by the
 * caller between inventories; {@link trackAvailability} is the only writer.
 */
export interface AvailabilityState {
  firstSeen: Record<string, string>;
}

/** The dedup key of a pending upgrade: `patch:<package>:<candidate-version>` (`package` as apt names it, `name:arch` for a foreign arch). */
export function patchKey(u: Pick<PendingUpgrade, 'package' | 'to'>): string {
  return `patch:${u.package}:${u.to}`;
}

/**
 * The availability state after `inventory`: for each pending upgrade the earliest of the time it
 * was first seen, this inventory's time and its Release date (`publishedBy`). Every one of these
 * is a time at which the update was already available, so the age derived from the earliest never
 * overstates how long the host has been missing it. Upgrades no longer pending are dropped.
 */
export function trackAvailability(previous: AvailabilityState | undefined, inventory: PatchInventory): AvailabilityState {
  const firstSeen: Record<string, string> = {};
  for (const u of inventory.upgrades) {
    const key = patchKey(u);
    const times = [previous?.firstSeen[key], inventory.takenAt, u.publishedBy].filter((t): t is string => typeof t === 'string');
    firstSeen[key] = new Date(Math.min(...times.map((t) => Date.parse(t)))).toISOString();
  }
  return { firstSeen };
}

export interface ComplianceOptions {
  /** A missing security update older than this many days makes the host non-compliant. @defaultValue 14 */
  thresholdDays?: number;
}

/** A security update the host does not have yet. */
export interface MissingUpdate {
  key: string;
  package: string;
  architecture: string;
  from: string;
  to: string;
  cves: string[];
  keptBack: boolean;
  /** When the update was first known to be available (see {@link trackAvailability}). */
  availableSince: string;
  /** Whole days since `availableSince`. */
  ageDays: number;
  overThreshold: boolean;
}

/** One host's patch compliance at a time. */
export interface HostCompliance {
  takenAt: string;
  evaluatedAt: string;
  thresholdDays: number;
  missingSecurity: MissingUpdate[];
  /** Missing security updates older than the threshold. */
  overThreshold: number;
  oldestAgeDays: number | null;
  /** All pending upgrades, security or not. */
  pendingTotal: number;
  rebootRequired: boolean;
  rebootPackages: string[];
  /** No security update missing for longer than the threshold, and no reboot pending. */
  compliant: boolean;
}

/** The compliance of the host an inventory describes, at `now`. */
export function hostCompliance(inventory: PatchInventory, state: AvailabilityState | undefined, now: Date, options: ComplianceOptions = {}): HostCompliance {
  const thresholdDays = options.thresholdDays ?? 14;
  const missingSecurity = inventory.upgrades
    .filter((u) => u.security)
    .map((u): MissingUpdate => {
      const key = patchKey(u);
      const availableSince = earliest([state?.firstSeen[key], u.publishedBy, inventory.takenAt]);
      const ageMs = Math.max(0, now.getTime() - Date.parse(availableSince));
      return {
        key,
        package: u.package,
        architecture: u.architecture,
        from: u.from,
        to: u.to,
        cves: u.cves,
        keptBack: u.keptBack,
        availableSince,
        ageDays: Math.floor(ageMs / DAY_MS),
        overThreshold: ageMs > thresholdDays * DAY_MS,
      };
    })
    .sort((a, b) => b.ageDays - a.ageDays || a.package.localeCompare(b.package));
  const overThreshold = missingSecurity.filter((m) => m.overThreshold).length;
  return {
    takenAt: inventory.takenAt,
    evaluatedAt: now.toISOString(),
    thresholdDays,
    missingSecurity,
    overThreshold,
    oldestAgeDays: missingSecurity[0]?.ageDays ?? null,
    pendingTotal: inventory.upgrades.length,
    rebootRequired: inventory.reboot.required,
    rebootPackages: inventory.reboot.packages,
    compliant: overThreshold === 0 && !inventory.reboot.required,
  };
}

function earliest(times: Array<string | null | undefined>): string {
  const ms = times.filter((t): t is string => typeof t === 'string').map((t) => Date.parse(t));
  return new Date(Math.min(...ms)).toISOString();
}

/** A finding for one missing security update, in the shape of a `finding.reported` payload less the agent id. */
export interface PatchFinding {
  dedupKey: string;
  product: 'patch';
  title: string;
  severity: 'medium' | 'high';
  subject: string;
  details: {
    package: string;
    architecture: string;
    from: string;
    to: string;
    cves: string[];
    availableSince: string;
    ageDays: number;
    overThreshold: boolean;
  };
  observedAt: string;
}

/** The findings of a host's compliance: one per missing security update; `high` once it is older than the threshold. */
export function patchFindings(compliance: HostCompliance): PatchFinding[] {
  return compliance.missingSecurity.map((m) => ({
    dedupKey: m.key,
    product: 'patch',
    title: `security update for ${m.package} missing (${m.from} → ${m.to})${m.cves.length > 0 ? `: ${m.cves.join(', ')}` : ''}`,
    severity: m.overThreshold ? 'high' : 'medium',
    subject: m.package,
    details: {
      package: m.package,
      architecture: m.architecture,
      from: m.from,
      to: m.to,
      cves: m.cves,
      availableSince: m.availableSince,
      ageDays: m.ageDays,
      overThreshold: m.overThreshold,
    },
    observedAt: compliance.takenAt,
  }));
}

/** Why a finding went away: the fix is installed, a newer update replaced it, or the package or update is gone. */
export type RemediationReason = 'installed' | 'superseded' | 'no-longer-offered';

export interface FindingsDiff {
  /** Findings not open before. */
  opened: PatchFinding[];
  /** Still open, with a change worth recording (severity, CVE ids). */
  updated: PatchFinding[];
  unchanged: PatchFinding[];
  /** Open before and no longer listed by the next inventory. */
  remediated: Array<{ finding: PatchFinding; reason: RemediationReason }>;
}

/**
 * Compares the open findings of a host with those of its next inventory. A finding the next
 * inventory no longer lists is remediated; the reason comes from that inventory's packages.
 */
export function diffPatchFindings(
  previous: PatchFinding[],
  next: PatchFinding[],
  nextInventory: { packages: InstalledPackage[]; upgrades: PendingUpgrade[] },
): FindingsDiff {
  const before = new Map(previous.map((f) => [f.dedupKey, f]));
  const after = new Map(next.map((f) => [f.dedupKey, f]));
  const diff: FindingsDiff = { opened: [], updated: [], unchanged: [], remediated: [] };
  for (const f of after.values()) {
    const old = before.get(f.dedupKey);
    if (!old) diff.opened.push(f);
    else if (old.severity !== f.severity || old.details.cves.join() !== f.details.cves.join()) diff.updated.push(f);
    else diff.unchanged.push(f);
  }
  for (const f of before.values()) {
    if (after.has(f.dedupKey)) continue;
    diff.remediated.push({ finding: f, reason: remediationReason(f, nextInventory) });
  }
  return diff;
}

function remediationReason(f: PatchFinding, inv: { packages: InstalledPackage[]; upgrades: PendingUpgrade[] }): RemediationReason {
  const [name, arch] = f.details.package.split(':');
  const installed = inv.packages.find((p) => p.name === name && (arch === undefined || p.architecture === arch));
  if (installed && compareVersions(installed.version, f.details.to) >= 0) return 'installed';
  if (inv.upgrades.some((u) => u.package === f.details.package && compareVersions(u.to, f.details.to) > 0)) return 'superseded';
  return 'no-longer-offered';
}

/** A tenant's roll-up of its hosts' compliance: counts, and the packages by number of hosts missing them. */
export interface TenantCompliance {
  hosts: number;
  compliant: number;
  needingReboot: number;
  withOverdueUpdates: number;
  packages: Array<{ package: string; hosts: number; overdueHosts: number; cves: string[] }>;
}

/** Rolls up the compliance of a tenant's hosts (keyed by host id). */
export function tenantCompliance(hosts: Record<string, HostCompliance>): TenantCompliance {
  const byPackage = new Map<string, { hosts: Set<string>; overdue: Set<string>; cves: Set<string> }>();
  let compliant = 0;
  let needingReboot = 0;
  let withOverdueUpdates = 0;
  for (const [hostId, c] of Object.entries(hosts)) {
    if (c.compliant) compliant++;
    if (c.rebootRequired) needingReboot++;
    if (c.overThreshold > 0) withOverdueUpdates++;
    for (const m of c.missingSecurity) {
      const entry = byPackage.get(m.package) ?? { hosts: new Set(), overdue: new Set(), cves: new Set() };
      entry.hosts.add(hostId);
      if (m.overThreshold) entry.overdue.add(hostId);
      for (const id of m.cves) entry.cves.add(id);
      byPackage.set(m.package, entry);
    }
  }
  const packages = [...byPackage]
    .map(([pkg, e]) => ({ package: pkg, hosts: e.hosts.size, overdueHosts: e.overdue.size, cves: [...e.cves].sort() }))
    .sort((a, b) => b.hosts - a.hosts || b.overdueHosts - a.overdueHosts || a.package.localeCompare(b.package));
  return { hosts: Object.keys(hosts).length, compliant, needingReboot, withOverdueUpdates, packages };
}

import type { MaintenanceWindow } from '../../src/agent/patch/window.ts';

/**
 * Patch management as events:
 * - `patch-settings` (id = the tenant): the maintenance window outside which install-patches waits,
 *   and the age in days after which a missing security update makes a host non-compliant;
 * - `patch-host` (id = the agent): one `patch.inventory-recorded` per inventory the agent sends,
 *   with the host's compliance as evaluated when it arrived, and what the next one is compared with;
 * - `patch-job` (id = the install-patches command): the job's result per package.
 */
export const PATCH_SETTINGS = 'patch-settings';
export const PATCH_HOST = 'patch-host';
export const PATCH_JOB = 'patch-job';

export const PatchEvents = {
  settingsChanged: 'patch.settings-changed',
  inventoryRecorded: 'patch.inventory-recorded',
  jobRecorded: 'patch.job-recorded',
} as const;

export interface PatchSettings {
  /** null: no window, install-patches runs when it arrives. */
  window: MaintenanceWindow | null;
  thresholdDays: number;
}

export const PATCH_DEFAULTS: PatchSettings = { window: null, thresholdDays: 14 };

/** An installed package, compactly: `[name, version, architecture, source, status, held]`. */
export type PackageTuple = [string, string, string, string, string, boolean];

/** A pending upgrade as the read models keep it. */
export interface PendingUpgradeFact {
  /** `patch:<package>:<candidate>` for security updates (the finding's key); the same form for the others. */
  key: string;
  package: string;
  architecture: string;
  from: string;
  to: string;
  security: boolean;
  cves: string[];
  keptBack: boolean;
  /** The earliest time the update is known to have been available (see trackAvailability). */
  availableSince: string;
}

export interface HostComplianceFact {
  thresholdDays: number;
  evaluatedAt: string;
  missingSecurity: number;
  overThreshold: number;
  oldestAgeDays: number | null;
  pendingTotal: number;
  rebootRequired: boolean;
  compliant: boolean;
}

export interface InventoryRecorded {
  takenAt: string;
  os: { id: string; versionId: string; codename: string; prettyName: string } | null;
  listsRefreshed: boolean;
  /** The first warnings of the inventory (apt could not refresh its lists…), and how many there were. */
  warnings: string[];
  warningCount: number;
  reboot: { required: boolean; packages: string[] };
  /** SHA-256 of the installed packages (their tuples as canonical JSON), and where the list is stored (PACKAGES stream). */
  packagesSha256: string;
  packagesSeq: number;
  packageCount: number;
  pending: PendingUpgradeFact[];
  /** Packages pending before this inventory and not any more. */
  cleared: string[];
  compliance: HostComplianceFact;
  /** Keys of this host's open patch findings after this inventory. */
  openKeys: string[];
  /** The install-patches command this inventory follows, if any. */
  commandId: string | null;
}

/** One package of an install-patches job (src/agent/patch/install.ts), output trimmed. */
export interface PackageJobResult {
  package: string;
  from: string | null;
  target: string | null;
  to: string | null;
  outcome: 'upgraded' | 'would-upgrade' | 'up-to-date' | 'not-installed' | 'failed';
  exitCode: number | null;
  output: string;
  outputTruncated: boolean;
  alsoChanged: Array<{ package: string; from: string | null; to: string | null }>;
}

export interface JobRecorded {
  agentId: string;
  mode: 'security' | 'packages';
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  listsRefreshed: boolean;
  succeeded: boolean;
  rebootRequired: boolean;
  results: PackageJobResult[];
}

/**
 * The patch agent's public face: inventory of a Debian/Ubuntu host (installed packages, pending
 * upgrades with their security origin, age hints and CVE ids, reboot flag), compliance and
 * findings as pure functions, `install-patches`, and maintenance windows.
 */
export { takeInventory, inventoryOf, listInstalled, isSecurityRelease } from './inventory.ts';
export type { InventoryOptions, InstalledPackage, PatchInventory, PendingUpgrade, ReleaseRef } from './inventory.ts';
export type { CveMode } from './cve.ts';
export { patchKey, trackAvailability, hostCompliance, patchFindings, diffPatchFindings, tenantCompliance } from './compliance.ts';
export type {
  AvailabilityState,
  ComplianceOptions,
  FindingsDiff,
  HostCompliance,
  MissingUpdate,
  PatchFinding,
  RemediationReason,
  TenantCompliance,
} from './compliance.ts';
export { installPatches, validateInstallArgs } from './install.ts';
export type { InstallOptions, InstallPatchesArgs, InstallPatchesResult, PackageOutcome, PackageResult } from './install.ts';
export { insideWindow, nextWindowStart, validateWindow, WEEKDAYS } from './window.ts';
export type { MaintenanceWindow, Weekday } from './window.ts';
export { openHostRoot, resolveInRoot } from './root.ts';
export type { HostRoot } from './root.ts';
export { assertPackageName, compareVersions, isPackageName } from './version.ts';
export { parseDeb822 } from './deb822.ts';
export { parseChangelog, cvesFixedBetween } from './changelog.ts';
export { commandResultOf } from './result.ts';
export type { InstallCommandResult } from './result.ts';
export {
  installPatchesArgsSchema,
  maintenanceWindowSchema,
  patchInventorySchema,
  PACKAGE_NAME_PATTERN,
  VERSION_PATTERN,
  INVENTORY_MAX_PACKAGES,
  INSTALL_MAX_PACKAGES,
} from './schemas.ts';

/**
 * A tenant's attack-surface settings (aggregate `asm-settings`, id = the tenant): the external
 * targets the operator declares — the allowlist every scan is judged by — and the number of days
 * before expiry a certificate is reported. A change carries only the values that changed.
 *
 * A scan scope (aggregate `scan-scope`, id derived from the tenant, the scanner and the targets):
 * the runs over the same targets by the same scanner, in order. Its last event says which run was
 * last and which findings were open after it: what the next run is compared with.
 */
export const ASM_SETTINGS = 'asm-settings';
export const SCAN_SCOPE = 'scan-scope';

export const AsmEvents = {
  settingsChanged: 'asm.settings-changed',
  scopeAdvanced: 'scan.scope-advanced',
} as const;

export interface AsmSettings {
  /** Allowlist entries, canonical (addresses, CIDR blocks, hostnames, `*.domain`). */
  targets: string[];
  /** A certificate with fewer days left is reported. */
  expiryWarningDays: number;
}

export const ASM_DEFAULTS: AsmSettings = { targets: [], expiryWarningDays: 30 };

/** The state of a scope after a run. */
export interface ScopeAdvanced {
  runId: string;
  previousRunId: string | null;
  /** Dedup keys of the findings open after this run (sorted). */
  openKeys: string[];
  /** Those open before it: what the run was judged against (a retry after a crash judges it the same way). */
  previousOpenKeys: string[];
}

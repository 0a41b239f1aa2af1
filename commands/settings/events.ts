import type { Role } from '../../src/api/permissions.ts';
import type { Permission } from '../../src/api/permissions.ts';

/**
 * Settings as events: the install's (aggregate `settings`, id `install`, in the install tenant) and
 * each customer's four-eyes policy (aggregate `policy`, id = the tenant, in the tenant). A change
 * carries only the values that changed.
 */
export const SETTINGS = 'settings';
export const POLICY = 'policy';
export const SETTINGS_ID = 'install';

export const SettingsEvents = {
  changed: 'settings.changed',
  policyChanged: 'policy.changed',
} as const;

/** Install settings, with their defaults. */
export interface InstallSettings {
  /** Everyone must use MFA to sign in with a password. */
  mfaForAll: boolean;
  /** Holders of these roles (anywhere) must use MFA. */
  mfaForRoles: Role[];
  /** API token lifetime when none is asked for, and the longest allowed, in days. */
  tokenDefaultDays: number;
  tokenMaxDays: number;
  /** A dashboard session ends after this long without a request, and this long after sign-in at most. */
  sessionIdleMinutes: number;
  sessionAbsoluteMinutes: number;
  /** What a suspended customer's own people and tokens may still do there (reads only). */
  suspendedReads: Permission[];
}

export const INSTALL_DEFAULTS: InstallSettings = {
  mfaForAll: false,
  mfaForRoles: [],
  tokenDefaultDays: 90,
  tokenMaxDays: 365,
  sessionIdleMinutes: 30,
  sessionAbsoluteMinutes: 8 * 60,
  suspendedReads: ['tenant.read', 'audit.read', 'ledger.read'],
};

/** Actions that four eyes can gate on a customer. */
export const GATED_ACTIONS = [
  'isolate-host',
  'kill-process',
  'disable-account',
  'reset-credentials',
  'install-patches',
  'suspend-tenant',
  'delete-tenant',
  'erase-subject',
  'detection-rule-live',
  'role-change',
] as const;
export type GatedAction = (typeof GATED_ACTIONS)[number];

/** A customer's four-eyes policy. */
export interface TenantPolicy {
  fourEyes: GatedAction[];
  /** How long a request waits for its second person. */
  approvalExpiryMinutes: number;
}

export const POLICY_DEFAULTS: TenantPolicy = { fourEyes: [], approvalExpiryMinutes: 60 };

import { INSTALL_DEFAULTS, type InstallSettings, POLICY_DEFAULTS, SettingsEvents as E, type TenantPolicy } from '../../commands/settings/events.ts';
import type { Doc } from '../../src/store/model.ts';
import { defineProjection, type Handler } from '../define.ts';

export type SettingsDoc = Doc & Partial<InstallSettings & TenantPolicy> & { updatedAt: string };

/**
 * Each document's id is its tenant's id (the install's settings live in the install tenant, a
 * customer's policy in the customer's), so no two tenants ever hold a document under one id.
 */
export const settingsDocId = (tenant: string): string => tenant;

function merge(): Handler {
  return {
    reads: (e) => [{ collection: 'settings', id: settingsDocId(e.tenant) }],
    apply: (e, docs, seq) => {
      const docId = settingsDocId(e.tenant);
      const old = docs.get<SettingsDoc>('settings', docId);
      const doc: SettingsDoc = { ...(old ?? { id: docId, seq }), ...(e.data as object), updatedAt: e.at };
      return [{ collection: 'settings', id: docId, doc }];
    },
  };
}

/** The install's settings and each customer's four-eyes policy, as documents with every value set. */
export const settingsProjection = defineProjection({
  model: 'settings',
  main: 'settings',
  collections: { settings: { indexes: [] } },
  on: { [E.changed]: merge(), [E.policyChanged]: merge() },
});

/** The install settings with defaults for whatever was never set. */
export function installSettingsOf(doc: SettingsDoc | null): InstallSettings {
  const out = { ...INSTALL_DEFAULTS };
  for (const k of Object.keys(INSTALL_DEFAULTS) as Array<keyof InstallSettings>) if (doc?.[k] !== undefined) (out as Record<string, unknown>)[k] = doc[k];
  return out;
}

/** A customer's policy with defaults. */
export function tenantPolicyOf(doc: SettingsDoc | null): TenantPolicy {
  return { fourEyes: doc?.fourEyes ?? POLICY_DEFAULTS.fourEyes, approvalExpiryMinutes: doc?.approvalExpiryMinutes ?? POLICY_DEFAULTS.approvalExpiryMinutes };
}

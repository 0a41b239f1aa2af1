import { INSTALL_DEFAULTS, type InstallSettings, POLICY_DEFAULTS, SettingsEvents as E, type TenantPolicy } from '../../commands/settings/events.ts';
import type { Doc } from '../../src/store/model.ts';
import { defineProjection } from '../define.ts';

export type SettingsDoc = Doc & Partial<InstallSettings & TenantPolicy> & { updatedAt: string };

/** Id of the install's settings document (install tenant) and of a customer's policy document. */
export const INSTALL_SETTINGS_DOC = 'install';
export const POLICY_DOC = 'policy';

function merge(docId: string) {
  return {
    reads: () => [{ collection: 'settings', id: docId }],
    apply: (e: { data: unknown; at: string }, docs: { get<T extends Doc>(c: string, id: string): T | undefined }, seq: number) => {
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
  on: { [E.changed]: merge(INSTALL_SETTINGS_DOC), [E.policyChanged]: merge(POLICY_DOC) },
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

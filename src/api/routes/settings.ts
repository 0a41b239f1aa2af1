import { installSettingsDecider, tenantPolicyDecider } from '../../../commands/settings/decider.ts';
import { GATED_ACTIONS, type InstallSettings, SETTINGS_ID, type TenantPolicy } from '../../../commands/settings/events.ts';
import { installSettingsOf, settingsDocId, type SettingsDoc, tenantPolicyOf } from '../../../projections/settings/projection.ts';
import { INSTALL_TENANT } from '../../people/install.ts';
import { PERMISSIONS, ROLE_NAMES } from '../permissions.ts';
import { type InstallContext, type InstallRouteDef, installRoute, type RouteDef, TENANT_PREFIX, type TenantContext, tenantRoute } from '../route.ts';
import { TENANT_PARAM } from '../schemas.ts';

const READ_PERMISSIONS = (Object.keys(PERMISSIONS) as Array<keyof typeof PERMISSIONS>).filter((p) => p.endsWith('.read'));

/** The install's settings and each customer's four-eyes policy. */
export const settingsRoutes: RouteDef[] = [
  installRoute({
    method: 'GET',
    url: '/settings',
    permission: 'settings.manage',
    area: 'settings',
    summary: 'The install settings: MFA requirements, token lifetimes, session timeouts, reads allowed while a customer is suspended',
    handler: async (c) => installSettingsOf(await c.admin.tenant(INSTALL_TENANT).get<SettingsDoc>('settings', settingsDocId(INSTALL_TENANT))),
  }),
  installRoute({
    method: 'PATCH',
    url: '/settings',
    permission: 'settings.manage',
    area: 'settings',
    summary: 'Change install settings (only the fields given)',
    body: {
      properties: {
        mfaForAll: { type: 'boolean' },
        mfaForRoles: { type: 'array', items: { type: 'string', enum: ROLE_NAMES }, uniqueItems: true, maxItems: 6 },
        tokenDefaultDays: { type: 'integer', minimum: 1, maximum: 3650 },
        tokenMaxDays: { type: 'integer', minimum: 1, maximum: 3650 },
        sessionIdleMinutes: { type: 'integer', minimum: 1, maximum: 480 },
        sessionAbsoluteMinutes: { type: 'integer', minimum: 5, maximum: 480 },
        suspendedReads: { type: 'array', items: { type: 'string', enum: READ_PERMISSIONS }, uniqueItems: true, maxItems: 20 },
      },
    },
    handler: async (c: InstallContext<Partial<InstallSettings>>) => {
      const r = await c.execute(INSTALL_TENANT, installSettingsDecider, SETTINGS_ID, { kind: 'set', values: c.body });
      const consistencyToken = await c.settle(INSTALL_TENANT, r.position);
      return { ...installSettingsOf(await c.admin.tenant(INSTALL_TENANT).get<SettingsDoc>('settings', settingsDocId(INSTALL_TENANT))), consistencyToken };
    },
  }) satisfies InstallRouteDef,
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/policy`,
    permission: 'tenant.read',
    area: 'policy',
    summary: "The customer's four-eyes policy: which actions need a second person, and how long a request waits",
    params: TENANT_PARAM,
    handler: async (c) => tenantPolicyOf(await c.store.get<SettingsDoc>('settings', settingsDocId(c.tenant))),
  }),
  tenantRoute({
    method: 'PUT',
    url: `${TENANT_PREFIX}/policy`,
    permission: 'policy.manage',
    area: 'policy',
    summary: "Set the customer's four-eyes policy",
    params: TENANT_PARAM,
    body: {
      properties: {
        fourEyes: { type: 'array', items: { type: 'string', enum: [...GATED_ACTIONS] }, uniqueItems: true, maxItems: GATED_ACTIONS.length },
        approvalExpiryMinutes: { type: 'integer', minimum: 1, maximum: 7 * 24 * 60 },
      },
    },
    handler: async (c: TenantContext<Partial<TenantPolicy>>) => {
      const r = await c.execute(tenantPolicyDecider, c.tenant, { kind: 'set', values: c.body });
      const consistencyToken = await c.settle(r.position);
      return { ...tenantPolicyOf(await c.store.get<SettingsDoc>('settings', settingsDocId(c.tenant))), consistencyToken };
    },
  }),
];

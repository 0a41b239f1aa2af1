import { agentConfigDecider } from '../../../commands/agent-config/decider.ts';
import { TENANT_SCOPE_ID } from '../../../commands/agent-config/events.ts';
import type { AgentConfigDoc } from '../../../projections/agent-config/projection.ts';
import type { AgentDoc } from '../../../projections/agents/projection.ts';
import { COLLECTOR_PRODUCTS, DEFAULT_SETTINGS, effectiveSettings, SETTINGS_OVERRIDE_SCHEMA, type SettingsOverride } from '../../domain/agent-config.ts';
import { TENANT_PREFIX, type TenantContext, type TenantRouteDef, tenantRoute } from '../route.ts';
import { ID, mustGet, TENANT_PARAM } from '../schemas.ts';

/** A CA certificate and a few names: the largest settings body. */
const SETTINGS_MAX_BYTES = 96 * 1024;

/** The collectors an agent runs under the tenant's products now. */
function collectorsOn(c: TenantContext): string[] {
  return Object.entries(COLLECTOR_PRODUCTS)
    .filter(([, p]) => c.tenantDoc.products.includes(p))
    .map(([k]) => k);
}

async function own(c: TenantContext, id: string): Promise<SettingsOverride | null> {
  return (await c.store.get<AgentConfigDoc>('agent-config', id))?.settings ?? null;
}

/**
 * Collection settings (`GET /agent/v1/config` hands them to the agents): the tenant's over the
 * install's defaults, and one agent's over the tenant's. A change reaches every agent within its
 * config interval. The directory's bind password is never among them: it stays on the agent host.
 */
export const agentConfigRoutes: TenantRouteDef[] = [
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/agent-config`,
    permission: 'agents.read',
    area: 'agent-config',
    summary: "The tenant's collection settings, the defaults under them, and what its agents run with",
    params: TENANT_PARAM,
    handler: async (c: TenantContext) => {
      const settings = await own(c, TENANT_SCOPE_ID);
      return {
        settings: settings ?? {},
        defaults: DEFAULT_SETTINGS,
        effective: effectiveSettings(settings, null),
        collectors: collectorsOn(c),
        consistencyToken: c.readToken(),
      };
    },
  }),
  tenantRoute({
    method: 'PUT',
    url: `${TENANT_PREFIX}/agent-config`,
    permission: 'agents.configure',
    area: 'agent-config',
    summary: "Replace the tenant's collection settings (intervals, limits, directory); fields left out take the defaults",
    params: TENANT_PARAM,
    body: { properties: SETTINGS_OVERRIDE_SCHEMA.properties, maxBytes: SETTINGS_MAX_BYTES },
    handler: async (c: TenantContext<SettingsOverride>) => {
      const r = await c.execute(agentConfigDecider, TENANT_SCOPE_ID, { kind: 'set', set: { scope: 'tenant', agentId: null, settings: c.body } });
      return { settings: c.body, effective: effectiveSettings(c.body, null), consistencyToken: await c.settle(r.position) };
    },
  }),
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/agents/:agentId/config`,
    permission: 'agents.read',
    area: 'agents',
    summary: "One agent's own collection settings and what it runs with (defaults, the tenant's, its own)",
    params: { ...TENANT_PARAM, agentId: ID },
    handler: async (c: TenantContext<unknown, unknown, { agentId: string }>) => {
      await mustGet<AgentDoc>(c, 'agents', c.params.agentId);
      const mine = await own(c, c.params.agentId);
      return {
        settings: mine ?? {},
        effective: effectiveSettings(await own(c, TENANT_SCOPE_ID), mine),
        collectors: collectorsOn(c),
        consistencyToken: c.readToken(),
      };
    },
  }),
  tenantRoute({
    method: 'PUT',
    url: `${TENANT_PREFIX}/agents/:agentId/config`,
    permission: 'agents.configure',
    area: 'agents',
    summary: "Replace one agent's own collection settings over the tenant's (for example the directory settings of a domain controller's agent)",
    params: { ...TENANT_PARAM, agentId: ID },
    body: { properties: SETTINGS_OVERRIDE_SCHEMA.properties, maxBytes: SETTINGS_MAX_BYTES },
    handler: async (c: TenantContext<SettingsOverride, unknown, { agentId: string }>) => {
      const agent = await mustGet<AgentDoc>(c, 'agents', c.params.agentId);
      const r = await c.execute(agentConfigDecider, agent.id, {
        kind: 'set',
        set: { scope: 'agent', agentId: agent.id, settings: c.body },
        agentStatus: agent.status,
      });
      return {
        settings: c.body,
        effective: effectiveSettings(await own(c, TENANT_SCOPE_ID), c.body),
        consistencyToken: await c.settle(r.position),
      };
    },
  }),
];

import type { SettingsOverride } from '../../src/domain/agent-config.ts';

/**
 * Collection settings: aggregate `agent-config`, id `tenant` for the tenant's own settings, or an
 * agent id for one agent's settings over the tenant's (a domain controller's directory settings).
 */
export const AGENT_CONFIG = 'agent-config';

/** The id of the tenant-wide settings aggregate (never an agent id: those are 22 characters). */
export const TENANT_SCOPE_ID = 'tenant';

export const AgentConfigEvents = {
  /** The whole override of one scope, replacing the previous one. */
  set: 'agent-config.set',
} as const;

export interface AgentConfigSet {
  scope: 'tenant' | 'agent';
  /** For scope `agent`: whose settings these are. */
  agentId: string | null;
  settings: SettingsOverride;
}

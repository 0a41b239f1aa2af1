import { AGENT_CONFIG, AgentConfigEvents, type AgentConfigSet, TENANT_SCOPE_ID } from '../../commands/agent-config/events.ts';
import { type CollectionSettings, effectiveSettings, type SettingsOverride } from '../domain/agent-config.ts';
import type { LogRecord } from '../log/mod.ts';
import type { IngressFeed } from './feed.ts';

/**
 * The ingress's view of collection settings (`agent-config` aggregates of every tenant), in
 * memory like its tenant view: a tenant's own settings and any agent's settings over them. Each
 * question first brings the view up to the log, so a change an operator made before an agent
 * asks for its configuration is in that answer.
 */
export class SettingsView {
  readonly #feed: IngressFeed;
  readonly #tenants = new Map<string, SettingsOverride>();
  readonly #agents = new Map<string, SettingsOverride>();

  constructor(feed: IngressFeed) {
    this.#feed = feed;
    feed.add({ replayed: [AGENT_CONFIG], apply: (r) => this.#apply(r) });
  }

  /** The settings one agent runs with now: defaults, its tenant's, its own. */
  async settingsFor(tenant: string, agentId: string): Promise<CollectionSettings> {
    await this.#feed.current();
    return this.known(tenant, agentId);
  }

  /** The same as the view holds it now, without bringing the view up to the log first. */
  known(tenant: string, agentId: string): CollectionSettings {
    return effectiveSettings(this.#tenants.get(tenant) ?? null, this.#agents.get(`${tenant}/${agentId}`) ?? null);
  }

  #apply(r: LogRecord): void {
    for (const e of r.events) {
      if (e.type !== AgentConfigEvents.set) continue;
      const d = e.data as AgentConfigSet;
      if (r.aggregate.id === TENANT_SCOPE_ID) this.#tenants.set(r.tenant, d.settings);
      else this.#agents.set(`${r.tenant}/${r.aggregate.id}`, d.settings);
    }
  }
}

import { AGENT_CONFIG, AgentConfigEvents, type AgentConfigSet, TENANT_SCOPE_ID } from '../../commands/agent-config/events.ts';
import { type CollectionSettings, effectiveSettings, type SettingsOverride } from '../domain/agent-config.ts';
import type { EventLog, LogRecord } from '../log/mod.ts';
import type { Logger } from '../logger.ts';
import { AggregateFeed } from './feed.ts';

/**
 * The ingress's view of collection settings (`agent-config` aggregates of every tenant), in
 * memory like its tenant view: a tenant's own settings and any agent's settings over them. Each
 * question first brings the view up to the log, so a change an operator made before an agent
 * asks for its configuration is in that answer.
 */
export class SettingsView {
  readonly #feed: AggregateFeed;
  readonly #tenants = new Map<string, SettingsOverride>();
  readonly #agents = new Map<string, SettingsOverride>();

  constructor(log: EventLog, logger: Logger) {
    this.#feed = new AggregateFeed(log, logger, AGENT_CONFIG, (r) => this.#apply(r));
  }

  start(): Promise<void> {
    return this.#feed.start();
  }

  close(): Promise<void> {
    return this.#feed.close();
  }

  /** The settings one agent runs with now: defaults, its tenant's, its own. */
  async settingsFor(tenant: string, agentId: string): Promise<CollectionSettings> {
    await this.#feed.current();
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

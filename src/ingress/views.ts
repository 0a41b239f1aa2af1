import type { Product } from '../domain/products.ts';
import type { EventLog } from '../log/mod.ts';
import type { Logger } from '../logger.ts';
import { type AgentRecord, AgentHeads } from './agents.ts';
import { IngressFeed } from './feed.ts';
import type { TenantGate } from './identity.ts';
import { AgentCommandOutbox } from './outbox.ts';
import { SettingsView } from './settings-view.ts';
import { TenantView } from './tenants.ts';
import { Waiters } from './waiters.ts';

/**
 * Everything the ingress keeps in memory, fed by its one read of the event log (`IngressFeed`):
 * tenants, unanswered commands, collection settings, the agents of recent requests, and the agents
 * holding a long-poll, which the views wake when a command for them arrives, they are revoked, or
 * their tenant changes.
 */
export class IngressViews implements TenantGate {
  readonly feed: IngressFeed;
  readonly tenants: TenantView;
  readonly outbox: AgentCommandOutbox;
  readonly settings: SettingsView;
  readonly agents: AgentHeads;
  readonly waiters = new Waiters();

  constructor(log: EventLog, logger: Logger, o: { freshnessIntervalMs?: number; maxAgents?: number } = {}) {
    this.feed = new IngressFeed(log, logger, o.freshnessIntervalMs === undefined ? {} : { freshnessIntervalMs: o.freshnessIntervalMs });
    this.tenants = new TenantView(this.feed, (t) => this.waiters.wakeTenant(t));
    this.outbox = new AgentCommandOutbox(this.feed, log, (t, a) => this.waiters.wakeAgent(t, a));
    this.settings = new SettingsView(this.feed);
    this.agents = new AgentHeads(log, this.feed, {
      ...(o.maxAgents !== undefined ? { max: o.maxAgents } : {}),
      onRevoked: (t, a) => this.waiters.wakeAgent(t, a),
    });
  }

  start(): Promise<void> {
    return this.feed.start();
  }

  async close(): Promise<void> {
    this.waiters.close();
    await this.feed.close();
  }

  verifyEnrollSecret(secret: string): Promise<{ tenant: string; suspended: boolean } | null> {
    return this.tenants.verifyEnrollSecret(secret);
  }

  tenantState(tenant: string): Promise<{ suspended: boolean; products: readonly Product[] } | null> {
    return this.tenants.tenantState(tenant);
  }

  async agentAndTenant(
    tenant: string,
    agentId: string,
  ): Promise<{ record: AgentRecord | null; tenant: { suspended: boolean; products: readonly Product[] } | null }> {
    await this.feed.current();
    const record = await this.agents.record(tenant, agentId);
    return { record, tenant: record ? this.tenants.known(record.tenant) : null };
  }

  /** The agent and its tenant as the views hold them now, with no check of the log (a long-poll looking again after a wake). */
  async knownAgentAndTenant(
    tenant: string,
    agentId: string,
  ): Promise<{ record: AgentRecord | null; tenant: { suspended: boolean; products: readonly Product[] } | null }> {
    const record = await this.agents.record(tenant, agentId);
    return { record, tenant: record ? this.tenants.known(record.tenant) : null };
  }
}

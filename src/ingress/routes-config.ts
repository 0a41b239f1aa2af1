import type { FastifyInstance } from 'fastify';
import { agentConfig } from '../domain/agent-config.ts';
import { TELEMETRY_MAX_BODY_BYTES, TELEMETRY_MAX_ITEMS } from '../telemetry/items.ts';
import type { IngressDeps } from './deps.ts';
import { authenticateAgent } from './identity.ts';
import { commandsQuery } from './schemas.ts';

/**
 * `GET /agent/v1/config`: what this agent collects and how often — the collectors of its tenant's
 * products that are on (a product that is off has no section, so the agent does not collect it),
 * the settings of its tenant and its own over the install's defaults, the ingress's limits, and
 * the server's clock for the agent to measure its skew against.
 */
export async function registerConfigRoute(app: FastifyInstance, deps: IngressDeps): Promise<void> {
  app.get<{ Querystring: { agentId?: string } }>('/config', { schema: { querystring: commandsQuery } }, async (req) => {
    const agent = await authenticateAgent(req, deps, req.query.agentId);
    // authenticateAgent brought the views up to the log when they answer for the agent.
    const settings = deps.tenants.agentAndTenant
      ? deps.settings.known(agent.tenant, agent.agentId)
      : await deps.settings.settingsFor(agent.tenant, agent.agentId);
    return agentConfig(
      agent.agentId,
      agent.products,
      settings,
      { maxBatchItems: TELEMETRY_MAX_ITEMS, maxBatchBytes: TELEMETRY_MAX_BODY_BYTES, evidenceMaxBytes: deps.evidenceMaxBytes },
      deps.now?.() ?? new Date(),
    );
  });
}

import type { AgentDoc, AgentHourDoc } from '../../../projections/agents/projection.ts';
import type { AlertHourDoc } from '../../../projections/alerts/projection.ts';
import { hourId, hourStart } from '../../../projections/hours.ts';
import { TENANT_PREFIX, type TenantContext, tenantRoute } from '../route.ts';
import { TENANT_PARAM } from '../schemas.ts';

const HOUR_MS = 3_600_000;
const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
/** How many rules and hosts the charts show. */
const TOP = 8;

/**
 * `GET /tenants/:tenant/stats?days=1..30`: what the overview charts draw, from hourly buckets the
 * projections keep (`alert-hours`, `agent-hours`): alerts received per hour by severity, agents
 * heard from per hour, and the rules and hosts with the most alerts in the period. At most 720
 * buckets per series are read (30 days), whatever the number of alerts.
 */
export const statsRoute = tenantRoute({
  method: 'GET',
  url: `${TENANT_PREFIX}/stats`,
  permission: 'tenant.read',
  area: 'overview',
  summary: 'Charts of the overview: alerts per hour by severity, agents heard from per hour, top rules and hosts of the period',
  params: TENANT_PARAM,
  query: { days: { type: 'string', pattern: '^([1-9]|[12][0-9]|30)$', description: 'The period, in days back from now (1–30, default 7).' } },
  handler: async (c: TenantContext<unknown, { days?: string }>) => {
    const token = c.readToken();
    const days = Number(c.query.days ?? 7);
    const end = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
    const ids: string[] = [];
    for (let t = end - (days * 24 - 1) * HOUR_MS; t <= end; t += HOUR_MS) ids.push(hourId(new Date(t).toISOString()));
    const [alertHours, agentHours] = await Promise.all([c.store.getMany<AlertHourDoc>('alert-hours', ids), c.store.getMany<AgentHourDoc>('agent-hours', ids)]);
    const rules: Record<string, number> = {};
    const hosts: Record<string, number> = {};
    for (const h of alertHours) {
      if (!h) continue;
      for (const [k, n] of Object.entries(h.rules)) rules[k] = (rules[k] ?? 0) + n;
      for (const [k, n] of Object.entries(h.agents)) hosts[k] = (hosts[k] ?? 0) + n;
    }
    const top = (t: Record<string, number>) =>
      Object.entries(t)
        .filter(([k]) => k !== 'other')
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, TOP);
    const topHosts = top(hosts);
    const agents = await c.store.getMany<AgentDoc>(
      'agents',
      topHosts.map(([id]) => id),
    );
    return {
      hours: ids.map(hourStart),
      alertsByHour: Object.fromEntries(SEVERITIES.map((s) => [s, alertHours.map((h) => h?.[s] ?? 0)])),
      agentsByHour: agentHours.map((h) => h?.seen ?? 0),
      topRules: top(rules).map(([rule, count]) => ({ rule, count })),
      topHosts: topHosts.map(([agentId, count], i) => ({ agentId, hostname: agents[i]?.hostname ?? null, count })),
      consistencyToken: token,
    };
  },
});

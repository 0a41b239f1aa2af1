import { COMMAND_OUTCOMES } from '../../../commands/agent-commands/events.ts';
import { agentDecider } from '../../../commands/agents/decider.ts';
import { alertDecider } from '../../../commands/alerts/decider.ts';
import { SEVERITIES, type Severity } from '../../../commands/alerts/events.ts';
import { incidentDecider } from '../../../commands/incidents/decider.ts';
import { INCIDENT_STATUSES, type IncidentStatus } from '../../../commands/incidents/events.ts';
import type { AgentDoc } from '../../../projections/agents/projection.ts';
import type { AlertDoc } from '../../../projections/alerts/projection.ts';
import type { IncidentDoc } from '../../../projections/incidents/projection.ts';
import { ACTIONS, PRODUCTS } from '../../domain/products.ts';
import { StkError } from '../../errors.ts';
import { newId } from '../../ids.ts';
import type { GatedAction } from '../../../commands/settings/events.ts';
import { TENANT_PREFIX, type TenantContext, type TenantRouteDef, tenantRoute } from '../route.ts';
import { GATED_COMMANDS, issueDispatch, requestIfGated } from './approvals.ts';
import { getRoute, ID, itemCommand, listRoute, mustGet, oneOf, TENANT_PARAM, text } from '../schemas.ts';

/** An agent not heard from for this long shows as offline. */
export const AGENT_ONLINE_WINDOW_MS = 5 * 60_000;

/** An agent as operators see it; online/offline is decided here, at read time, not in the projection. */
export function agentView(a: AgentDoc, now = Date.now()) {
  const { certFingerprint: _f, ...rest } = a;
  const connectivity = a.status === 'revoked' ? 'revoked' : now - Date.parse(a.lastSeenAt) <= AGENT_ONLINE_WINDOW_MS ? 'online' : 'offline';
  return { ...rest, connectivity };
}

const ALERT_IDS = { type: 'array', items: ID, minItems: 1, maxItems: 100, uniqueItems: true };

async function checkAlerts(c: TenantContext, ids: string[]): Promise<void> {
  // Every alert must be this tenant's: another tenant's id is "not found", like a missing one.
  for (const id of ids) await mustGet(c, 'alerts', id);
}

async function countBy(c: TenantContext, collection: string, field: string, values: readonly string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = await c.store.count(collection, { field, value: v });
  return out;
}

/** An incident with its alerts. */
async function incidentView(d: IncidentDoc, c: TenantContext) {
  const alerts = (await Promise.all(d.alertIds.map((id) => c.store.get<AlertDoc>('alerts', id)))).filter((a) => a !== null);
  return { ...d, alerts };
}

export const coreRoutes: TenantRouteDef[] = [
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/overview`,
    permission: 'tenant.read',
    area: 'overview',
    params: TENANT_PARAM,
    summary: "Counts for the tenant's overview: agents (online/offline/revoked), alerts, incidents, findings by state",
    handler: async (c) => {
      const token = c.readToken();
      const now = Date.now();
      let online = 0;
      let offline = 0;
      // Online is decided at read time; walk the active agents a page at a time.
      let cursor: string | null = null;
      do {
        const page: { items: AgentDoc[]; nextCursor: string | null } = await c.store.list<AgentDoc>('agents', {
          filter: { status: 'active' },
          limit: 200,
          ...(cursor ? { cursor } : {}),
        });
        for (const a of page.items) agentView(a, now).connectivity === 'online' ? online++ : offline++;
        cursor = page.nextCursor;
      } while (cursor);
      const findingsOn = (['patch', 'attack-surface', 'identity'] as const).some((p) => c.tenantDoc.products.includes(p));
      return {
        tenant: c.tenant,
        products: c.tenantDoc.products,
        agents: { online, offline, revoked: await c.store.count('agents', { field: 'status', value: 'revoked' }) },
        alerts: await countBy(c, 'alerts', 'status', ['open', 'acknowledged', 'resolved']),
        incidents: await countBy(c, 'incidents', 'status', [...INCIDENT_STATUSES, 'closed']),
        ...(findingsOn ? { findings: await countBy(c, 'findings', 'state', ['open', 'accepted-risk', 'remediated', 'false-positive']) } : {}),
        consistencyToken: token,
      };
    },
  }),
  listRoute('agents', 'agents', { status: oneOf(['active', 'revoked']), hostname: text(253) }, (d) => agentView(d)),
  getRoute('agents', 'agents', 'agentId', (d) => agentView(d)),
  itemCommand({
    method: 'POST',
    area: 'agents',
    collection: 'agents',
    param: 'agentId',
    action: 'revoke',
    summary: 'Revoke an agent: refused at once even with an unexpired certificate; it stays visible',
    permission: 'agents.revoke',
    body: { properties: { reason: text(500) } },
    decider: agentDecider,
    command: (b: { reason?: string }) => ({ kind: 'revoke' as const, reason: b.reason ?? '' }),
    view: (d) => agentView(d),
  }),
  tenantRoute({
    method: 'POST',
    url: `${TENANT_PREFIX}/agents/:agentId/commands`,
    permission: 'commands.dispatch',
    area: 'commands',
    status: 201,
    summary:
      "Dispatch a command to an agent of this tenant; the agent pulls it over mTLS. A destructive action the customer's policy gates answers 202 with a four-eyes request instead",
    params: { ...TENANT_PARAM, agentId: ID },
    body: {
      properties: { action: oneOf(Object.keys(ACTIONS)), args: { type: 'object', maxProperties: 32 } },
      required: ['action'],
      maxBytes: 16 * 1024,
    },
    handler: async (c: TenantContext<{ action: string; args?: Record<string, unknown> }, unknown, { agentId: string }>) => {
      const { agentId } = c.params;
      const { action, args } = c.body;
      const request = { kind: 'dispatch' as const, agentId, action, args: args ?? {} };
      if (GATED_COMMANDS.has(action)) {
        await mustGet<AgentDoc>(c, 'agents', agentId);
        const pending = await requestIfGated(c, action as GatedAction, request);
        if (pending) return pending;
      }
      const id = newId();
      const r = await issueDispatch(c, request, id);
      return { id, agentId, action, status: 'pending', consistencyToken: await c.settle(r.position) };
    },
  }),
  listRoute('commands', 'commands', { agentId: ID, status: oneOf(['pending', 'delivered', 'completed']), outcome: oneOf(COMMAND_OUTCOMES) }),
  getRoute('commands', 'commands', 'commandId'),

  listRoute('alerts', 'alerts', {
    status: oneOf(['open', 'acknowledged', 'resolved']),
    severity: oneOf(SEVERITIES),
    agentId: ID,
    incidentId: ID,
    product: oneOf(['core', ...PRODUCTS]),
  }),
  getRoute('alerts', 'alerts', 'alertId'),
  itemCommand({
    method: 'POST',
    area: 'alerts',
    collection: 'alerts',
    param: 'alertId',
    action: 'ack',
    summary: 'Acknowledge an alert',
    permission: 'alerts.triage',
    decider: alertDecider,
    command: () => ({ kind: 'acknowledge' as const }),
  }),
  itemCommand({
    method: 'POST',
    area: 'alerts',
    collection: 'alerts',
    param: 'alertId',
    action: 'resolve',
    summary: 'Resolve an alert with a reason',
    permission: 'alerts.triage',
    body: { properties: { reason: text(1000) }, required: ['reason'] },
    decider: alertDecider,
    command: (b: { reason: string }) => ({ kind: 'resolve' as const, reason: b.reason }),
  }),

  listRoute('incidents', 'incidents', { status: oneOf([...INCIDENT_STATUSES, 'closed']), severity: oneOf(SEVERITIES), assignee: text(200) }),
  getRoute('incidents', 'incidents', 'incidentId', incidentView),
  tenantRoute({
    method: 'POST',
    url: `${TENANT_PREFIX}/incidents`,
    permission: 'incidents.manage',
    area: 'incidents',
    status: 201,
    summary: 'Open an incident, by hand or from alerts',
    params: TENANT_PARAM,
    body: { properties: { title: text(300), severity: oneOf(SEVERITIES), alertIds: { ...ALERT_IDS, minItems: 0 } }, required: ['title', 'severity'] },
    handler: async (c: TenantContext<{ title: string; severity: Severity; alertIds?: string[] }>) => {
      const { title, severity, alertIds } = c.body;
      await checkAlerts(c, alertIds ?? []);
      const id = newId();
      const r = await c.execute(incidentDecider, id, { kind: 'open', incident: { title, severity, alertIds: alertIds ?? [] } }, { known: 'new' });
      const consistencyToken = await c.settle(r.position);
      const doc = await c.store.get<IncidentDoc>('incidents', id);
      return { ...(doc ?? {}), id, consistencyToken };
    },
  }),
  itemCommand({
    method: 'PATCH',
    area: 'incidents',
    collection: 'incidents',
    param: 'incidentId',
    summary: "Change an incident's status or assignee",
    permission: 'incidents.manage',
    body: { properties: { status: oneOf(INCIDENT_STATUSES), assignee: text(200) } },
    decider: incidentDecider,
    command: (b: { status?: IncidentStatus; assignee?: string }) => {
      if (b.status === undefined && b.assignee === undefined) throw new StkError('STK_ERR_VALIDATION', 'give status or assignee', { field: 'status' });
      return { kind: 'update' as const, ...b };
    },
  }),
  tenantRoute({
    method: 'POST',
    url: `${TENANT_PREFIX}/incidents/:incidentId/alerts`,
    permission: 'incidents.manage',
    area: 'incidents',
    summary: 'Link more alerts to an incident',
    params: { ...TENANT_PARAM, incidentId: ID },
    body: { properties: { alertIds: ALERT_IDS }, required: ['alertIds'] },
    handler: async (c: TenantContext<{ alertIds: string[] }, unknown, { incidentId: string }>) => {
      const id = c.params.incidentId;
      await mustGet(c, 'incidents', id);
      await checkAlerts(c, c.body.alertIds);
      const r = await c.execute(incidentDecider, id, { kind: 'link-alerts', alertIds: c.body.alertIds });
      const consistencyToken = await c.settle(r.position);
      return { ...((await c.store.get('incidents', id)) ?? { id }), consistencyToken };
    },
  }),
  itemCommand({
    method: 'POST',
    area: 'incidents',
    collection: 'incidents',
    param: 'incidentId',
    action: 'close',
    summary: 'Close an incident with a reason',
    permission: 'incidents.manage',
    body: { properties: { reason: text(1000) }, required: ['reason'] },
    decider: incidentDecider,
    command: (b: { reason: string }) => ({ kind: 'close' as const, reason: b.reason }),
  }),

  listRoute('audit', 'audit', {
    actorKind: oneOf(['operator', 'agent', 'system']),
    actorId: text(100),
    aggregateType: text(32),
    action: text(64),
    via: text(300),
  }),
  getRoute('audit', 'audit', 'entryId'),
];

import { agentDecider } from '../../../commands/agents/decider.ts';
import { agentCommandDecider } from '../../../commands/agent-commands/decider.ts';
import { COMMAND_OUTCOMES } from '../../../commands/agent-commands/events.ts';
import { alertDecider } from '../../../commands/alerts/decider.ts';
import { SEVERITIES, type Severity } from '../../../commands/alerts/events.ts';
import { incidentDecider } from '../../../commands/incidents/decider.ts';
import { INCIDENT_STATUSES, type IncidentStatus } from '../../../commands/incidents/events.ts';
import type { AgentDoc } from '../../../projections/agents/projection.ts';
import type { AlertDoc } from '../../../projections/alerts/projection.ts';
import type { IncidentDoc } from '../../../projections/incidents/projection.ts';
import { execute } from '../../domain/decider.ts';
import { ACTIONS, PRODUCTS } from '../../domain/products.ts';
import { StkError } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { settled, TENANT_PREFIX, type RouteContext, type RouteDef } from '../route.ts';
import { ID, TENANT_PARAM, getRoute, listRoute, mustGet, oneOf, text } from '../schemas.ts';

/** An agent not heard from for this long shows as offline. */
export const AGENT_ONLINE_WINDOW_MS = 5 * 60_000;

/** An agent as operators see it; online/offline is decided here, at read time, not in the projection. */
export function agentView(a: AgentDoc, now = Date.now()) {
  const { certFingerprint: _f, ...rest } = a;
  const connectivity = a.status === 'revoked' ? 'revoked' : now - Date.parse(a.lastSeenAt) <= AGENT_ONLINE_WINDOW_MS ? 'online' : 'offline';
  return { ...rest, connectivity };
}

const ALERT_IDS = { type: 'array', items: ID, minItems: 1, maxItems: 100, uniqueItems: true };

async function checkAlerts(c: RouteContext, ids: string[]): Promise<void> {
  // Every alert must be this tenant's: another tenant's id is "not found", like a missing one.
  for (const id of ids) await mustGet(c, 'alerts', id);
}

async function countBy(c: RouteContext, collection: string, field: string, values: readonly string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = await c.rm.store.count(c.tenant, collection, { field, value: v });
  return out;
}

export const coreRoutes: RouteDef[] = [
  {
    method: 'GET',
    url: `${TENANT_PREFIX}/overview`,
    access: 'read',
    area: 'overview',
    params: TENANT_PARAM,
    summary: "Counts for the tenant's overview: agents (online/offline/revoked), alerts, incidents, findings by state",
    handler: async (c) => {
      const now = Date.now();
      let online = 0;
      let offline = 0;
      // Online is decided at read time; walk the active agents a page at a time.
      let cursor: string | null = null;
      do {
        const page: { items: AgentDoc[]; nextCursor: string | null } = await c.rm.store.list<AgentDoc>(c.tenant, 'agents', {
          filter: { status: 'active' },
          limit: 200,
          ...(cursor ? { cursor } : {}),
        });
        for (const a of page.items) agentView(a, now).connectivity === 'online' ? online++ : offline++;
        cursor = page.nextCursor;
      } while (cursor);
      const findingsOn = ['patch', 'attack-surface', 'identity'].some((p) => c.tenantDoc.products.includes(p as never));
      return {
        tenant: c.tenant,
        products: c.tenantDoc.products,
        agents: { online, offline, revoked: await c.rm.store.count(c.tenant, 'agents', { field: 'status', value: 'revoked' }) },
        alerts: await countBy(c, 'alerts', 'status', ['open', 'acknowledged', 'resolved']),
        incidents: await countBy(c, 'incidents', 'status', [...INCIDENT_STATUSES, 'closed']),
        ...(findingsOn ? { findings: await countBy(c, 'findings', 'state', ['open', 'accepted-risk', 'remediated', 'false-positive']) } : {}),
        position: c.rm.projector.position,
      };
    },
  },
  listRoute('agents', 'agents', { status: oneOf(['active', 'revoked']), hostname: text(253) }, (d) => agentView(d)),
  getRoute('agents', 'agents', 'agentId', (d) => agentView(d)),
  {
    method: 'POST',
    url: `${TENANT_PREFIX}/agents/:agentId/revoke`,
    access: 'write',
    area: 'agents',
    summary: 'Revoke an agent: refused at once even with an unexpired certificate; it stays visible',
    params: { ...TENANT_PARAM, agentId: ID },
    body: { properties: { reason: text(500) } },
    handler: async (c) => {
      const id = (c.params as { agentId: string }).agentId;
      await mustGet(c, 'agents', id);
      const r = await execute(
        c.rt.log,
        c.tenant,
        id,
        agentDecider,
        { kind: 'revoke', reason: (c.body as { reason?: string }).reason ?? '' },
        { actor: c.actor },
      );
      return { id, status: 'revoked', position: await settled(c, r.position) };
    },
  },
  {
    method: 'POST',
    url: `${TENANT_PREFIX}/agents/:agentId/commands`,
    access: 'write',
    area: 'commands',
    status: 201,
    summary: 'Dispatch a command to an agent of this tenant; the agent pulls it over mTLS',
    params: { ...TENANT_PARAM, agentId: ID },
    body: { properties: { action: oneOf(Object.keys(ACTIONS)), args: { type: 'object', maxProperties: 32 } }, required: ['action'], maxBytes: 16 * 1024 },
    handler: async (c) => {
      const agentId = (c.params as { agentId: string }).agentId;
      const { action, args } = c.body as { action: string; args?: Record<string, unknown> };
      const agent = await mustGet<AgentDoc>(c, 'agents', agentId);
      const product = ACTIONS[action] ?? null;
      if (product && !c.tenantDoc.products.includes(product))
        throw new StkError('STK_ERR_PRODUCT_DISABLED', `${action} needs the product ${product}, which is off for this tenant`, { product });
      if (c.tenantDoc.suspended) throw new StkError('STK_ERR_TENANT_SUSPENDED', 'the tenant is suspended');
      if (agent.status === 'revoked') throw new StkError('STK_ERR_AGENT_REVOKED', 'the agent is revoked');
      const id = newId();
      const r = await execute(
        c.rt.log,
        c.tenant,
        id,
        agentCommandDecider,
        { kind: 'dispatch', command: { agentId, action, args: args ?? {} } },
        { actor: c.actor, fresh: true },
      );
      return { id, agentId, action, status: 'pending', position: await settled(c, r.position) };
    },
  },
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
  {
    method: 'POST',
    url: `${TENANT_PREFIX}/alerts/:alertId/ack`,
    access: 'write',
    area: 'alerts',
    summary: 'Acknowledge an alert',
    params: { ...TENANT_PARAM, alertId: ID },
    handler: async (c) => {
      const id = (c.params as { alertId: string }).alertId;
      await mustGet(c, 'alerts', id);
      const r = await execute(c.rt.log, c.tenant, id, alertDecider, { kind: 'acknowledge' }, { actor: c.actor });
      return { ...(await settledDoc<AlertDoc>(c, 'alerts', id, r.position)), position: r.position };
    },
  },
  {
    method: 'POST',
    url: `${TENANT_PREFIX}/alerts/:alertId/resolve`,
    access: 'write',
    area: 'alerts',
    summary: 'Resolve an alert with a reason',
    params: { ...TENANT_PARAM, alertId: ID },
    body: { properties: { reason: text(1000) }, required: ['reason'] },
    handler: async (c) => {
      const id = (c.params as { alertId: string }).alertId;
      await mustGet(c, 'alerts', id);
      const r = await execute(c.rt.log, c.tenant, id, alertDecider, { kind: 'resolve', reason: (c.body as { reason: string }).reason }, { actor: c.actor });
      return { ...(await settledDoc<AlertDoc>(c, 'alerts', id, r.position)), position: r.position };
    },
  },

  listRoute('incidents', 'incidents', { status: oneOf([...INCIDENT_STATUSES, 'closed']), severity: oneOf(SEVERITIES), assignee: text(200) }),
  getRoute('incidents', 'incidents', 'incidentId', async (d: IncidentDoc, c) => {
    const alerts = (await Promise.all(d.alertIds.map((id) => c.rm.store.get<AlertDoc>(c.tenant, 'alerts', id)))).filter((a) => a !== null);
    return { ...d, alerts };
  }),
  {
    method: 'POST',
    url: `${TENANT_PREFIX}/incidents`,
    access: 'write',
    area: 'incidents',
    status: 201,
    summary: 'Open an incident, by hand or from alerts',
    params: TENANT_PARAM,
    body: { properties: { title: text(300), severity: oneOf(SEVERITIES), alertIds: { ...ALERT_IDS, minItems: 0 } }, required: ['title', 'severity'] },
    handler: async (c) => {
      const { title, severity, alertIds } = c.body as { title: string; severity: Severity; alertIds?: string[] };
      await checkAlerts(c, alertIds ?? []);
      const id = newId();
      const r = await execute(
        c.rt.log,
        c.tenant,
        id,
        incidentDecider,
        { kind: 'open', incident: { title, severity, alertIds: alertIds ?? [] } },
        { actor: c.actor, fresh: true },
      );
      return { ...(await settledDoc<IncidentDoc>(c, 'incidents', id, r.position)), id, position: r.position };
    },
  },
  {
    method: 'PATCH',
    url: `${TENANT_PREFIX}/incidents/:incidentId`,
    access: 'write',
    area: 'incidents',
    summary: "Change an incident's status or assignee",
    params: { ...TENANT_PARAM, incidentId: ID },
    body: { properties: { status: oneOf(INCIDENT_STATUSES), assignee: text(200) } },
    handler: async (c) => {
      const id = (c.params as { incidentId: string }).incidentId;
      const b = c.body as { status?: IncidentStatus; assignee?: string };
      if (b.status === undefined && b.assignee === undefined) throw new StkError('STK_ERR_VALIDATION', 'give status or assignee', { field: 'status' });
      await mustGet(c, 'incidents', id);
      const r = await execute(c.rt.log, c.tenant, id, incidentDecider, { kind: 'update', ...b }, { actor: c.actor });
      return { ...(await settledDoc<IncidentDoc>(c, 'incidents', id, r.position)), position: r.position };
    },
  },
  {
    method: 'POST',
    url: `${TENANT_PREFIX}/incidents/:incidentId/alerts`,
    access: 'write',
    area: 'incidents',
    summary: 'Link more alerts to an incident',
    params: { ...TENANT_PARAM, incidentId: ID },
    body: { properties: { alertIds: ALERT_IDS }, required: ['alertIds'] },
    handler: async (c) => {
      const id = (c.params as { incidentId: string }).incidentId;
      const { alertIds } = c.body as { alertIds: string[] };
      await mustGet(c, 'incidents', id);
      await checkAlerts(c, alertIds);
      const r = await execute(c.rt.log, c.tenant, id, incidentDecider, { kind: 'link-alerts', alertIds }, { actor: c.actor });
      return { ...(await settledDoc<IncidentDoc>(c, 'incidents', id, r.position)), position: r.position };
    },
  },
  {
    method: 'POST',
    url: `${TENANT_PREFIX}/incidents/:incidentId/close`,
    access: 'write',
    area: 'incidents',
    summary: 'Close an incident with a reason',
    params: { ...TENANT_PARAM, incidentId: ID },
    body: { properties: { reason: text(1000) }, required: ['reason'] },
    handler: async (c) => {
      const id = (c.params as { incidentId: string }).incidentId;
      await mustGet(c, 'incidents', id);
      const r = await execute(c.rt.log, c.tenant, id, incidentDecider, { kind: 'close', reason: (c.body as { reason: string }).reason }, { actor: c.actor });
      return { ...(await settledDoc<IncidentDoc>(c, 'incidents', id, r.position)), position: r.position };
    },
  },

  listRoute('audit', 'audit', { actorKind: oneOf(['operator', 'agent', 'system']), actorId: text(100), aggregateType: text(32), action: text(64) }),
  getRoute('audit', 'audit', 'entryId'),
];

/** Waits for the command's change to be readable, then reads the document back. */
export async function settledDoc<T extends { id: string }>(c: RouteContext, collection: string, id: string, position: number): Promise<T | { id: string }> {
  await settled(c, position);
  return (await c.rm.store.get<T & { seq: number }>(c.tenant, collection, id)) ?? { id };
}

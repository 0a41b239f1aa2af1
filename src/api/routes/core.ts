import { agentCommandDecider } from '../../../commands/agent-commands/decider.ts';
import { COMMAND_OUTCOMES, type CommandDispatched } from '../../../commands/agent-commands/events.ts';
import { machineDecider } from '../../../commands/machines/decider.ts';
import { agentDecider } from '../../../commands/agents/decider.ts';
import { alertDecider } from '../../../commands/alerts/decider.ts';
import { SEVERITIES, type Severity } from '../../../commands/alerts/events.ts';
import { incidentDecider } from '../../../commands/incidents/decider.ts';
import { INCIDENT_STATUSES, type IncidentStatus } from '../../../commands/incidents/events.ts';
import type { AgentDoc } from '../../../projections/agents/projection.ts';
import type { AlertDoc } from '../../../projections/alerts/projection.ts';
import type { IncidentDoc } from '../../../projections/incidents/projection.ts';
import { COMMAND_EXPIRY_DEFAULTS } from '../../config/settings.ts';
import { ACTIONS, PRODUCTS } from '../../domain/products.ts';
import { expiryPolicy } from '../../lifecycle/commands.ts';
import { StkError } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { TENANT_PREFIX, type TenantContext, type TenantRouteDef, tenantRoute } from '../route.ts';
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
    access: 'read',
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
  tenantRoute({
    method: 'POST',
    url: `${TENANT_PREFIX}/agents/:agentId/revoke`,
    access: 'write',
    area: 'agents',
    params: { ...TENANT_PARAM, agentId: ID },
    summary:
      'Revoke an agent: refused at once even with an unexpired certificate; it stays visible. `blockMachine` (admin) also keeps its machine from enrolling again until the block is lifted',
    body: { properties: { reason: text(500), blockMachine: { type: 'boolean' } } },
    handler: async (c: TenantContext<{ reason?: string; blockMachine?: boolean }, unknown, { agentId: string }>) => {
      const id = c.params.agentId;
      const agent = await mustGet<AgentDoc>(c, 'agents', id);
      if (c.body.blockMachine) {
        // Checked before anything is written: a block is the admin's, and needs the fingerprint the agent sent.
        if (c.principal.kind !== 'admin') throw new StkError('STK_ERR_FORBIDDEN', 'blocking a machine needs the admin key');
        if (!agent.machine)
          throw new StkError('STK_ERR_VALIDATION', 'this agent sent no machine fingerprint when it enrolled; rotate the secret instead', {
            field: 'blockMachine',
          });
      }
      let r = await c.execute(agentDecider, id, { kind: 'revoke', reason: c.body.reason ?? '' });
      if (c.body.blockMachine && agent.machine) r = await c.execute(machineDecider, agent.machine, { kind: 'block', agentId: id });
      const consistencyToken = await c.settle(r.position);
      const doc = (await c.store.get<AgentDoc>('agents', id)) ?? agent;
      return { ...agentView(doc), ...(c.body.blockMachine ? { machineBlocked: true } : {}), consistencyToken };
    },
  }),
  tenantRoute({
    method: 'POST',
    url: `${TENANT_PREFIX}/agents/:agentId/commands`,
    access: 'write',
    area: 'commands',
    status: 201,
    summary: 'Dispatch a command to an agent of this tenant; the agent pulls it over mTLS',
    params: { ...TENANT_PARAM, agentId: ID },
    body: {
      properties: {
        action: oneOf(Object.keys(ACTIONS)),
        args: { type: 'object', maxProperties: 32 },
        expiresInSeconds: {
          type: 'integer',
          minimum: 1,
          maximum: 90 * 86_400,
          description: "How long the command may wait for its agent; the action's default when absent",
        },
      },
      required: ['action'],
      maxBytes: 16 * 1024,
    },
    handler: async (c: TenantContext<{ action: string; args?: Record<string, unknown>; expiresInSeconds?: number }, unknown, { agentId: string }>) => {
      const { agentId } = c.params;
      const { action, args, expiresInSeconds } = c.body;
      const agent = await mustGet<AgentDoc>(c, 'agents', agentId);
      const id = newId();
      const context = { products: c.tenantDoc.products, suspended: c.tenantDoc.suspended, agentStatus: agent.status };
      const expiry = {
        now: new Date().toISOString(),
        policy: expiryPolicy(c.req.server.api.lifecycle?.commandExpiry ?? COMMAND_EXPIRY_DEFAULTS, action),
        ...(expiresInSeconds !== undefined ? { ttlSeconds: expiresInSeconds } : {}),
      };
      const r = await c.execute(
        agentCommandDecider,
        id,
        { kind: 'dispatch' as const, command: { agentId, action, args: args ?? {} }, context, expiry },
        { known: 'new' },
      );
      const expiresAt = (r.events[0]?.data as CommandDispatched | undefined)?.expiresAt;
      return { id, agentId, action, status: 'pending', ...(expiresAt ? { expiresAt } : {}), consistencyToken: await c.settle(r.position) };
    },
  }),
  listRoute('commands', 'commands', {
    agentId: ID,
    status: oneOf(['pending', 'delivered', 'completed', 'cancelled', 'expired']),
    outcome: oneOf(COMMAND_OUTCOMES),
  }),
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
    body: { properties: { reason: text(1000) }, required: ['reason'] },
    decider: alertDecider,
    command: (b: { reason: string }) => ({ kind: 'resolve' as const, reason: b.reason }),
  }),

  listRoute('incidents', 'incidents', { status: oneOf([...INCIDENT_STATUSES, 'closed']), severity: oneOf(SEVERITIES), assignee: text(200) }),
  getRoute('incidents', 'incidents', 'incidentId', incidentView),
  tenantRoute({
    method: 'POST',
    url: `${TENANT_PREFIX}/incidents`,
    access: 'write',
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
    access: 'write',
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
    body: { properties: { reason: text(1000) }, required: ['reason'] },
    decider: incidentDecider,
    command: (b: { reason: string }) => ({ kind: 'close' as const, reason: b.reason }),
  }),

  listRoute('audit', 'audit', { actorKind: oneOf(['operator', 'agent', 'system']), actorId: text(100), aggregateType: text(32), action: text(64) }),
  getRoute('audit', 'audit', 'entryId'),
];

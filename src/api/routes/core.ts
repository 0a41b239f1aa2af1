import { COMMAND_OUTCOMES, type CommandDispatched } from '../../../commands/agent-commands/events.ts';
import { machineDecider } from '../../../commands/machines/decider.ts';
import { COMMAND_EXPIRY_DEFAULTS } from '../../config/settings.ts';
import { expiryPolicy } from '../../lifecycle/commands.ts';
import { permissionsOn } from '../access.ts';
import { agentDecider } from '../../../commands/agents/decider.ts';
import { alertDecider } from '../../../commands/alerts/decider.ts';
import { SEVERITIES, type Severity } from '../../../commands/alerts/events.ts';
import { type AlertCountsDoc, countsDocId } from '../../../projections/overview/projection.ts';
import { incidentDecider } from '../../../commands/incidents/decider.ts';
import { INCIDENT_STATUSES, type IncidentStatus } from '../../../commands/incidents/events.ts';
import type { AgentDoc } from '../../../projections/agents/projection.ts';
import type { AlertDoc } from '../../../projections/alerts/projection.ts';
import type { IncidentDoc } from '../../../projections/incidents/projection.ts';
import { Ajv, type ValidateFunction } from 'ajv';
import { agentCommandDecider } from '../../../commands/agent-commands/decider.ts';
import type { AuditDoc } from '../../../projections/audit/projection.ts';
import { ACTION_ARGS } from '../../domain/actions.ts';
import { ACTIONS, PRODUCTS } from '../../domain/products.ts';
import type { Doc } from '../../store/model.ts';
import { ACTOR_NAMES_DOC, decorations, viewOf, withActorNames } from '../actors.ts';
import { statsRoute } from './stats.ts';
import { StkError } from '../../errors.ts';
import { newId } from '../../ids.ts';
import type { GatedAction } from '../../../commands/settings/events.ts';
import { TENANT_PREFIX, type TenantContext, type TenantRouteDef, tenantRoute } from '../route.ts';
import { exportRoute, getRoute, ID, itemCommand, type ListOptions, listRoute, mustGet, oneOf, TENANT_PARAM, text, withHostnames } from '../schemas.ts';
import { GATED_COMMANDS, issueDispatch, requestIfGated } from './approvals.ts';
import { bulkCount, idsOrFilter, selectByFilter } from '../bulk.ts';
import { filterSchema } from '../lists.ts';
import { agentPresence, agentView } from '../presence.ts';
import { keptSinceFirst } from '../counts.ts';
import { type FindingCountsDoc, findingCountsId } from '../../../projections/findings/projection.ts';
import { FINDING_STATES, type FindingState } from '../../../commands/findings/events.ts';

const ALERT_IDS = { type: 'array', items: ID, minItems: 1, maxItems: 100, uniqueItems: true };

async function checkAlerts(c: TenantContext, ids: string[]): Promise<void> {
  // Every alert must be this tenant's: another tenant's id is "not found", like a missing one.
  for (const id of ids) await mustGet(c, 'alerts', id);
}

/**
 * The tenant's alerts by status, and its open (unacknowledged) ones by severity: one document the
 * overview model keeps (`alert-counts`), whatever the number of alerts. Counted from the alerts
 * instead while that document predates these counters (an install upgraded without rebuilding the
 * overview model), so the numbers are never wrong, only slower.
 */
async function alertCounts(
  c: TenantContext,
): Promise<{ alerts: Record<'open' | 'acknowledged' | 'resolved', number>; openAlertsBySeverity: Record<Severity, number> }> {
  const doc = await c.store.get<AlertCountsDoc>('alert-counts', countsDocId(c.tenant));
  if (!doc)
    return {
      alerts: { open: 0, acknowledged: 0, resolved: 0 },
      openAlertsBySeverity: Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>,
    };
  if (doc.unacknowledgedBy && doc.resolved !== undefined) {
    const sum = (r: Record<Severity, number>) => SEVERITIES.reduce((n, s) => n + (r[s] ?? 0), 0);
    const open = sum(doc.unacknowledgedBy);
    return {
      alerts: { open, acknowledged: Math.max(0, sum(doc.open) - open), resolved: doc.resolved },
      openAlertsBySeverity: Object.fromEntries(SEVERITIES.map((s) => [s, doc.unacknowledgedBy![s] ?? 0])) as Record<Severity, number>,
    };
  }
  return {
    alerts: (await countBy(c, 'alerts', 'status', ['open', 'acknowledged', 'resolved'])) as Record<'open' | 'acknowledged' | 'resolved', number>,
    openAlertsBySeverity: Object.fromEntries(
      await Promise.all(
        SEVERITIES.map(async (s) => [s, (await c.store.query('alerts', { filter: { status: 'open', severity: s }, limit: 1 })).total] as const),
      ),
    ) as Record<Severity, number>,
  };
}

/**
 * The tenant's findings by state: the one document the findings model keeps (`finding-counts`),
 * or counted from the findings while that model was built before the counts existed.
 */
async function findingCounts(c: TenantContext): Promise<Record<FindingState, number>> {
  const doc = await c.store.get<FindingCountsDoc>('finding-counts', findingCountsId(c.tenant));
  if (doc && (await keptSinceFirst(c.store, 'findings', doc.firstFinding))) return doc.byState;
  return (await countBy(c, 'findings', 'state', FINDING_STATES)) as Record<FindingState, number>;
}

async function countBy(c: TenantContext, collection: string, field: string, values: readonly string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = await c.store.count(collection, { field, value: v });
  return out;
}

const incidentNames = withActorNames({ fields: ['openedBy'], lists: { timeline: ['by'], comments: ['by'] } });
/**
 * An alert's matching messages without their sequences: TELEMETRY and EVENTS sequences are positions
 * in install-wide streams, and the gaps between a tenant's own would show how much every other
 * tenant sends (docs/threat-model.md, "Tenant first"). A telemetry item keeps its name (`item`), by
 * which its proof is asked for.
 */
async function withoutPositions(items: Doc[]): Promise<Doc[]> {
  return items.map((d) => {
    const refs = (d as { refs?: Array<{ stream: string; item?: string }> }).refs;
    return refs ? { ...d, refs: refs.map((r) => ({ stream: r.stream, ...(r.item ? { item: r.item } : {}) })) } : d;
  });
}

const alertNames = decorations(withHostnames, withActorNames({ fields: ['acknowledgedBy', 'resolvedBy'] }), withoutPositions);
const commandNames = decorations(withHostnames, withActorNames({ fields: ['dispatchedBy', 'cancelledBy'] }));
const agentNames = withActorNames({ fields: ['revokedBy'] });
const alertView = viewOf(alertNames);
const commandView = viewOf(commandNames);

/** An incident with its alerts (and their hosts), and who acted named. */
async function incidentView(d: IncidentDoc, c: TenantContext) {
  const alerts = (await c.store.getMany<AlertDoc>('alerts', d.alertIds)).filter((a) => a !== null);
  const named = await viewOf(incidentNames)({ ...d, comments: d.comments ?? [] }, c);
  return { ...named, alerts: await alertNames(alerts, c) };
}

/** Audit entries name agents by host name where the actor or the target is one. */
async function auditNames(items: Doc[], c: TenantContext): Promise<Doc[]> {
  const agentIds = new Set<string>();
  const userIds = new Set<string>();
  for (const d of items as AuditDoc[]) {
    if (d.actorKind === 'agent') agentIds.add(d.actorId);
    if (d.aggregateType === 'agent') agentIds.add(d.targetId);
    // People are named too: `user:<id>` acting, and the person a role change is about.
    if (d.actorId.startsWith('user:')) userIds.add(d.actorId.slice(5));
    if (d.aggregateType === 'access') userIds.add(d.targetId);
  }
  const ids = [...agentIds];
  const agents = await c.store.getMany<AgentDoc>('agents', ids);
  const names = new Map(ids.map((id, i) => [id, agents[i]?.hostname ?? null]));
  const people = new Map<string, string | null>();
  await Promise.all([...userIds].map(async (id) => people.set(id, (await c.directory.user(id))?.name ?? null)));
  return (items as AuditDoc[]).map((d) => ({
    ...d,
    actorName: d.actorKind === 'agent' ? (names.get(d.actorId) ?? null) : d.actorId.startsWith('user:') ? (people.get(d.actorId.slice(5)) ?? null) : null,
    targetName: d.aggregateType === 'agent' ? (names.get(d.targetId) ?? null) : d.aggregateType === 'access' ? (people.get(d.targetId) ?? null) : null,
  }));
}

const ajv = new Ajv({ allErrors: false, strict: false });
const argsCheck = new Map<string, ValidateFunction>(Object.entries(ACTION_ARGS).map(([a, schema]) => [a, ajv.compile(schema)]));

/** Refuses a dispatch whose `args` are not what its action takes (`src/domain/actions.ts`). */
function checkArgs(action: string, args: Record<string, unknown>): void {
  const check = argsCheck.get(action);
  if (!check || check(args)) return;
  const e = check.errors?.[0];
  const where = e?.instancePath
    ? e.instancePath.slice(1).replace(/\//g, '.')
    : ((e?.params as { missingProperty?: string; additionalProperty?: string } | undefined)?.missingProperty ??
      (e?.params as { additionalProperty?: string } | undefined)?.additionalProperty ??
      '');
  throw new StkError('STK_ERR_VALIDATION', `args${where ? `.${where}` : ''} ${e?.message ?? 'is not valid'} for ${action}`, {
    field: `args${where ? `.${where}` : ''}`,
  });
}

/** An expiry longer than the action allows is refused at once, before a four-eyes request is made of it. */
function checkExpiry(c: TenantContext, action: string, seconds: number | undefined): void {
  const policy = expiryPolicy(c.req.server.api.lifecycle?.commandExpiry ?? COMMAND_EXPIRY_DEFAULTS, action);
  if (seconds !== undefined && seconds > policy.maxSeconds)
    throw new StkError('STK_ERR_AGENT_COMMAND_TTL', `${action} may wait at most ${policy.maxSeconds} s for its agent (--command-expiry)`, {
      field: 'expiresInSeconds',
      limit: policy.maxSeconds,
    });
}

const ALERT_FILTERS = {
  status: oneOf(['open', 'acknowledged', 'resolved']),
  severity: oneOf(SEVERITIES),
  agentId: ID,
  incidentId: ID,
  product: oneOf(['core', ...PRODUCTS]),
};
const ALERT_LIST: ListOptions = {
  sorts: ['raisedAt', 'severity', 'status'],
  time: 'raisedAt',
  text: ['title', 'rule'],
  hostSearch: true,
  decorate: alertNames,
  returns: ACTOR_NAMES_DOC,
  columns: [
    'id',
    'raisedAt',
    'observedAt',
    'severity',
    'status',
    'title',
    'rule',
    'product',
    'hostname',
    'agentId',
    'incidentId',
    'acknowledgedBy',
    'acknowledgedByName',
    'resolvedBy',
    'resolvedByName',
    'resolution',
  ],
};
const AGENT_FILTERS = { status: oneOf(['active', 'revoked']), hostname: text(253) };
const AGENT_LIST: ListOptions = {
  sorts: ['hostname', 'enrolledAt'],
  time: 'enrolledAt',
  text: ['hostname', 'os', 'id'],
  decorate: agentNames,
  returns: ACTOR_NAMES_DOC,
  columns: ['id', 'hostname', 'status', 'connectivity', 'os', 'agentVersion', 'enrolledAt', 'lastSeenAt', 'certNotAfter'],
};
const COMMAND_FILTERS = { agentId: ID, status: oneOf(['pending', 'delivered', 'completed', 'cancelled', 'expired']), outcome: oneOf(COMMAND_OUTCOMES) };
const COMMAND_LIST: ListOptions = {
  sorts: ['dispatchedAt'],
  time: 'dispatchedAt',
  text: ['action', 'output'],
  hostSearch: true,
  decorate: commandNames,
  returns: ACTOR_NAMES_DOC,
  columns: ['id', 'dispatchedAt', 'action', 'args', 'hostname', 'agentId', 'status', 'outcome', 'output', 'dispatchedBy', 'dispatchedByName'],
};
const INCIDENT_FILTERS = { status: oneOf([...INCIDENT_STATUSES, 'closed']), severity: oneOf(SEVERITIES), assignee: text(200) };
const INCIDENT_LIST: ListOptions = {
  sorts: ['openedAt', 'updatedAt', 'severity'],
  time: 'openedAt',
  text: ['title', 'assignee'],
  decorate: incidentNames,
  returns: ACTOR_NAMES_DOC,
  columns: ['id', 'openedAt', 'severity', 'status', 'title', 'assignee', 'alertIds', 'openedBy', 'openedByName', 'closedAt', 'closeReason'],
};
const AUDIT_FILTERS = { actorKind: oneOf(['operator', 'agent', 'system']), actorId: text(100), aggregateType: text(32), action: text(64), via: text(300) };
const AUDIT_LIST: ListOptions = {
  sorts: ['at'],
  time: 'at',
  text: ['action', 'actorId', 'targetId'],
  decorate: auditNames,
  columns: ['id', 'at', 'actorKind', 'actorId', 'actorName', 'via', 'action', 'aggregateType', 'targetId', 'targetName', 'outcome'],
};

/** The alert list's filters as a bulk change's `filter` (the same selection the list shows). */
const ALERT_FILTER = filterSchema(ALERT_FILTERS, ALERT_LIST);
/** Most alerts one incident gets linked by filter in one call. */
export const INCIDENT_LINK_MAX = 10_000;

/** Bulk changes by id take at most this many items per call. */
const BULK_IDS = { type: 'array', items: ID, minItems: 1, maxItems: 100, uniqueItems: true };

/** The outcome of one item of a bulk change. */
type BulkOutcome = { id: string; outcome: 'changed' | 'unchanged' | 'refused'; code?: string };

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
      const a = await agentPresence(c.store, Date.now());
      const findingsOn = (['patch', 'attack-surface', 'identity'] as const).some((p) => c.tenantDoc.products.includes(p));
      return {
        tenant: c.tenant,
        products: c.tenantDoc.products,
        agents: { online: a.online, offline: a.offline, revoked: a.revoked },
        ...(await alertCounts(c)),
        incidents: await countBy(c, 'incidents', 'status', [...INCIDENT_STATUSES, 'closed']),
        ...(findingsOn ? { findings: await findingCounts(c) } : {}),
        consistencyToken: token,
      };
    },
  }),
  statsRoute,
  listRoute('agents', 'agents', AGENT_FILTERS, (d) => agentView(d), AGENT_LIST),
  exportRoute('agents', 'agents', AGENT_FILTERS, (d) => agentView(d), AGENT_LIST),
  getRoute('agents', 'agents', 'agentId', async (d, c) => agentView((await viewOf(agentNames)(d, c)) as AgentDoc), undefined, ACTOR_NAMES_DOC),
  tenantRoute({
    method: 'POST',
    url: `${TENANT_PREFIX}/agents/:agentId/revoke`,
    permission: 'agents.revoke',
    area: 'agents',
    params: { ...TENANT_PARAM, agentId: ID },
    summary:
      'Revoke an agent: refused at once even with an unexpired certificate; it stays visible. `blockMachine` (permission machines.block) also keeps its machine from enrolling again until the block is lifted',
    body: { properties: { reason: text(500), blockMachine: { type: 'boolean' } } },
    handler: async (c: TenantContext<{ reason?: string; blockMachine?: boolean }, unknown, { agentId: string }>) => {
      const id = c.params.agentId;
      const agent = await mustGet<AgentDoc>(c, 'agents', id);
      if (c.body.blockMachine) {
        // Checked before anything is written: a block needs its own permission and the fingerprint the agent sent.
        if (!permissionsOn(c.principal, c.tenant).has('machines.block'))
          throw new StkError('STK_ERR_FORBIDDEN', 'blocking a machine needs the permission machines.block', { context: 'machines.block' });
        if (!agent.machine)
          throw new StkError('STK_ERR_VALIDATION', 'this agent sent no machine fingerprint when it enrolled; rotate the secret instead', {
            field: 'blockMachine',
          });
      }
      let r = await c.execute(agentDecider, id, { kind: 'revoke', reason: c.body.reason ?? '' });
      if (c.body.blockMachine && agent.machine) r = await c.execute(machineDecider, agent.machine, { kind: 'block', agentId: id });
      const consistencyToken = await c.settle(r.position);
      const doc = (await c.store.get<AgentDoc>('agents', id)) ?? agent;
      return { ...agentView((await viewOf(agentNames)(doc, c)) as AgentDoc), ...(c.body.blockMachine ? { machineBlocked: true } : {}), consistencyToken };
    },
  }),
  tenantRoute({
    method: 'POST',
    url: `${TENANT_PREFIX}/agents/:agentId/commands`,
    permission: 'commands.dispatch',
    area: 'commands',
    status: 201,
    fourEyes: true,
    summary:
      "Dispatch a command to an agent of this tenant; the agent pulls it over mTLS. A destructive action the customer's policy gates answers 202 with a four-eyes request instead",
    params: { ...TENANT_PARAM, agentId: ID },
    body: {
      properties: {
        action: oneOf(Object.keys(ACTIONS)),
        args: { type: 'object', maxProperties: 32 },
        expiresInSeconds: {
          type: 'integer',
          minimum: 1,
          maximum: 90 * 86_400,
          description: "How long the command may wait for its agent, counted from when it is issued; the action's default when absent",
        },
      },
      required: ['action'],
      maxBytes: 16 * 1024,
    },
    handler: async (c: TenantContext<{ action: string; args?: Record<string, unknown>; expiresInSeconds?: number }, unknown, { agentId: string }>) => {
      const { agentId } = c.params;
      const { action, args, expiresInSeconds } = c.body;
      await mustGet<AgentDoc>(c, 'agents', agentId);
      // Arguments and the expiry are checked before anything else, a four-eyes request included.
      checkArgs(action, args ?? {});
      checkExpiry(c, action, expiresInSeconds);
      const request = { kind: 'dispatch' as const, agentId, action, args: args ?? {}, ...(expiresInSeconds !== undefined ? { expiresInSeconds } : {}) };
      if (GATED_COMMANDS.has(action)) {
        const pending = await requestIfGated(c, action as GatedAction, request);
        if (pending) return pending;
      }
      const id = newId();
      const r = await issueDispatch(c, request, id);
      const expiresAt = (r.events[0]?.data as CommandDispatched | undefined)?.expiresAt;
      return { id, agentId, action, status: 'pending', ...(expiresAt ? { expiresAt } : {}), consistencyToken: await c.settle(r.position) };
    },
  }),
  listRoute('commands', 'commands', COMMAND_FILTERS, (d) => d, COMMAND_LIST),
  exportRoute('commands', 'commands', COMMAND_FILTERS, (d) => d, COMMAND_LIST),
  getRoute('commands', 'commands', 'commandId', commandView, undefined, ACTOR_NAMES_DOC),
  itemCommand({
    method: 'POST',
    area: 'commands',
    collection: 'commands',
    param: 'commandId',
    action: 'cancel',
    summary: 'Cancel a command the agent has not picked up yet; once delivered it can no longer be cancelled',
    permission: 'commands.dispatch',
    body: { properties: { reason: { type: 'string', maxLength: 500 } } },
    decider: agentCommandDecider,
    command: (b: { reason?: string }) => ({ kind: 'cancel' as const, reason: b.reason ?? '' }),
    view: commandView,
    returns: ACTOR_NAMES_DOC,
  }),

  listRoute('alerts', 'alerts', ALERT_FILTERS, (d) => d, ALERT_LIST),
  exportRoute('alerts', 'alerts', ALERT_FILTERS, (d) => d, ALERT_LIST),
  getRoute('alerts', 'alerts', 'alertId', alertView, undefined, ACTOR_NAMES_DOC),
  tenantRoute({
    method: 'POST',
    url: `${TENANT_PREFIX}/alerts/bulk`,
    permission: 'alerts.triage',
    area: 'alerts',
    summary:
      "Acknowledge or resolve alerts: up to 100 named by `alertIds` (each answers changed, unchanged or refused), or every alert the list's `filter` selects (the alert list's filters, `from`/`to`, `q`; at most 100,000), run in the server a batch at a time and answered with counts (`matched`, `changed`, `unchanged`, `refused`)",
    params: TENANT_PARAM,
    body: {
      properties: { action: oneOf(['acknowledge', 'resolve']), alertIds: BULK_IDS, filter: ALERT_FILTER, reason: text(1000) },
      required: ['action'],
    },
    handler: async (c: TenantContext<{ action: 'acknowledge' | 'resolve'; alertIds?: string[]; filter?: Record<string, string>; reason?: string }>) => {
      const { action, alertIds, filter, reason } = c.body;
      idsOrFilter(alertIds, filter, 'alertIds');
      if (action === 'resolve' && !reason) throw new StkError('STK_ERR_VALIDATION', 'resolving takes a reason', { field: 'reason' });
      const command = action === 'resolve' ? { kind: 'resolve' as const, reason: reason! } : { kind: 'acknowledge' as const };
      if (filter) {
        const ids = await selectByFilter(c, 'alerts', ALERT_FILTERS, ALERT_LIST, filter);
        return bulkCount(c, ids, (id) => c.execute(alertDecider, id, command));
      }
      await checkAlerts(c, alertIds!);
      return bulk(c, alertIds!, (id) => c.execute(alertDecider, id, command));
    },
  }),
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
    view: alertView,
    returns: ACTOR_NAMES_DOC,
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
    view: alertView,
    returns: ACTOR_NAMES_DOC,
  }),

  listRoute('incidents', 'incidents', INCIDENT_FILTERS, (d) => d, INCIDENT_LIST),
  exportRoute('incidents', 'incidents', INCIDENT_FILTERS, (d) => d, INCIDENT_LIST),
  getRoute('incidents', 'incidents', 'incidentId', incidentView, undefined, ACTOR_NAMES_DOC),
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
      return { ...(doc ? await incidentView(doc, c) : {}), id, consistencyToken };
    },
  }),
  itemCommand({
    method: 'PATCH',
    area: 'incidents',
    collection: 'incidents',
    param: 'incidentId',
    summary: "Change an incident's title, severity, status or assignee (`assignee: null` clears it)",
    permission: 'incidents.manage',
    body: {
      properties: {
        title: text(300),
        severity: oneOf(SEVERITIES),
        status: oneOf(INCIDENT_STATUSES),
        assignee: { anyOf: [text(200), { type: 'null' }] },
      },
    },
    decider: incidentDecider,
    command: (b: { title?: string; severity?: Severity; status?: IncidentStatus; assignee?: string | null }) => {
      if (b.status === undefined && b.assignee === undefined && b.title === undefined && b.severity === undefined) {
        throw new StkError('STK_ERR_VALIDATION', 'give title, severity, status or assignee', { field: 'status' });
      }
      return { kind: 'update' as const, ...b };
    },
    view: incidentView,
  }),
  itemCommand({
    method: 'POST',
    area: 'incidents',
    collection: 'incidents',
    param: 'incidentId',
    action: 'comments',
    summary: 'Add a comment to an incident (also after it is closed)',
    permission: 'incidents.manage',
    body: { properties: { text: text(4000) }, required: ['text'] },
    decider: incidentDecider,
    command: (b: { text: string }) => ({ kind: 'comment' as const, text: b.text }),
    view: incidentView,
    returns: ACTOR_NAMES_DOC,
  }),
  itemCommand({
    method: 'POST',
    area: 'incidents',
    collection: 'incidents',
    param: 'incidentId',
    action: 'reopen',
    summary: 'Reopen a closed incident, with a reason',
    permission: 'incidents.manage',
    body: { properties: { reason: text(1000) }, required: ['reason'] },
    decider: incidentDecider,
    command: (b: { reason: string }) => ({ kind: 'reopen' as const, reason: b.reason }),
    view: incidentView,
  }),
  tenantRoute({
    method: 'POST',
    url: `${TENANT_PREFIX}/incidents/:incidentId/alerts`,
    permission: 'incidents.manage',
    area: 'incidents',
    summary: `Link more alerts to an incident: up to 100 named by \`alertIds\`, or every alert the alert list's \`filter\` selects (at most ${INCIDENT_LINK_MAX.toLocaleString('en-US')}; answered with \`matched\`)`,
    params: { ...TENANT_PARAM, incidentId: ID },
    body: { properties: { alertIds: ALERT_IDS, filter: ALERT_FILTER } },
    handler: async (c: TenantContext<{ alertIds?: string[]; filter?: Record<string, string> }, unknown, { incidentId: string }>) => {
      const id = c.params.incidentId;
      const { alertIds, filter } = c.body;
      idsOrFilter(alertIds, filter, 'alertIds');
      await mustGet(c, 'incidents', id);
      let ids = alertIds ?? [];
      if (filter) {
        ids = await selectByFilter(c, 'alerts', ALERT_FILTERS, ALERT_LIST, filter);
        if (ids.length > INCIDENT_LINK_MAX)
          throw new StkError('STK_ERR_BULK_TOO_LARGE', `${ids.length} alerts match; an incident links at most ${INCIDENT_LINK_MAX}; narrow the filter`, {
            limit: INCIDENT_LINK_MAX,
          });
      } else await checkAlerts(c, ids);
      // One event per hundred alerts, on the incident's own aggregate, in order.
      let position = 0;
      for (let i = 0; i < ids.length; i += 100) {
        const r = await c.execute(incidentDecider, id, { kind: 'link-alerts', alertIds: ids.slice(i, i + 100) });
        if (r.position > position) position = r.position;
      }
      const consistencyToken = position ? await c.settle(position) : c.readToken();
      const doc = await c.store.get<IncidentDoc>('incidents', id);
      return { ...(doc ? await incidentView(doc, c) : { id }), ...(filter ? { matched: ids.length } : {}), consistencyToken };
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
    view: incidentView,
  }),

  listRoute('audit', 'audit', AUDIT_FILTERS, (d) => d, AUDIT_LIST),
  getRoute('audit', 'audit', 'entryId', async (d, c) => (await auditNames([d], c))[0]),
];

/**
 * Runs one command per item, in order, each through the write pipeline as its own aggregate: an
 * item already in the asked state, or past it, is reported (not a failure of the call); a fault of
 * the log stops the call (what was done stays done, and says so in the audit log).
 */
export async function bulk(c: TenantContext, ids: string[], run: (id: string) => Promise<{ position: number; events: unknown[] }>) {
  const results: BulkOutcome[] = [];
  let last = 0;
  for (const id of ids) {
    try {
      const r = await run(id);
      if (r.position > last) last = r.position;
      results.push({ id, outcome: r.events.length ? 'changed' : 'unchanged' });
    } catch (err) {
      if (!(err instanceof StkError) || err.code !== 'STK_ERR_INVALID_TRANSITION') throw err;
      results.push({ id, outcome: 'refused', code: err.code });
    }
  }
  return { results, consistencyToken: last ? await c.settle(last) : c.readToken() };
}

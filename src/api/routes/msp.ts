import { SEVERITIES } from '../../../commands/alerts/events.ts';
import type { GatedAction } from '../../../commands/settings/events.ts';
import type { AgentDoc } from '../../../projections/agents/projection.ts';
import type { AlertCountsDoc, OpenAlertDoc } from '../../../projections/overview/projection.ts';
import { type PatchSummaryDoc, summaryDocId } from '../../../projections/patches/projection.ts';
import type { TenantDoc } from '../../../projections/tenants/projection.ts';
import { ACTIONS } from '../../domain/products.ts';
import { StkError } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { CHECKPOINT_SUBJECT_PREFIX, LEDGER_STREAM, ledgerSubject, parseBlock } from '../../ledger/format.ts';
import { tenantFilter } from '../../log/mod.ts';
import { isReservedTenant } from '../../people/install.ts';
import type { TenantStore } from '../../store/store.ts';
import { canSee, refusedWhileSuspended, seesAll } from '../access.ts';
import { type InstallContext, type InstallRouteDef, installRoute, tenantContextOf } from '../route.ts';
import { ID, mustGet, oneOf, TENANT_ID, text } from '../schemas.ts';
import { GATED_COMMANDS, issueDispatch, requestIfGated } from './approvals.ts';
import { agentPresence } from '../presence.ts';

/** How many customers the overview reads at once (each through its own tenant-bound store). */
const OVERVIEW_CONCURRENCY = 8;
const FANOUT_MAX_TENANTS = 200;
const FANOUT_MAX_AGENTS = 500;

/** The customers a caller can see, in id order. */
async function visibleTenants(c: InstallContext): Promise<string[]> {
  const all = (await c.admin.scan<string>('tenants', 'tenants')).map((e) => e.value).filter((t) => !isReservedTenant(t));
  return seesAll(c.principal) ? all : all.filter((t) => canSee(c.principal, t));
}

/** The documents of a filter a page at a time, until `each` answers false. */
async function eachPage<T extends { id: string; seq: number }>(
  store: TenantStore,
  collection: string,
  filter: Record<string, string>,
  each: (d: T) => boolean,
): Promise<void> {
  let cursor: string | null = null;
  do {
    const page: { items: T[]; nextCursor: string | null } = await store.list<T>(collection, { filter, limit: 200, ...(cursor ? { cursor } : {}) });
    for (const d of page.items) if (!each(d)) return;
    cursor = page.nextCursor;
  } while (cursor);
}

/** One customer's line of the overview, read through that customer's own store only. */
async function customerLine(c: InstallContext, tenant: string, now: number) {
  const store = c.forTenant(tenant);
  const doc = await store.get<TenantDoc>('tenant', tenant);
  if (!doc) return null;
  const agents = await agentPresence(store, now);
  const counts = await store.get<AlertCountsDoc>('alert-counts', tenant);
  // The overview model lists open alerts oldest first: the first unacknowledged one is the oldest.
  const oldest = (await store.list<OpenAlertDoc>('open-alerts', { filter: { acked: 'no' }, limit: 1 })).items[0] ?? null;
  // Patch compliance as the patches model keeps it per host (its latest inventory), summed per
  // tenant: one document read, however many hosts or findings the customer has.
  let patch: { hosts: number; compliant: number; needingReboot: number; withOverdueUpdates: number } | undefined;
  if (doc.products.includes('patch')) {
    const s = await store.get<PatchSummaryDoc>('patch-summary', summaryDocId(tenant));
    patch = { hosts: s?.hosts ?? 0, compliant: s?.compliant ?? 0, needingReboot: s?.needingReboot ?? 0, withOverdueUpdates: s?.withOverdueUpdates ?? 0 };
  }
  const [block, lastPosition] = await Promise.all([
    c.api.log.streams.last(LEDGER_STREAM, ledgerSubject(tenant)),
    c.api.log.lastPositionOf(tenantFilter(tenant)),
  ]);
  const b = block ? parseBlock(block.data, { tenant, ledgerSeq: block.seq }) : null;
  return {
    tenant,
    name: doc.name,
    suspended: doc.suspended,
    products: doc.products,
    agents: { online: agents.online, offline: agents.offline, revoked: agents.revoked },
    alerts: {
      open: counts?.open ?? Object.fromEntries(SEVERITIES.map((s) => [s, 0])),
      unacknowledged: counts?.unacknowledged ?? 0,
      oldestUnacknowledged: oldest ? { id: oldest.id, severity: oldest.severity, title: oldest.title, raisedAt: oldest.raisedAt } : null,
    },
    ...(patch ? { patch } : {}),
    certificates: { agentsExpiringSoon: agents.expiringSoon, earliestNotAfter: agents.earliestNotAfter },
    sealing: { height: b?.lastHeight ?? 0, sealedAt: b?.sealedAt ?? null, upToDate: (b?.lastSeq ?? 0) >= lastPosition },
    link: `/ui/t/${tenant}/overview`,
  };
}

type Line = NonNullable<Awaited<ReturnType<typeof customerLine>>>;

const SORTS: Record<string, (a: Line, b: Line) => number> = {
  name: (a, b) => a.name.localeCompare(b.name) || a.tenant.localeCompare(b.tenant),
  tenant: (a, b) => a.tenant.localeCompare(b.tenant),
  critical: (a, b) => (b.alerts.open.critical ?? 0) - (a.alerts.open.critical ?? 0),
  unacknowledged: (a, b) => b.alerts.unacknowledged - a.alerts.unacknowledged,
  oldest: (a, b) => (a.alerts.oldestUnacknowledged?.raisedAt ?? '~').localeCompare(b.alerts.oldestUnacknowledged?.raisedAt ?? '~'),
  offline: (a, b) => b.agents.offline - a.agents.offline,
};

/** What an MSP person sees across customers, and does on several at once. */
export const mspRoutes: InstallRouteDef[] = [
  installRoute({
    method: 'GET',
    url: '/overview',
    permission: 'overview.read',
    area: 'overview',
    summary:
      'All customers you can see at a glance: agents online/offline, open alerts by severity, oldest unacknowledged alert, patch compliance (compliant hosts of hosts with an inventory, hosts needing a reboot), certificate expiries, sealing; sortable, searchable',
    query: { sort: oneOf(Object.keys(SORTS)), q: text(100) },
    handler: async (c: InstallContext<unknown, { sort?: string; q?: string }>) => {
      const now = Date.now();
      const q = c.query.q?.toLowerCase();
      const tenants = await visibleTenants(c);
      const lines: Line[] = [];
      let next = 0;
      const worker = async () => {
        while (next < tenants.length) {
          const line = await customerLine(c, tenants[next++]!, now);
          if (line && (!q || line.tenant.includes(q) || line.name.toLowerCase().includes(q))) lines.push(line);
        }
      };
      await Promise.all(Array.from({ length: OVERVIEW_CONCURRENCY }, worker));
      lines.sort(SORTS[c.query.sort ?? 'name']!);
      // The newest tenant checkpoint of the install (one C2SP note per tenant): when it was stored.
      const checkpoint = await c.api.log.streams.last(LEDGER_STREAM, `${CHECKPOINT_SUBJECT_PREFIX}>`);
      return {
        items: lines,
        total: lines.length,
        lastCheckpointAt: checkpoint ? checkpoint.time.toISOString() : null,
      };
    },
  }),
  installRoute({
    method: 'POST',
    url: '/fanout/commands',
    permission: 'fanout.dispatch',
    area: 'fanout',
    summary:
      "Send one agent command to several of your customers: one command per agent, each in its customer's own log; answers a summary per customer (four eyes and products apply per customer)",
    body: {
      properties: {
        action: oneOf(Object.keys(ACTIONS)),
        args: { type: 'object', maxProperties: 32 },
        targets: {
          type: 'array',
          minItems: 1,
          maxItems: FANOUT_MAX_TENANTS,
          items: {
            type: 'object',
            properties: { tenant: TENANT_ID, agentIds: { type: 'array', items: ID, maxItems: FANOUT_MAX_AGENTS, uniqueItems: true } },
            required: ['tenant'],
            additionalProperties: false,
          },
        },
      },
      required: ['action', 'targets'],
      maxBytes: 256 * 1024,
    },
    handler: async (c: InstallContext<{ action: string; args?: Record<string, unknown>; targets: Array<{ tenant: string; agentIds?: string[] }> }>) => {
      const { action, args } = c.body;
      const results = [];
      for (const target of c.body.targets) results.push(await fanoutOne(c, target, action, args ?? {}));
      return { action, results };
    },
  }),
];

/** One customer of a fan-out; a customer the caller cannot see reads exactly like one that does not exist. */
async function fanoutOne(c: InstallContext, target: { tenant: string; agentIds?: string[] }, action: string, args: Record<string, unknown>) {
  const { tenant } = target;
  const notFound = { tenant, outcome: 'not-found' as const, commands: [] as string[], approvals: [] as string[] };
  if (!canSee(c.principal, tenant)) return notFound;
  const doc = await c.forTenant(tenant).get<TenantDoc>('tenant', tenant);
  if (!doc) return notFound;
  if (!c.permissionsOn(tenant).has('commands.dispatch')) return { ...notFound, outcome: 'refused' as const, code: 'STK_ERR_FORBIDDEN' };
  if (doc.suspended && refusedWhileSuspended(c.principal, tenant)) return { ...notFound, outcome: 'refused' as const, code: 'STK_ERR_TENANT_SUSPENDED' };
  const tc = tenantContextOf(c, doc);
  let agentIds = target.agentIds;
  if (!agentIds) {
    agentIds = [];
    // The first FANOUT_MAX_AGENTS active agents, read no further.
    await eachPage<AgentDoc>(tc.store, 'agents', { status: 'active' }, (a) => agentIds!.push(a.id) < FANOUT_MAX_AGENTS);
  }
  const commands: string[] = [];
  const approvals: string[] = [];
  const refused: Array<{ agentId: string; code: string }> = [];
  let consistencyToken = tc.readToken();
  for (const agentId of agentIds) {
    const request = { kind: 'dispatch' as const, agentId, action, args };
    try {
      let pending: Awaited<ReturnType<typeof requestIfGated>> = null;
      if (GATED_COMMANDS.has(action)) {
        await mustGet(tc, 'agents', agentId);
        pending = await requestIfGated(tc, action as GatedAction, request);
      }
      if (pending) {
        approvals.push(pending.approvalId);
        consistencyToken = pending.consistencyToken;
        continue;
      }
      const id = newId();
      const r = await issueDispatch(tc, request, id);
      commands.push(id);
      consistencyToken = await tc.settle(r.position);
    } catch (err) {
      if (!(err instanceof StkError) || err.code === 'STK_ERR_INTERNAL') throw err;
      refused.push({ agentId, code: err.code });
    }
  }
  // The per-customer setStatus of a four-eyes request does not change the fan-out's own answer.
  c.setStatus(200);
  const outcome = commands.length || approvals.length ? 'dispatched' : agentIds.length === 0 ? 'no-agents' : 'refused';
  return { tenant, outcome, commands, approvals, refused, consistencyToken };
}

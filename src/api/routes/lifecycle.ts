import { Readable } from 'node:stream';
import { agentCommandDecider } from '../../../commands/agent-commands/decider.ts';
import { machineDecider } from '../../../commands/machines/decider.ts';
import { MACHINE_FINGERPRINT_PATTERN } from '../../../commands/machines/events.ts';
import { tenantDecider } from '../../../commands/tenants/decider.ts';
import type { AgentCommandDoc } from '../../../projections/agent-commands/projection.ts';
import type { MachineDoc } from '../../../projections/machines/projection.ts';
import { RETENTION_KINDS, type RetentionKind } from '../../domain/personal.ts';
import { StkError } from '../../errors.ts';
import { offboardTenant } from '../../lifecycle/offboard.ts';
import { eraseSubject } from '../../privacy/erase.ts';
import type { ApiServices } from '../route.ts';
import { TENANT_PREFIX, type TenantContext, type TenantRouteDef, tenantRoute } from '../route.ts';
import { ID, listRoute, mustGet, oneOf, TENANT_ID, TENANT_PARAM, text } from '../schemas.ts';

const MACHINE = { type: 'string', pattern: MACHINE_FINGERPRINT_PATTERN };

/** The API's services, as decorated on the scope this route is registered in. */
const servicesOf = (c: TenantContext): ApiServices => c.req.server.api;

function keysOf(c: TenantContext) {
  const keys = servicesOf(c).privacy?.keys;
  if (!keys)
    throw new StkError('STK_ERR_KEYSTORE_UNAVAILABLE', 'field encryption is off on this install (STOCKADE_FIELD_ENCRYPTION): there are no keys to destroy');
  return keys;
}

/**
 * Where four-eyes approval plugs in (issue #14): an erasure and an offboarding cannot be undone,
 * so once approvals exist these become requests a second admin approves, and `check` is where a
 * route asks for that approval. Until then the admin key alone may erase and offboard.
 */
export const IRREVERSIBLE_APPROVAL: { check(c: TenantContext, action: 'erase' | 'offboard'): Promise<void> } = {
  async check() {},
};

/** Retention as the tenant has it: each kind's days, and whether the tenant set them or the install's default applies. */
function retentionView(c: TenantContext) {
  const defaults = servicesOf(c).lifecycle?.retentionDays;
  const own = c.tenantDoc.retention ?? {};
  return {
    kinds: RETENTION_KINDS.map((kind) => ({
      kind,
      days: own[kind] ?? defaults?.[kind] ?? null,
      source: own[kind] !== undefined ? ('tenant' as const) : ('default' as const),
    })),
  };
}

export const lifecycleRoutes: TenantRouteDef[] = [
  tenantRoute({
    method: 'POST',
    url: `${TENANT_PREFIX}/erasures`,
    access: 'admin',
    area: 'privacy',
    status: 201,
    params: TENANT_PARAM,
    summary: "Erase a data subject: destroy every key of the subject's fields (crypto-shredding); the destruction is a sealed event and the read models forget",
    body: { properties: { subject: text(300), reference: text(200) }, required: ['subject'] },
    handler: async (c: TenantContext<{ subject: string; reference?: string }>) => {
      await IRREVERSIBLE_APPROVAL.check(c, 'erase');
      const r = await eraseSubject(servicesOf(c).log, keysOf(c), {
        tenant: c.tenant,
        subject: c.body.subject,
        actor: c.actor,
        ...(c.body.reference ? { reference: c.body.reference } : {}),
      });
      c.req.log.info({ tenant: c.tenant, erasureId: r.erasureId, keys: r.keysDestroyed }, 'data subject erased');
      return { erasureId: r.erasureId, keysDestroyed: r.keysDestroyed, consistencyToken: await c.settle(r.position) };
    },
  }),
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/retention`,
    access: 'read',
    area: 'tenants',
    params: TENANT_PARAM,
    summary: 'How long each kind of this tenant’s data is kept (days; null = forever), and where the figure comes from',
    handler: async (c) => retentionView(c),
  }),
  tenantRoute({
    method: 'PUT',
    url: `${TENANT_PREFIX}/retention`,
    access: 'admin',
    area: 'tenants',
    params: TENANT_PARAM,
    summary: 'Set how long one kind of this tenant’s data is kept, in days; null goes back to the install’s default',
    body: { properties: { kind: oneOf(RETENTION_KINDS), days: { type: ['integer', 'null'], minimum: 1, maximum: 100_000 } }, required: ['kind', 'days'] },
    handler: async (c: TenantContext<{ kind: RetentionKind; days: number | null }>) => {
      const r = await c.execute(tenantDecider, c.tenant, { kind: 'set-retention', retention: { kind: c.body.kind, days: c.body.days } });
      const consistencyToken = await c.settle(r.position);
      const doc = (await c.store.get('tenant', c.tenant)) ?? c.tenantDoc;
      return { ...retentionView({ ...c, tenantDoc: doc as typeof c.tenantDoc }), consistencyToken };
    },
  }),
  tenantRoute({
    method: 'DELETE',
    url: TENANT_PREFIX,
    access: 'admin',
    area: 'tenants',
    params: TENANT_PARAM,
    summary:
      'Offboard the customer: agents revoked, tokens and secret dead, keys destroyed, read models removed, id reserved; answers the final signed head of its chain',
    body: { properties: { confirm: TENANT_ID }, required: ['confirm'] },
    handler: async (c: TenantContext<{ confirm: string }>) => {
      if (c.body.confirm !== c.tenant) throw new StkError('STK_ERR_OFFBOARD_CONFIRM', 'confirm must be the tenant id', { field: 'confirm' });
      await IRREVERSIBLE_APPROVAL.check(c, 'offboard');
      const api = servicesOf(c);
      const r = await offboardTenant({ log: api.log, keys: api.privacy?.keys ?? null, tenant: c.tenant, actor: c.actor, sealWaitMs: 10_000 });
      c.req.log.info({ tenant: c.tenant, agents: r.agentsRevoked, tokens: r.tokensRevoked, keys: r.keysDestroyed }, 'tenant offboarded');
      // The answer is the last thing said about the tenant: its read models go once they apply r.position.
      await api.projector.waitFor(r.position, 5_000);
      return r;
    },
  }),
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/export/read-models`,
    access: 'admin',
    area: 'tenants',
    params: TENANT_PARAM,
    summary: "Every document of this tenant's read models, as JSON lines `{model, collection, id, doc}` (for the offboarding export)",
    handler: async (c) => {
      const store = servicesOf(c).store;
      const tenant = c.tenant;
      c.reply.type('application/x-ndjson');
      return Readable.from(
        (async function* () {
          for (const p of store.projections) {
            const sub = store.tenantSub(p.model, store.activeGen(p.model), tenant);
            for await (const [key, doc] of sub.iterator({ gt: '', lt: '\uffff' })) {
              const m = /^([a-z][a-z-]*)!d!(.+)$/.exec(key);
              if (m) yield `${JSON.stringify({ model: p.model, collection: m[1], id: m[2], doc })}\n`;
            }
          }
        })(),
      );
    },
  }),
  tenantRoute({
    method: 'POST',
    url: `${TENANT_PREFIX}/commands/:commandId/cancel`,
    access: 'write',
    area: 'commands',
    params: { ...TENANT_PARAM, commandId: ID },
    summary: 'Cancel an agent command the agent has not pulled yet; it is never handed out',
    body: { properties: { reason: text(500) } },
    handler: async (c: TenantContext<{ reason?: string }, unknown, { commandId: string }>) => {
      const id = c.params.commandId;
      await mustGet<AgentCommandDoc>(c, 'commands', id);
      const r = await c.execute(agentCommandDecider, id, { kind: 'cancel', reason: c.body.reason ?? '' });
      const consistencyToken = await c.settle(r.position);
      return { ...((await c.store.get('commands', id)) ?? { id }), consistencyToken };
    },
  }),
  listRoute('machines', 'machines', { blocked: oneOf(['true', 'false']), agentId: ID }),
  tenantRoute({
    method: 'POST',
    url: `${TENANT_PREFIX}/machines/:machine/unblock`,
    access: 'admin',
    area: 'machines',
    params: { ...TENANT_PARAM, machine: MACHINE },
    summary: 'Lift the block on a machine: it may enroll again (with a valid secret)',
    handler: async (c: TenantContext<unknown, unknown, { machine: string }>) => {
      const id = c.params.machine;
      await mustGet<MachineDoc>(c, 'machines', id);
      const r = await c.execute(machineDecider, id, { kind: 'unblock' });
      const consistencyToken = await c.settle(r.position);
      return { ...((await c.store.get('machines', id)) ?? { id }), consistencyToken };
    },
  }),
];

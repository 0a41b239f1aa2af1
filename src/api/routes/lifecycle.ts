import { Readable } from 'node:stream';
import { machineDecider } from '../../../commands/machines/decider.ts';
import { MACHINE_FINGERPRINT_PATTERN } from '../../../commands/machines/events.ts';
import { tenantDecider } from '../../../commands/tenants/decider.ts';
import type { MachineDoc } from '../../../projections/machines/projection.ts';
import { normalizeSubject, RETENTION_KINDS, type RetentionKind, TENANT_SUBJECT } from '../../domain/personal.ts';
import { StkError } from '../../errors.ts';
import { type Offboarded, offboardTenant } from '../../lifecycle/offboard.ts';
import { evidenceTarget, scanItemsTarget } from '../../lifecycle/retention.ts';
import { type Erasure, eraseSubject } from '../../privacy/erase.ts';
import type { ApprovalAction } from '../../../commands/approvals/events.ts';
import { approvalDecider } from '../../../commands/approvals/decider.ts';
import { derivedCommandId, requestIfGated } from './approvals.ts';
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
 * Erases, or offboards, on `c`'s customer: the one path for the routes and for a four-eyes request
 * once a second person approved it (`approvalId`, from which the erasure's id is derived, so an
 * approval issued twice erases once). Returns what it made: the erasure id, or the tenant.
 */
export async function issueIrreversible(c: TenantContext, a: Extract<ApprovalAction, { kind: 'erase' | 'offboard' }>, approvalId?: string): Promise<string> {
  const api = servicesOf(c);
  if (a.kind === 'offboard') {
    const r = await offboardTenant({
      log: api.log,
      keys: api.privacy?.keys ?? null,
      tenant: c.tenant,
      actor: c.actor,
      sealWaitMs: 10_000,
      targets: [evidenceTarget(api.telemetry.evidence), scanItemsTarget(api.log.streams)],
      // An approved offboarding is recorded as executed before the tenant's last entry, not after it.
      ...(approvalId
        ? {
            beforeDeleted: async () => {
              await c.execute(approvalDecider, approvalId, { kind: 'record-execution', result: { outcome: 'issued', ref: c.tenant } });
            },
          }
        : {}),
    });
    lastOffboarding.set(c.req, r);
    return c.tenant;
  }
  const r = await eraseSubject(api.log, keysOf(c), {
    tenant: c.tenant,
    subject: a.subject,
    actor: c.actor,
    ...(a.reference ? { reference: a.reference } : {}),
    ...(approvalId ? { erasureId: derivedCommandId(c.tenant, approvalId, 'erase') } : {}),
  });
  lastErasure.set(c.req, r);
  return r.erasureId;
}

// What `issueIrreversible` did, for the route that called it (an approval answers with its own shape).
const lastErasure = new WeakMap<object, Erasure>();
const lastOffboarding = new WeakMap<object, Offboarded>();

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
    permission: 'privacy.erase',
    area: 'privacy',
    status: 201,
    params: TENANT_PARAM,
    fourEyes: true,
    summary:
      "Erase a data subject: destroy every key of the subject's fields (crypto-shredding); the destruction is a sealed event and the read models forget. Where the customer's policy gates erase-subject, answers 202 with a four-eyes request",
    body: { properties: { subject: text(300), reference: text(200) }, required: ['subject'] },
    handler: async (c: TenantContext<{ subject: string; reference?: string }>) => {
      const subject = normalizeSubject(c.body.subject);
      if (!subject || subject === TENANT_SUBJECT)
        throw new StkError('STK_ERR_SUBJECT_INVALID', 'a subject is agent:<agentId>, account:<name>, person:<name or e-mail> or user:<userId>', {
          field: 'subject',
        });
      const action = { kind: 'erase' as const, subject, ...(c.body.reference ? { reference: c.body.reference } : {}) };
      // Four eyes where the customer's policy asks for them: 202 with the request instead.
      const pending = await requestIfGated(c, 'erase-subject', action);
      if (pending) return pending;
      await issueIrreversible(c, action);
      const r = lastErasure.get(c.req)!;
      c.req.log.info({ tenant: c.tenant, erasureId: r.erasureId, keys: r.keysDestroyed }, 'data subject erased');
      return { erasureId: r.erasureId, keysDestroyed: r.keysDestroyed, consistencyToken: await c.settle(r.position) };
    },
  }),
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/retention`,
    permission: 'tenant.read',
    area: 'tenants',
    params: TENANT_PARAM,
    summary: 'How long each kind of this tenant’s data is kept (days; null = forever), and where the figure comes from',
    handler: async (c) => retentionView(c),
  }),
  tenantRoute({
    method: 'PUT',
    url: `${TENANT_PREFIX}/retention`,
    permission: 'tenant.manage',
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
    permission: 'tenant.offboard',
    area: 'tenants',
    params: TENANT_PARAM,
    fourEyes: true,
    summary:
      'Offboard the customer: agents revoked, tokens and secret dead, keys destroyed, read models removed, id reserved; answers the final signed head of its chain. Where the policy gates delete-tenant, answers 202 with a four-eyes request',
    body: { properties: { confirm: TENANT_ID }, required: ['confirm'] },
    handler: async (c: TenantContext<{ confirm: string }>) => {
      if (c.body.confirm !== c.tenant) throw new StkError('STK_ERR_OFFBOARD_CONFIRM', 'confirm must be the tenant id', { field: 'confirm' });
      const pending = await requestIfGated(c, 'delete-tenant', { kind: 'offboard' });
      if (pending) return pending;
      await issueIrreversible(c, { kind: 'offboard' });
      const r = lastOffboarding.get(c.req)!;
      c.req.log.info({ tenant: c.tenant, agents: r.agentsRevoked, tokens: r.tokensRevoked, keys: r.keysDestroyed }, 'tenant offboarded');
      // The answer is the last thing said about the tenant: its read models go once they apply r.position.
      await servicesOf(c).projector.waitFor(r.position, 5_000);
      return r;
    },
  }),
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/export/read-models`,
    permission: 'tenant.offboard',
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
  listRoute('machines', 'machines', { blocked: oneOf(['true', 'false']), agentId: ID }, (d) => d, { permission: 'agents.read' }),
  tenantRoute({
    method: 'POST',
    url: `${TENANT_PREFIX}/machines/:machine/unblock`,
    permission: 'machines.block',
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

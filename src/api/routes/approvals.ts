import { createHash } from 'node:crypto';
import { accessDecider } from '../../../commands/access/decider.ts';
import { agentCommandDecider } from '../../../commands/agent-commands/decider.ts';
import { approvalDecider } from '../../../commands/approvals/decider.ts';
import type { ApprovalAction, Person } from '../../../commands/approvals/events.ts';
import type { GatedAction } from '../../../commands/settings/events.ts';
import { tenantDecider } from '../../../commands/tenants/decider.ts';
import type { AgentDoc } from '../../../projections/agents/projection.ts';
import type { ApprovalDoc } from '../../../projections/approvals/projection.ts';
import { type SettingsDoc, settingsDocId, tenantPolicyOf } from '../../../projections/settings/projection.ts';
import { COMMAND_EXPIRY_DEFAULTS } from '../../config/settings.ts';
import { type AsmSettingsDoc, asmSettingsOf } from '../../../projections/attack-surface/projection.ts';
import type { PatchSettingsDoc } from '../../../projections/patches/projection.ts';
import { type ActionFacts, checkActionArgs } from '../../domain/action-args.ts';
import { derivedIds } from '../../domain/execute.ts';
import { expiryPolicy } from '../../lifecycle/commands.ts';
import { StkError } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { permissionsOn } from '../access.ts';
import { ACTOR_NAMES_DOC, viewOf, withActorNames } from '../actors.ts';
import type { Principal } from '../auth.ts';
import { actorOf } from '../auth.ts';
import type { Permission } from '../permissions.ts';
import { TENANT_PREFIX, type TenantContext, type TenantRouteDef, tenantRoute } from '../route.ts';
import { getRoute, ID, listRoute, mustGet, oneOf, TENANT_PARAM, text } from '../schemas.ts';
import { checkGrantable } from './access.ts';
import { saveCustomRule } from './detection.ts';
import { issueIrreversible } from './lifecycle.ts';

/** Agent actions that four eyes can gate (the policy names them the same way). */
export const GATED_COMMANDS: ReadonlySet<string> = new Set(['isolate-host', 'kill-process', 'disable-account', 'reset-credentials', 'install-patches']);

/** The person behind a principal, as four-eyes records compare them. */
export function personOf(p: Principal): Person {
  return { actorId: actorOf(p).id, userId: p.kind === 'user' ? p.userId : null };
}

/** What an action needs of whoever issues it (requester and approver alike). */
export function permissionFor(a: ApprovalAction): Permission {
  if (a.kind === 'erase') return 'privacy.erase';
  if (a.kind === 'offboard') return 'tenant.offboard';
  if (a.kind === 'custom-rule') return 'detection.manage';
  return a.kind === 'dispatch' ? 'commands.dispatch' : a.kind === 'suspend' ? 'tenant.suspend' : 'access.manage';
}

/** The customer's facts an action's arguments are judged by: its declared scan targets, its maintenance window. */
export async function dispatchFacts(c: TenantContext, action: string): Promise<ActionFacts> {
  if (action === 'run-scan') return { allowlist: asmSettingsOf(await c.store.get<AsmSettingsDoc>('asm-settings', c.tenant)).targets };
  if (action === 'install-patches') return { maintenanceWindow: (await c.store.get<PatchSettingsDoc>('patch-settings', c.tenant))?.window ?? null };
  return {};
}

/**
 * When the customer's policy gates `gate`, turns the action into a four-eyes request (an event)
 * and answers 202 with it; otherwise null, and the caller issues the action itself. A dispatch
 * whose arguments would be refused is refused now, not after a second person approved it.
 */
export async function requestIfGated(c: TenantContext, gate: GatedAction, action: ApprovalAction) {
  if (action.kind === 'dispatch') {
    const checked = checkActionArgs(action.action, action.args, await dispatchFacts(c, action.action));
    if (!checked.ok) throw checked.error;
  }
  const policy = tenantPolicyOf(await c.store.get<SettingsDoc>('settings', settingsDocId(c.tenant)));
  if (!policy.fourEyes.includes(gate)) return null;
  const id = newId();
  const expiresAt = new Date(Date.now() + policy.approvalExpiryMinutes * 60_000).toISOString();
  const r = await c.execute(approvalDecider, id, { kind: 'request', request: { gate, action, requester: personOf(c.principal), expiresAt } }, { known: 'new' });
  c.setStatus(202);
  return { approvalId: id, status: 'pending' as const, gate, expiresAt, consistencyToken: await c.settle(r.position) };
}

/** A command id derived from what asked for it: issuing it twice writes it once. */
export function derivedCommandId(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('base64url').slice(0, 22);
}

/**
 * Dispatches an agent command on `c`'s customer (the one path for the API, fan-out and approved
 * requests). `id` is chosen by the caller; with `idempotent`, a second issue writes nothing.
 */
export async function issueDispatch(c: TenantContext, a: Extract<ApprovalAction, { kind: 'dispatch' }>, id: string, o: { idempotent?: boolean } = {}) {
  const agent = await mustGet<AgentDoc>(c, 'agents', a.agentId);
  const context = { products: c.tenantDoc.products, suspended: c.tenantDoc.suspended, agentStatus: agent.status, ...(await dispatchFacts(c, a.action)) };
  // The expiry counts from now, when the command is issued (after its four eyes, if it needed them).
  const expiry = {
    now: new Date().toISOString(),
    policy: expiryPolicy(c.req.server.api.lifecycle?.commandExpiry ?? COMMAND_EXPIRY_DEFAULTS, a.action),
    ...(a.expiresInSeconds !== undefined ? { ttlSeconds: a.expiresInSeconds } : {}),
  };
  return c.execute(
    agentCommandDecider,
    id,
    { kind: 'dispatch' as const, command: { agentId: a.agentId, action: a.action, args: a.args }, context, expiry },
    {
      known: 'new',
      ...(o.idempotent ? { idempotent: true, eventIds: derivedIds(c.tenant, id) } : {}),
    },
  );
}

async function issue(c: TenantContext, approval: ApprovalDoc): Promise<{ outcome: 'issued' | 'refused'; ref: string }> {
  const a = approval.action;
  try {
    if (a.kind === 'dispatch') {
      const id = derivedCommandId(c.tenant, approval.id, 'command');
      await issueDispatch(c, a, id, { idempotent: true });
      return { outcome: 'issued', ref: id };
    }
    if (a.kind === 'suspend') {
      await c.execute(tenantDecider, c.tenant, { kind: 'suspend', reason: a.reason });
      return { outcome: 'issued', ref: c.tenant };
    }
    if (a.kind === 'erase' || a.kind === 'offboard') return { outcome: 'issued', ref: await issueIrreversible(c, a, approval.id) };
    if (a.kind === 'custom-rule') {
      // Checked again against the rules as they are now: another rule may have taken the id meanwhile.
      return { outcome: 'issued', ref: (await saveCustomRule(c, { name: a.name, yaml: a.yaml }, a.replaces)).ruleId };
    }
    await c.execute(accessDecider, a.userId, { kind: 'set', roles: a.roles, source: 'manual', scope: 'tenant' });
    return { outcome: 'issued', ref: a.userId };
  } catch (err) {
    if (err instanceof StkError && err.code !== 'STK_ERR_INTERNAL' && err.code !== 'STK_ERR_UNAVAILABLE' && err.code !== 'STK_ERR_LOG_UNAVAILABLE')
      return { outcome: 'refused', ref: err.code };
    throw err;
  }
}

function decision(kind: 'approve' | 'reject'): TenantRouteDef {
  return tenantRoute({
    method: 'POST',
    url: `${TENANT_PREFIX}/approvals/:approvalId/${kind}`,
    permission: 'approvals.decide',
    area: 'approvals',
    summary:
      kind === 'approve'
        ? 'Approve a four-eyes request of another person (never your own, not from another session or token of yours); the action is issued at once'
        : 'Reject a four-eyes request of another person',
    params: { ...TENANT_PARAM, approvalId: ID },
    ...(kind === 'reject' ? { body: { properties: { reason: text(500) }, required: ['reason'] } } : {}),
    handler: async (c: TenantContext<{ reason?: string }, unknown, { approvalId: string }>) => {
      const approval = await mustGet<ApprovalDoc>(c, 'approvals', c.params.approvalId);
      const by = personOf(c.principal);
      const now = new Date().toISOString();
      if (kind === 'approve') {
        // The second person must be entitled to the action itself, not only to approving.
        const needed = permissionFor(approval.action);
        if (!permissionsOn(c.principal, c.tenant).has(needed))
          throw new StkError('STK_ERR_FORBIDDEN', `approving this needs the permission ${needed}`, { context: needed });
        if (approval.action.kind === 'access') checkGrantable(c.principal, c.tenant, approval.action.roles);
      }
      const command = kind === 'approve' ? { kind: 'approve' as const, by, now } : { kind: 'reject' as const, by, reason: c.body.reason ?? '', now };
      let r = await c.execute(approvalDecider, approval.id, command);
      if (kind === 'approve') {
        const result = await issue(c, approval);
        // An offboarding recorded its execution itself, before the tenant's last entry; its read models are gone.
        if (approval.action.kind === 'offboard' && result.outcome === 'issued') return { ...approval, status: 'executed', result };
        r = await c.execute(approvalDecider, approval.id, { kind: 'record-execution', result });
      }
      const consistencyToken = await c.settle(r.position);
      return { ...(await viewOf(approvalNames)((await c.store.get('approvals', approval.id)) ?? approval, c)), consistencyToken };
    },
  });
}

const approvalNames = withActorNames({ people: ['requester', 'decidedBy'] });

/** Four-eyes requests of a customer and the decisions on them. */
export const approvalRoutes: TenantRouteDef[] = [
  listRoute('approvals', 'approvals', { status: oneOf(['pending', 'approved', 'rejected', 'executed']) }, (d) => d, {
    decorate: approvalNames,
    returns: ACTOR_NAMES_DOC,
  }),
  getRoute('approvals', 'approvals', 'approvalId', viewOf(approvalNames), undefined, ACTOR_NAMES_DOC),
  decision('approve'),
  decision('reject'),
];

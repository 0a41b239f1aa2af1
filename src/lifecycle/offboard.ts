import { agentDecider } from '../../commands/agents/decider.ts';
import { AGENT } from '../../commands/agents/events.ts';
import { privacyDecider } from '../../commands/privacy/decider.ts';
import { tenantDecider } from '../../commands/tenants/decider.ts';
import { tokenDecider } from '../../commands/tokens/decider.ts';
import { TOKEN } from '../../commands/tokens/events.ts';
import { fold, notFound } from '../domain/decider.ts';
import type { Actor } from '../domain/events.ts';
import type { RetentionKind } from '../domain/personal.ts';
import { derivedIds, execute } from '../domain/execute.ts';
import { StkError } from '../errors.ts';
import { parseTenantCheckpoint } from '../ledger/checkpoint.ts';
import { LEDGER_STREAM, blockSignedText, checkpointSubject, ledgerSubject, parseBlock } from '../ledger/format.ts';
import { tenantFilter, type EventLog, type EventEnvelope } from '../log/mod.ts';
import type { KeyStore } from '../privacy/keystore.ts';
import { PACKAGES_STREAM, packagesTenantFilter } from '../patch/packages.ts';
import { TELEMETRY_STREAM, telemetryTenantFilter } from '../telemetry/stream.ts';
import type { RetentionTarget } from './retention.ts';

/** Aggregate id of an offboarding's key destruction: one per tenant, ever. */
export const OFFBOARDING_ID = 'offboarding';

/**
 * The proof of what existed: the signed head of the tenant's chain at its last entry (the
 * `tenant.deleted` event), as the sealer signed it — verifiable with the ledger's public key and
 * the documented `stk-block/2` text alone (it signs the head and the tree root) — and the
 * tenant's checkpoint that covers it (a C2SP note, cosigned by the witnesses where they are
 * configured), when one was written within the wait.
 */
export interface FinalCheckpoint {
  tenant: string;
  height: number;
  head: string;
  block: { index: number; keyId: string; sealedAt: string; signedText: string; sig: string };
  /** The tenant's first checkpoint that covers this height: when it was stored, its size, and the note itself. */
  checkpoint: { at: string; size: number; note: string } | null;
}

export interface Offboarded {
  tenant: string;
  agentsRevoked: number;
  tokensRevoked: number;
  keysDestroyed: number;
  /** Items removed from stores outside EVENTS, by kind (telemetry messages, evidence objects). */
  removed: Partial<Record<RetentionKind, number>>;
  /** Position of `tenant.deleted`, the last entry of the tenant's chain. */
  position: number;
  finalCheckpoint: FinalCheckpoint | null;
}

/** The aggregates of one type under a tenant, folded: for revoking everything the tenant holds. */
async function aggregatesOf<S>(log: EventLog, tenant: string, type: string, evolve: (s: S, e: EventEnvelope) => S, initial: () => S): Promise<Map<string, S>> {
  const states = new Map<string, S>();
  await log.scanRecords({ filter: `${tenantFilter(tenant).slice(0, -1)}${type}.*` }, (r) => {
    let s = states.get(r.aggregate.id) ?? initial();
    for (const e of r.events) s = evolve(s, e);
    states.set(r.aggregate.id, s);
  });
  return states;
}

/**
 * Offboards a customer. In order, each step idempotent so a repeated request finishes what a crash
 * left: the tenant is suspended (nothing new enrolls or runs), every agent revoked, every token
 * revoked, the destruction of every key recorded and done (the tenant key becomes a tombstone, so
 * nothing personal can ever be written for it again), and `tenant.deleted` appended as the last
 * entry of its chain — the projectors remove its read models when they apply it, and its id is
 * reserved forever. Its telemetry (and what `targets` hold) is removed. Other tenants are never
 * read or written. The export comes before (`stockade tenant export`), the final checkpoint after.
 */
export async function offboardTenant(o: {
  log: EventLog;
  keys: KeyStore | null;
  tenant: string;
  actor: Actor;
  targets?: readonly RetentionTarget[];
  /** How long to wait for the sealer to sign the last entry. @defaultValue 30000 */
  sealWaitMs?: number;
  /** Runs just before `tenant.deleted`: what must still be recorded in the tenant's chain (an approval's execution). */
  beforeDeleted?: () => Promise<void>;
}): Promise<Offboarded> {
  const { log, tenant, actor } = o;
  const stream = { tenant, aggregateType: tenantDecider.aggregateType, aggregateId: tenant };
  const state = fold(tenantDecider, (await log.readAggregate(stream)).events);
  if (!state.exists && !state.deleted) throw notFound('tenant', tenant);
  if (state.deleted) throw new StkError('STK_ERR_TENANT_DELETED', 'the tenant is already offboarded', { tenant });
  const ids = (step: string) => derivedIds(tenant, 'offboarding', step);
  await execute(log, { tenant, id: tenant }, tenantDecider, { kind: 'suspend', reason: 'offboarding' }, { actor });

  let agentsRevoked = 0;
  const agents = await aggregatesOf(log, tenant, AGENT, agentDecider.evolve, agentDecider.initialState);
  for (const [id, s] of agents) {
    if (!s.exists || s.revoked) continue;
    await execute(log, { tenant, id }, agentDecider, { kind: 'revoke', reason: 'the tenant was offboarded' }, { actor, eventIds: ids(`agent/${id}`) });
    agentsRevoked++;
  }
  const tokensRevoked = await revokeTokens(log, tenant, actor, ids);

  let keyIds: string[] = [];
  if (o.keys) {
    const all = await Promise.all((['events', 'evidence', 'scan-items', 'telemetry'] as const).map((k) => o.keys!.keysOfKind(tenant, k)));
    keyIds = all
      .flat()
      .map((k) => k.keyId)
      .sort();
  }
  await execute(
    log,
    { tenant, id: OFFBOARDING_ID },
    privacyDecider,
    { kind: 'record-destruction', destruction: { reason: 'offboarding', keyIds, tenantKey: true } },
    { actor, known: 'new', idempotent: true, eventIds: ids('keys') },
  );
  // The tombstone keeps the key ids, so a restore of an older backup records the same destruction again.
  if (o.keys) await o.keys.destroyTenant(tenant, keyIds);

  const removed: Partial<Record<RetentionKind, number>> = { telemetry: await log.streams.purge(TELEMETRY_STREAM, telemetryTenantFilter(tenant)) };
  // The hosts' package lists, which the patch inventories point at (none when the stream does not exist).
  await log.streams.purge(PACKAGES_STREAM, packagesTenantFilter(tenant));
  // Stores outside EVENTS (evidence bytes, scan items) lose everything the tenant stored.
  for (const t of o.targets ?? []) {
    if (t.kind === 'telemetry') continue;
    removed[t.kind] = (removed[t.kind] ?? 0) + (t.destroy ? await t.destroy(tenant) : await t.remove(tenant, new Date(8.64e15)));
  }

  await o.beforeDeleted?.();
  const deleted = await execute(
    log,
    { tenant, id: tenant },
    tenantDecider,
    { kind: 'delete', deletion: { agentsRevoked, tokensRevoked, destructionId: OFFBOARDING_ID } },
    { actor, eventIds: ids('deleted') },
  );
  const finalCheckpoint = await finalCheckpointOf(log, tenant, deleted.position, o.sealWaitMs ?? 30_000);
  return { tenant, agentsRevoked, tokensRevoked, keysDestroyed: keyIds.length, removed, position: deleted.position, finalCheckpoint };
}

/** What a restore recorded again of an offboarding. */
export interface OffboardingRecordedAgain {
  /** The tenant's chain ends with `tenant.deleted` again (false: it already did, or the restored log never knew the tenant). */
  recorded: boolean;
  tokensRevoked: number;
}

/**
 * Records an offboarding again in a log restored from a backup made before it, from what the key
 * store kept (the tenant key's tombstone): the tokens revoked, the key destruction and
 * `tenant.deleted`, with the ids the offboarding derived, so nothing is recorded twice and the
 * tenant does not come back alive. Agents are not revoked again: a revocation's reason is sealed,
 * and the tenant key it needs is gone; `tenant.deleted` makes the ingress refuse them all the same.
 */
export async function recordOffboardingAgain(
  log: EventLog,
  tenant: string,
  o: { keyIds: readonly string[]; at: string; actor: Actor },
): Promise<OffboardingRecordedAgain> {
  const state = fold(tenantDecider, (await log.readAggregate({ tenant, aggregateType: tenantDecider.aggregateType, aggregateId: tenant })).events);
  if (!state.exists || state.deleted) return { recorded: false, tokensRevoked: 0 };
  const { actor } = o;
  const ids = (step: string) => derivedIds(tenant, 'offboarding', step);
  const tokensRevoked = await revokeTokens(log, tenant, actor, ids);
  await execute(
    log,
    { tenant, id: OFFBOARDING_ID },
    privacyDecider,
    { kind: 'record-destruction', destruction: { reason: 'offboarding', keyIds: [...o.keyIds], tenantKey: true, firstRecordedAt: o.at } },
    { actor, known: 'new', idempotent: true, eventIds: ids('keys') },
  );
  await execute(
    log,
    { tenant, id: tenant },
    tenantDecider,
    { kind: 'delete', deletion: { agentsRevoked: 0, tokensRevoked, destructionId: OFFBOARDING_ID } },
    { actor, eventIds: ids('deleted') },
  );
  return { recorded: true, tokensRevoked };
}

/**
 * Waits (bounded) until the sealer has signed the tenant's chain up to `position`, and returns that
 * signed head; null when no sealer signed it within `waitMs` (read it later from LEDGER: the block
 * is kept forever, the stream denies deletes).
 */
export async function finalCheckpointOf(log: EventLog, tenant: string, position: number, waitMs: number): Promise<FinalCheckpoint | null> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const m = await log.streams.last(LEDGER_STREAM, ledgerSubject(tenant));
    const b = m ? parseBlock(m.data, { tenant, ledgerSeq: m.seq }) : null;
    if (b && b.lastSeq >= position) {
      let checkpoint: FinalCheckpoint['checkpoint'] = null;
      // The tenant's checkpoint that covers the head, if the sealer writes one within the wait.
      while (!checkpoint) {
        const cpm = await log.streams.last(LEDGER_STREAM, checkpointSubject(tenant));
        const c = cpm ? parseTenantCheckpoint(new TextDecoder().decode(cpm.data)) : null;
        if (cpm && c?.tenant === tenant && c.size >= b.lastHeight) checkpoint = { at: cpm.time.toISOString(), size: c.size, note: c.note };
        else if (Date.now() >= deadline) break;
        else await new Promise((r) => setTimeout(r, 100));
      }
      return {
        tenant,
        height: b.lastHeight,
        head: b.head,
        block: { index: b.index, keyId: b.keyId, sealedAt: b.sealedAt, signedText: blockSignedText(b), sig: b.sig },
        checkpoint,
      };
    }
    if (Date.now() >= deadline) return null;
    // Polled: the sealer signs within its block window (250 ms by default); nothing notifies a reader.
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Revokes every live API token of the tenant, each under its offboarding-derived event ids; returns how many. */
async function revokeTokens(log: EventLog, tenant: string, actor: Actor, ids: (step: string) => ReturnType<typeof derivedIds>): Promise<number> {
  let n = 0;
  const tokens = await aggregatesOf(log, tenant, TOKEN, tokenDecider.evolve, tokenDecider.initialState);
  for (const [id, s] of tokens) {
    if (!s.exists || s.revoked) continue;
    await execute(log, { tenant, id }, tokenDecider, { kind: 'revoke' }, { actor, eventIds: ids(`token/${id}`) });
    n++;
  }
  return n;
}

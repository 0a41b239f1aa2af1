import { agentCommandDecider } from '../../commands/agent-commands/decider.ts';
import { COMMAND, CommandEvents, type CommandDispatched } from '../../commands/agent-commands/events.ts';
import { patchHostDecider, patchJobDecider, type PatchHostState, patchSettingsDecider } from '../../commands/patch/decider.ts';
import {
  type HostComplianceFact,
  type InventoryRecorded,
  type JobRecorded,
  PATCH_HOST,
  PATCH_SETTINGS,
  PatchEvents,
  type PendingUpgradeFact,
} from '../../commands/patch/events.ts';
import {
  type AvailabilityState,
  diffPatchFindings,
  hostCompliance,
  type PatchFinding,
  patchFindings,
  patchKey,
  trackAvailability,
} from '../agent/patch/compliance.ts';
import type { PatchInventory } from '../agent/patch/inventory.ts';
import { fold } from '../domain/decider.ts';
import type { Actor } from '../domain/events.ts';
import { derivedIds, execute } from '../domain/execute.ts';
import { writeFindings } from '../domain/finding-writes.ts';
import { StkError } from '../errors.ts';
import type { EventLog } from '../log/mod.ts';
import { packageTuples, storePackageList } from './packages.ts';

/** Warnings of an inventory kept in its event. */
const WARNINGS_KEPT = 10;

/** What recording an inventory did. */
export interface InventoryOutcome {
  /** False when an inventory taken at or after this one is already recorded (nothing was written). */
  recorded: boolean;
  position: number;
  compliance: HostComplianceFact | null;
  findings: { open: number; opened: number; remediated: Array<{ key: string; reason: string }> };
}

/** The finding aggregate of a missing update on one host: keys repeat across hosts, so the agent is part of the id. */
export function patchFindingId(tenant: string, agentId: string, key: string): string {
  return derivedIds(tenant, agentId, key, 'patch-finding')(0);
}

/**
 * Records one inventory of an agent's host (the schema checked it already): evaluates its
 * compliance with the tenant's threshold at `now`, keeping when each update was first known to be
 * available across inventories; records `patch.inventory-recorded` (carrying the installed
 * packages only when they changed); then keeps one finding per missing security update on this
 * host — observed, reported the first time, remediated (with the reason: installed, superseded,
 * no longer offered) when the inventory no longer lists it. An inventory taken at or before the
 * last recorded one writes nothing. Works from the event log alone (the ingress has no read models).
 */
export async function recordInventory(
  log: EventLog,
  agent: { tenant: string; agentId: string },
  inv: PatchInventory,
  o: { now: Date; commandId?: string | null; actor?: Actor },
): Promise<InventoryOutcome> {
  const { tenant, agentId } = agent;
  const actor = o.actor ?? { kind: 'agent', id: agentId };
  const settings = fold(patchSettingsDecider, (await log.readAggregate({ tenant, aggregateType: PATCH_SETTINGS, aggregateId: tenant })).events);
  // The last inventory holds the whole state the next one is compared with: one read, however long the history.
  const last = await log.lastCommit({ tenant, aggregateType: PATCH_HOST, aggregateId: agentId });
  const lastEvent = [...(last?.events ?? [])].reverse().find((e) => e.type === PatchEvents.inventoryRecorded);
  const state: PatchHostState = lastEvent ? patchHostDecider.evolve(patchHostDecider.initialState(), lastEvent) : patchHostDecider.initialState();
  const none: InventoryOutcome = { recorded: false, position: 0, compliance: null, findings: { open: state.openKeys.length, opened: 0, remediated: [] } };
  if (state.takenAt !== null && Date.parse(inv.takenAt) <= Date.parse(state.takenAt)) return none;

  const previous: AvailabilityState = { firstSeen: Object.fromEntries(state.pending.map((p) => [p.key, p.availableSince])) };
  const availability = trackAvailability(previous, inv);
  const c = hostCompliance(inv, availability, o.now, { thresholdDays: settings.thresholdDays });
  const next = patchFindings(c);
  const before: PatchFinding[] = state.pending
    .filter((p) => p.security)
    .map((p) => ({
      dedupKey: p.key,
      product: 'patch',
      title: '',
      severity: 'medium',
      subject: p.package,
      details: {
        package: p.package,
        architecture: p.architecture,
        from: p.from,
        to: p.to,
        cves: p.cves,
        availableSince: p.availableSince,
        ageDays: 0,
        overThreshold: false,
      },
      observedAt: '',
    }));
  const diff = diffPatchFindings(before, next, inv);

  const list = packageTuples(inv);
  // The list is stored (again) only when it changed; the event names it by hash and sequence.
  const packagesSeq =
    list.sha256 === state.packagesSha256 && state.packagesSeq > 0 ? state.packagesSeq : await storePackageList(log.streams, tenant, agentId, list);
  const pending: PendingUpgradeFact[] = inv.upgrades.map((u) => {
    const key = patchKey(u);
    return {
      key,
      package: u.package,
      architecture: u.architecture,
      from: u.from,
      to: u.to,
      security: u.security,
      cves: u.cves,
      keptBack: u.keptBack,
      availableSince: availability.firstSeen[key] ?? inv.takenAt,
    };
  });
  const nowPending = new Set(pending.map((p) => p.package));
  const compliance: HostComplianceFact = {
    thresholdDays: c.thresholdDays,
    evaluatedAt: c.evaluatedAt,
    missingSecurity: c.missingSecurity.length,
    overThreshold: c.overThreshold,
    oldestAgeDays: c.oldestAgeDays,
    pendingTotal: c.pendingTotal,
    rebootRequired: c.rebootRequired,
    compliant: c.compliant,
  };
  const recorded: InventoryRecorded = {
    takenAt: inv.takenAt,
    os: inv.os,
    listsRefreshed: inv.listsRefreshed,
    warnings: inv.warnings.slice(0, WARNINGS_KEPT),
    warningCount: inv.warnings.length,
    reboot: inv.reboot,
    packagesSha256: list.sha256,
    packagesSeq,
    packageCount: list.tuples.length,
    pending,
    cleared: [...new Set(state.pending.map((p) => p.package))].filter((p) => !nowPending.has(p)).sort(),
    compliance,
    openKeys: next.map((f) => f.dedupKey).sort(),
    commandId: o.commandId ?? null,
  };
  const r = await execute(
    log,
    { tenant, id: agentId },
    patchHostDecider,
    { kind: 'record', inventory: recorded },
    { actor, known: last ? { version: last.version, state } : 'new', eventIds: derivedIds(tenant, agentId, inv.takenAt, 'inventory') },
  );
  if (r.events.length === 0) return none;

  // The answer's position covers the findings too: a read that waits for it sees them.
  const found = await writeFindings(log, {
    tenant,
    actor,
    observed: next.map((f) => ({
      id: patchFindingId(tenant, agentId, f.dedupKey),
      finding: {
        agentId,
        product: 'patch' as const,
        title: f.title,
        severity: f.severity,
        subject: f.subject,
        details: f.details,
        observedAt: inv.takenAt,
        key: f.dedupKey,
      },
      ref: `inventory ${inv.takenAt}`,
      eventIds: derivedIds(tenant, agentId, inv.takenAt, f.dedupKey, 'observe'),
    })),
    resolved: diff.remediated.map(({ finding, reason }) => ({
      id: patchFindingId(tenant, agentId, finding.dedupKey),
      reason: `not listed by the inventory of ${inv.takenAt}: ${reason}`,
      eventIds: derivedIds(tenant, agentId, inv.takenAt, finding.dedupKey, 'resolve'),
    })),
  });
  const position = Math.max(r.position, found);
  return {
    recorded: true,
    position,
    compliance,
    findings: { open: next.length, opened: diff.opened.length, remediated: diff.remediated.map((x) => ({ key: x.finding.dedupKey, reason: x.reason })) },
  };
}

/**
 * Records the result of an install-patches job: the command must be this agent's install-patches
 * command (another agent's, or another action, is "not found", like a missing one).
 */
export async function recordJob(
  log: EventLog,
  agent: { tenant: string; agentId: string },
  commandId: string,
  job: Omit<JobRecorded, 'agentId'>,
): Promise<{ position: number; duplicate: boolean }> {
  const cmd = await log.readAggregate({ tenant: agent.tenant, aggregateType: COMMAND, aggregateId: commandId });
  const dispatched = cmd.events.find((e) => e.type === CommandEvents.dispatched)?.data as CommandDispatched | undefined;
  const s = fold(agentCommandDecider, cmd.events);
  if (!dispatched || s.agentId !== agent.agentId || dispatched.action !== 'install-patches')
    throw new StkError('STK_ERR_NOT_FOUND', 'not found', { id: commandId });
  const r = await execute(
    log,
    { tenant: agent.tenant, id: commandId },
    patchJobDecider,
    { kind: 'record', job: { ...job, agentId: agent.agentId } },
    { actor: { kind: 'agent', id: agent.agentId }, eventIds: derivedIds(agent.tenant, commandId, 'job') },
  );
  return { position: r.position, duplicate: r.events.length === 0 };
}

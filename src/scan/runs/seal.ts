import { asmSettingsDecider, scanScopeDecider, type ScopeState } from '../../../commands/attack-surface/decider.ts';
import { ASM_SETTINGS, SCAN_SCOPE, type ScopeAdvanced } from '../../../commands/attack-surface/events.ts';
import { type ScanFold, scanDecider } from '../../../commands/scans/decider.ts';
import { SCAN, type PortSpec, type RunDiff, type ScanCompleted, ScanEvents, type ServiceFact } from '../../../commands/scans/events.ts';
import { fold } from '../../domain/decider.ts';
import type { Actor } from '../../domain/events.ts';
import { derivedIds, execute } from '../../domain/execute.ts';
import { writeFindings } from '../../domain/finding-writes.ts';
import { isStkError, StkError } from '../../errors.ts';
import type { EventLog } from '../../log/mod.ts';
import { merkleRoot } from '../../merkle/mod.ts';
import type { ScanFinding } from '../findings.ts';
import { compareItems, type ScanItem } from '../items.ts';
import { judgeRun, remediatedKeys } from './diff.ts';
import { findingIdOf, scopeIdOf } from './ids.ts';
import { completeRun, readRunItems } from './items.ts';

/** What sealing a run needs besides its stored items. */
export interface SealRequest {
  tenant: string;
  /** The run's `scan` aggregate id. */
  runId: string;
  source: 'agent' | 'scanner';
  /** The agent that scanned, or `scanner`. */
  agentId: string;
  commandId: string | null;
  targets: string[];
  ports: PortSpec[];
  count: number;
  /** The root the scanner computed; sealing refuses when the stored items hash to another. */
  merkleRoot?: string;
  startedAt: string;
  finishedAt: string;
  aborted: boolean;
  services?: ServiceFact[];
  actor: Actor;
}

/** A sealed run. */
export interface Sealed {
  runId: string;
  count: number;
  merkleRoot: string;
  /** EVENTS position of the last commit the seal wrote — its `scan.completed` or a finding after it (0 when it was sealed before). */
  position: number;
  /** The run was sealed before this call (a retry): nothing new was written. */
  duplicate: boolean;
  diff: RunDiff;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/**
 * Seals a run whose items are in SCANS: reads them back, checks they are complete (0…count-1),
 * in the defined order, and hash to the root the scanner claims; judges them against the previous
 * run of the scope (findings, the diff); advances the scope, records `scan.completed` with the root
 * and count (which the ledger seals), then keeps one finding per exposure key: observed, reported
 * the first time, reopened if it had been remediated, remediated when no longer seen.
 *
 * Every step is safe to repeat: a retry after a crash finds the scope already advanced by this run
 * (and the keys it was judged against in that event), the run recorded, the findings' events under
 * ids derived from the run. Nothing is written before every check has passed.
 */
export async function sealRun(log: EventLog, r: SealRequest): Promise<Sealed> {
  const runStream = { tenant: r.tenant, aggregateType: SCAN, aggregateId: r.runId };
  const head = await log.readAggregate(runStream);
  const state: ScanFold = fold(scanDecider, head.events);
  const done = head.events.find((e) => e.type === ScanEvents.completed)?.data as ScanCompleted | undefined;
  if (done) {
    if ((r.merkleRoot !== undefined && r.merkleRoot !== done.merkleRoot) || r.count !== done.itemCount)
      throw new StkError('STK_ERR_SCAN_RUN_CONFLICT', 'this run was sealed with other items', { expected: done.merkleRoot, actual: r.merkleRoot ?? null });
    return { runId: r.runId, count: done.itemCount, merkleRoot: done.merkleRoot, position: 0, duplicate: true, diff: done.diff ?? emptyDiff() };
  }
  if (state.status === 'refused') throw new StkError('STK_ERR_INVALID_TRANSITION', 'this scan was refused', { actual: 'refused' });

  const stored = await readRunItems(log, r.tenant, r.runId);
  if (stored.span > r.count)
    throw new StkError('STK_ERR_SCAN_RUN_CONFLICT', `items up to index ${stored.span - 1} are stored, more than the ${r.count} sealed`, {
      expected: r.count,
      actual: stored.span,
    });
  const run = completeRun(stored, r.count);
  if (!run) throw new StkError('STK_ERR_SCAN_RUN_INCOMPLETE', 'items of this run are missing', { expected: r.count, actual: stored.byIndex.size });
  for (let i = 1; i < run.items.length; i++) {
    if (compareItems(run.items[i - 1]!, run.items[i]!) > 0)
      throw new StkError('STK_ERR_SCAN_ROOT_MISMATCH', `items ${i - 1} and ${i} are not in the defined order (target, address, port)`, { field: `items/${i}` });
  }
  const root = hex(merkleRoot(run.leaves));
  if (r.merkleRoot !== undefined && r.merkleRoot !== root)
    throw new StkError('STK_ERR_SCAN_ROOT_MISMATCH', 'the Merkle root is not the root of the stored items', { expected: root, actual: r.merkleRoot });

  const settings = fold(asmSettingsDecider, (await log.readAggregate({ tenant: r.tenant, aggregateType: ASM_SETTINGS, aggregateId: r.tenant })).events);
  const scopeId = scopeIdOf(r.tenant, r.agentId, r.targets);
  const scopeStream = { tenant: r.tenant, aggregateType: SCAN_SCOPE, aggregateId: scopeId };
  let judged: ReturnType<typeof judgeRun>;
  let previous: { runId: string | null; openKeys: string[] };
  for (let attempt = 1; ; attempt++) {
    const last = await log.lastCommit(scopeStream);
    const event = last?.events.at(-1);
    const at = event?.data as ScopeAdvanced | undefined;
    const scope: ScopeState = { lastRunId: at?.runId ?? null, openKeys: at?.openKeys ?? [] };
    // This run advanced the scope already (a retry after a crash): judge it as it was judged then.
    previous = at?.runId === r.runId ? { runId: at.previousRunId, openKeys: at.previousOpenKeys } : { runId: scope.lastRunId, openKeys: scope.openKeys };
    const previousItems = previous.runId ? await itemsOf(log, r.tenant, previous.runId) : null;
    judged = judgeRun(
      run.items,
      { items: previousItems, openKeys: previous.openKeys },
      { now: new Date(r.startedAt), expiryWarningDays: settings.expiryWarningDays },
    );
    if (at?.runId === r.runId) break;
    const advance: ScopeAdvanced = {
      runId: r.runId,
      previousRunId: previous.runId,
      openKeys: judged.openKeys,
      previousOpenKeys: previous.openKeys,
    };
    try {
      await execute(
        log,
        { tenant: r.tenant, id: scopeId },
        scanScopeDecider,
        { kind: 'advance', advance },
        {
          actor: r.actor,
          known: last ? { version: last.version, state: scope } : 'new',
          eventIds: derivedIds(r.tenant, r.runId, 'scope'),
        },
      );
      break;
    } catch (err) {
      // Another run of this scope was sealed meanwhile: judge against it instead.
      if (!isStkError(err, 'STK_ERR_LOG_VERSION_CONFLICT') || attempt >= 5) throw err;
    }
  }

  const completed: ScanCompleted = {
    agentId: r.agentId,
    product: 'attack-surface',
    merkleRoot: root,
    itemCount: r.count,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    source: r.source,
    commandId: r.commandId,
    targets: r.targets,
    ports: r.ports,
    scopeId,
    previousRunId: previous.runId,
    firstSeq: run.firstSeq,
    lastSeq: run.lastSeq,
    aborted: r.aborted,
    counts: judged.counts,
    diff: judged.diff,
    ...(r.services ? { services: r.services } : {}),
  };
  const rec = await execute(
    log,
    { tenant: r.tenant, id: r.runId },
    scanDecider,
    { kind: 'record', scan: completed },
    {
      actor: r.actor,
      known: { version: head.version, state },
      eventIds: derivedIds(r.tenant, r.runId, 'completed'),
    },
  );
  const found = await keepFindings(log, r, judged.findings, remediatedKeys(previous.openKeys, judged));
  return { runId: r.runId, count: r.count, merkleRoot: root, position: Math.max(rec.position, found), duplicate: false, diff: judged.diff };
}

/** A sealed run's items, or null when it was never sealed or retention dropped some of them. */
export async function itemsOf(log: EventLog, tenant: string, runId: string): Promise<ScanItem[] | null> {
  const last = await log.lastCommit({ tenant, aggregateType: SCAN, aggregateId: runId });
  const done = last?.events.find((e) => e.type === ScanEvents.completed)?.data as ScanCompleted | undefined;
  if (!done || done.firstSeq === undefined) return null;
  const stored = await readRunItems(log, tenant, runId, { fromSeq: done.firstSeq, ...(done.lastSeq ? { toSeq: done.lastSeq } : {}) });
  return completeRun(stored, done.itemCount)?.items ?? null;
}

function keepFindings(log: EventLog, r: SealRequest, findings: ScanFinding[], remediated: string[]): Promise<number> {
  return writeFindings(log, {
    tenant: r.tenant,
    actor: r.actor,
    observed: findings.map((f) => ({
      id: findingIdOf(r.tenant, f.key),
      finding: {
        agentId: r.agentId,
        product: 'attack-surface' as const,
        title: f.title,
        severity: f.severity,
        subject: f.subject,
        details: { kind: f.kind, target: f.target, address: f.address, port: f.port, ...f.details },
        observedAt: r.startedAt,
        key: f.key,
      },
      ref: r.runId,
      eventIds: derivedIds(r.runId, f.key, 'observe'),
    })),
    // A key open in the scope whose finding was never written (a crash in between) has nothing to remediate.
    resolved: remediated.map((key) => ({
      id: findingIdOf(r.tenant, key),
      reason: `not seen by scan run ${r.runId}`,
      eventIds: derivedIds(r.runId, key, 'resolve'),
    })),
  });
}

function emptyDiff(): RunDiff {
  return { opened: [], closed: [], findings: { new: [], stillOpen: [], remediated: [], unobserved: [] }, truncated: false };
}

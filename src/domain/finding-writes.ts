import { findingDecider } from '../../commands/findings/decider.ts';
import type { FindingReported } from '../../commands/findings/events.ts';
import { isStkError } from '../errors.ts';
import type { EventLog } from '../log/mod.ts';
import type { Actor } from './events.ts';
import { execute } from './execute.ts';

/** Findings written at once, as most: each is its own aggregate, so their commits do not conflict. */
const FINDING_WRITERS = 8;

/** A finding a scan or an inventory saw (opened, or seen again). */
export interface ObservedFinding {
  id: string;
  finding: FindingReported & { key: string };
  ref: string;
  eventIds: (i: number) => string;
}

/** A finding a scan or an inventory no longer sees. */
export interface ResolvedFinding {
  id: string;
  reason: string;
  eventIds: (i: number) => string;
}

/**
 * Writes what a scan or an inventory found, `FINDING_WRITERS` commits at a time: findings observed
 * and findings resolved (one never written — a crash before it was — has nothing to resolve).
 * Returns the EVENTS position of the last commit written (0 when none changed anything), so the
 * request's consistency token covers its findings, not only the commit it wrote before them.
 */
export async function writeFindings(
  log: EventLog,
  o: { tenant: string; actor: Actor; observed: ObservedFinding[]; resolved: ResolvedFinding[] },
): Promise<number> {
  let position = 0;
  const jobs: Array<() => Promise<void>> = [];
  for (const f of o.observed) {
    jobs.push(async () => {
      const r = await execute(
        log,
        { tenant: o.tenant, id: f.id },
        findingDecider,
        { kind: 'observe', finding: f.finding, ref: f.ref },
        { actor: o.actor, eventIds: f.eventIds },
      );
      position = Math.max(position, r.position);
    });
  }
  for (const f of o.resolved) {
    jobs.push(async () => {
      try {
        const r = await execute(
          log,
          { tenant: o.tenant, id: f.id },
          findingDecider,
          { kind: 'resolve', reason: f.reason },
          { actor: o.actor, eventIds: f.eventIds },
        );
        position = Math.max(position, r.position);
      } catch (err) {
        if (!isStkError(err, 'STK_ERR_NOT_FOUND')) throw err;
      }
    });
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: FINDING_WRITERS }, async () => {
      while (next < jobs.length) await jobs[next++]!();
    }),
  );
  return position;
}

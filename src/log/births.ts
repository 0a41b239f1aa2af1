import { hash } from 'node:crypto';
import { isValidId } from '../ids.ts';
import type { StreamId } from './envelope.ts';

/**
 * Aggregates born inside another aggregate's commit.
 *
 * A report creates several aggregates at once (alerts, findings, scan runs…) next to the agent's
 * own heartbeat. Writing each in a commit of its own costs a JetStream message (and a filter
 * evaluation per consumer) each; instead they are *born* inside the agent's commit: one message
 * on the agent's subject carries the agent's events and the first events of every new aggregate.
 * Every later change of a born aggregate is an ordinary commit on its own subject.
 *
 * The index that finds a birth is the born aggregate's id itself:
 * `<parentType>_<parentId>_<hint>_<hash>` — the parent whose commit holds the birth, a lower bound
 * of the time it was stored (seconds since the epoch, base 36), and 48 bits of a hash that makes
 * the id unique within the commit. A reader scans the parent's subject from the hint (one ordered
 * consumer, usually one or two records), and from its start if the hint was wrong (a clock
 * step, a stream restored into a new one, whose records all carry the time of the restore). No
 * global stream position goes into the id: ids are shown to tenants, positions never are.
 */

/** How far before "now" the hint is put: covers the drift between this host's clock and the stream's. */
export const BIRTH_HINT_MARGIN_MS = 5 * 60_000;

const BORN = /^([a-z][a-z0-9-]{0,31})_([A-Za-z0-9_-]+)_([0-9a-z]{1,9})_([0-9a-f]{12})$/;

/** The id of an aggregate born in a commit of `parent`; `seed` tells it apart from the others born there. */
export function bornId(parent: Pick<StreamId, 'aggregateType' | 'aggregateId'>, nowMs: number, seed: string): string {
  const hint = Math.max(0, Math.floor((nowMs - BIRTH_HINT_MARGIN_MS) / 1000)).toString(36);
  const digest = hash('sha256', seed, 'hex').slice(0, 12);
  const id = `${parent.aggregateType}_${parent.aggregateId}_${hint}_${digest}`;
  // A parent id too long for the pattern cannot have births (the caller writes separate commits).
  return isValidId('token', id) ? id : '';
}

/** Where the birth of `aggregateId` is to be looked for; null when the id is not of a born aggregate. */
export function birthPlace(aggregateId: string): { parentType: string; parentId: string; notBeforeMs: number } | null {
  const m = BORN.exec(aggregateId);
  if (!m || !isValidId('token', m[2])) return null;
  return { parentType: m[1]!, parentId: m[2]!, notBeforeMs: Number.parseInt(m[3]!, 36) * 1000 };
}

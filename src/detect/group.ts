/**
 * Alert grouping, pure: the same rule on the same host (and the same values of the rule's groupBy
 * fields) within the rule's window updates one alert — a count and a last-seen time — instead of
 * raising another. The window is fixed from the group's first match, so activity that goes on
 * raises one alert per window rather than one alert forever. Time comes in as data.
 */
import { createHash } from 'node:crypto';
import { StkError } from '../errors.ts';

/** What the detector keeps per alert group (in its store, by `key`). */
export interface AlertGroup {
  key: string;
  ruleId: string;
  host: string;
  groupValues: readonly (string | null)[];
  firstSeenMs: number;
  lastSeenMs: number;
  count: number;
  /** The group's alert was acknowledged or resolved: the next match starts a new alert. */
  closed: boolean;
}

/** The part of a match grouping needs, plus the host it was seen on (an agent id). */
export interface GroupInput {
  ruleId: string;
  host: string;
  groupValues: readonly (string | null)[];
  windowMs: number;
}

export type GroupDecision = { action: 'raise'; group: AlertGroup } | { action: 'update'; group: AlertGroup };

/**
 * The group key of (rule, host, groupBy values): SHA-256 of their JSON, base64url — 43
 * characters, token-safe (src/ids.ts), so it can name an aggregate or a KV entry.
 */
export function groupKey(ruleId: string, host: string, groupValues: readonly (string | null)[]): string {
  return createHash('sha256')
    .update(JSON.stringify([ruleId, host, groupValues]))
    .digest('base64url');
}

/**
 * Decides whether a match seen at `nowMs` raises a new alert or updates `state`, the group's
 * current record (undefined when the group has none yet); returns the group's next record.
 */
export function groupMatch(state: AlertGroup | undefined, match: GroupInput, nowMs: number): GroupDecision {
  const key = groupKey(match.ruleId, match.host, match.groupValues);
  if (state && state.key !== key) throw new StkError('STK_ERR_INTERNAL', 'alert group state given for another group', { expected: key, actual: state.key });
  if (!state || state.closed || nowMs >= state.firstSeenMs + match.windowMs) {
    return {
      action: 'raise',
      group: { key, ruleId: match.ruleId, host: match.host, groupValues: match.groupValues, firstSeenMs: nowMs, lastSeenMs: nowMs, count: 1, closed: false },
    };
  }
  // A late match (from a backlog) counts but never moves last-seen backwards.
  return { action: 'update', group: { ...state, count: state.count + 1, lastSeenMs: Math.max(state.lastSeenMs, nowMs) } };
}

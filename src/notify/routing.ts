import { quietUntil } from './quiet-hours.ts';
import { type Routing, SEVERITIES, type Severity } from './settings.ts';

/** What a channel does with an alert group's state at one moment. */
export type RouteDecision =
  | { action: 'send' }
  /** Quiet hours: ask again at `until`, with the group's state as it is then. */
  | { action: 'hold'; until: Date }
  | { action: 'skip'; reason: 'disabled' | 'below-severity' | 'no-threshold-crossed' };

/** The part of an alert group that routing looks at. */
export interface GroupProgress {
  severity: Severity;
  /** Occurrences so far. */
  count: number;
  /** The count this channel was last told about; 0 when it was never told. */
  notifiedCount: number;
}

/** Ranks severities: low 0 … critical 3. */
export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/**
 * True when the group deserves a message: it is new to the channel (never told), or its count has
 * reached a threshold it had not reached when the channel was last told. Counts that move within
 * one band (11 → 57 with thresholds 10, 100) say nothing new.
 */
export function crossesThreshold(notifiedCount: number, count: number, thresholds: readonly number[]): boolean {
  if (count <= notifiedCount) return false;
  if (notifiedCount === 0) return true;
  return thresholds.some((t) => notifiedCount < t && t <= count);
}

/**
 * Decides, for one channel at `now`, whether an alert group's state is sent, held for the end of
 * quiet hours, or skipped. Critical alerts pass through quiet hours; everything else is held and
 * then decided again (so a group that grew during the night is sent once, with its count then).
 */
export function routeAlert(routing: Routing, enabled: boolean, group: GroupProgress, now: Date): RouteDecision {
  if (!enabled) return { action: 'skip', reason: 'disabled' };
  if (severityRank(group.severity) < severityRank(routing.minSeverity)) return { action: 'skip', reason: 'below-severity' };
  if (!crossesThreshold(group.notifiedCount, group.count, routing.thresholds)) return { action: 'skip', reason: 'no-threshold-crossed' };
  if (group.severity !== 'critical') {
    const until = quietUntil(now, routing.quietHours);
    if (until) return { action: 'hold', until };
  }
  return { action: 'send' };
}

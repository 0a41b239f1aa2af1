import { accept, invalidTransition, notFound, refuse, type Decider } from '../../src/domain/decider.ts';
import { StkError } from '../../src/errors.ts';
import { ALERT, AlertEvents as E, type AlertOccurred, type AlertRaised, type EvidenceStream } from './events.ts';

export type AlertStatus = 'none' | 'open' | 'acknowledged' | 'resolved';

/** A detector alert's group as the alert itself knows it: the window, the count, what it has counted. */
export interface AlertGroupState {
  firstSeenMs: number;
  windowMs: number;
  count: number;
  lastSeenMs: number;
  /** Highest sequence counted per stream: a match at or below it was counted already (a replay). */
  lastSeq: Partial<Record<EvidenceStream, number>>;
}

export interface AlertState {
  status: AlertStatus;
  group: AlertGroupState | null;
}

/** A match the detector asks an alert to count: its stream sequence and time, and a TELEMETRY item's id (`<batch>:<index>`). */
export interface MatchRef {
  seq: number;
  atMs: number;
  item?: string;
}

export type AlertCommand =
  | { kind: 'raise'; alert: AlertRaised }
  /** The detector raises an alert for a group; `alert.detection` is required. */
  | { kind: 'detect'; alert: AlertRaised }
  /** The detector counts more matches of the alert's group, in stream order. */
  | { kind: 'occur'; stream: EvidenceStream; matches: MatchRef[] }
  | { kind: 'acknowledge' }
  | { kind: 'resolve'; reason: string };

/** The `actual` of the refusal when a match falls after the alert's window: the detector raises the next alert. */
export const WINDOW_ENDED = 'window-ended';

const maxSeq = (refs: readonly { seq: number }[]): number => refs.reduce((m, r) => Math.max(m, r.seq), 0);

/**
 * Alerts. A detector alert is one alert group (same rule, same host, same group values) within a
 * window fixed from its first match: `occur` counts further matches until the alert is closed
 * (acknowledged or resolved) or the window has ended, and those refusals tell the detector to
 * raise the next alert. A match is counted once: the alert keeps the highest sequence it counted
 * per stream, so a detector that replays its input after a crash adds nothing.
 */
export const alertDecider: Decider<AlertState, AlertCommand> = {
  aggregateType: ALERT,
  initialState: () => ({ status: 'none', group: null }),
  evolve(s, e) {
    switch (e.type) {
      case E.raised: {
        const d = (e.data as AlertRaised).detection;
        if (!d) return { status: 'open', group: null };
        const stream = d.refs[0]?.stream ?? 'TELEMETRY';
        return {
          status: 'open',
          group: {
            firstSeenMs: Date.parse(d.firstSeenAt),
            windowMs: d.windowMs,
            count: d.refs.length,
            lastSeenMs: Date.parse(d.lastSeenAt),
            lastSeq: { [stream]: maxSeq(d.refs) },
          },
        };
      }
      case E.occurred: {
        if (!s.group) return s;
        const d = e.data as AlertOccurred;
        const last = Math.max(s.group.lastSeq[d.stream] ?? 0, ...d.seqs);
        return {
          ...s,
          group: {
            ...s.group,
            count: d.count,
            lastSeenMs: Math.max(s.group.lastSeenMs, Date.parse(d.lastSeenAt)),
            lastSeq: { ...s.group.lastSeq, [d.stream]: last },
          },
        };
      }
      case E.acknowledged:
        return { ...s, status: 'acknowledged' };
      case E.resolved:
        return { ...s, status: 'resolved' };
      default:
        return s;
    }
  },
  decide(c, s) {
    if (c.kind === 'raise' || c.kind === 'detect') {
      if (c.kind === 'detect' && (!c.alert.detection || c.alert.detection.refs.length === 0)) {
        return refuse(new StkError('STK_ERR_VALIDATION', 'a detector alert carries its detection and at least one match', { field: 'detection' }));
      }
      return s.status === 'none' ? accept({ type: E.raised, data: c.alert }) : refuse(invalidTransition('alert', s.status, 'raise it again'));
    }
    if (s.status === 'none') return refuse(notFound('alert', ''));
    if (c.kind === 'occur') return decideOccur(c, s);
    if (c.kind === 'acknowledge') {
      if (s.status === 'acknowledged') return accept();
      return s.status === 'open' ? accept({ type: E.acknowledged, data: {} }) : refuse(invalidTransition('alert', s.status, 'acknowledge'));
    }
    return s.status === 'resolved' ? refuse(invalidTransition('alert', s.status, 'resolve')) : accept({ type: E.resolved, data: { reason: c.reason } });
  },
};

function decideOccur(c: Extract<AlertCommand, { kind: 'occur' }>, s: AlertState) {
  const g = s.group;
  if (!g) return refuse(invalidTransition('alert', 'not a detector alert', 'count a match'));
  const counted = g.lastSeq[c.stream] ?? 0;
  const fresh = c.matches.filter((m) => m.seq > counted);
  // Already counted: a replay after a crash, whatever happened to the alert since.
  if (fresh.length === 0) return accept();
  if (s.status !== 'open') return refuse(invalidTransition('alert', s.status, 'count a match'));
  if (fresh.some((m) => m.atMs >= g.firstSeenMs + g.windowMs)) return refuse(invalidTransition('alert', WINDOW_ENDED, 'count a match after its window'));
  const data: AlertOccurred = {
    stream: c.stream,
    seqs: fresh.map((m) => m.seq),
    ...(fresh.every((m) => m.item !== undefined) ? { items: fresh.map((m) => m.item!) } : {}),
    count: g.count + fresh.length,
    lastSeenAt: new Date(Math.max(g.lastSeenMs, ...fresh.map((m) => m.atMs))).toISOString(),
  };
  return accept({ type: E.occurred, data });
}

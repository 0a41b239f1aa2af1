import { accept, invalidTransition, notFound, refuse, type Decider } from '../../src/domain/decider.ts';
import { FINDING, FindingEvents as E, type FindingObserved, type FindingReported, type FindingState, type FindingStateChanged } from './events.ts';

export interface FindingFold {
  exists: boolean;
  state: FindingState;
}

export type FindingCommand =
  | { kind: 'report'; finding: FindingReported }
  | ({ kind: 'triage' } & FindingStateChanged)
  /** A scan or an inventory sees the exposure of `finding.key` (again). */
  | { kind: 'observe'; finding: FindingReported & { key: string }; ref: string }
  /** A scan or an inventory no longer sees it. */
  | { kind: 'resolve'; reason: string };

/**
 * open → accepted-risk | remediated | false-positive; a triaged finding can be re-triaged. A keyed
 * finding is also kept by its observers: observed again (reported the first time), remediated by
 * the system when it is no longer seen — only while open: an operator's accepted-risk or
 * false-positive stays as they set it — and reopened when a remediated exposure comes back.
 */
export const findingDecider: Decider<FindingFold, FindingCommand> = {
  aggregateType: FINDING,
  initialState: () => ({ exists: false, state: 'open' }),
  evolve(s, e) {
    if (e.type === E.reported) return { exists: true, state: 'open' };
    if (e.type === E.stateChanged) return { ...s, state: (e.data as FindingStateChanged).state };
    if (e.type === E.reopened) return { ...s, state: 'open' };
    return s;
  },
  decide(c, s) {
    if (c.kind === 'report') return s.exists ? refuse(invalidTransition('finding', s.state, 'report it again')) : accept({ type: E.reported, data: c.finding });
    if (c.kind === 'observe') {
      if (!s.exists) return accept({ type: E.reported, data: c.finding });
      const seen: FindingObserved = {
        observedAt: c.finding.observedAt,
        ref: c.ref,
        title: c.finding.title,
        severity: c.finding.severity,
        details: c.finding.details ?? {},
      };
      return accept({ type: s.state === 'remediated' ? E.reopened : E.observed, data: seen });
    }
    if (!s.exists) return refuse(notFound('finding', ''));
    if (c.kind === 'resolve') return s.state === 'open' ? accept({ type: E.stateChanged, data: { state: 'remediated', reason: c.reason } }) : accept();
    if (s.state === c.state) return refuse(invalidTransition('finding', s.state, `set it to ${c.state}`));
    return accept({ type: E.stateChanged, data: { state: c.state, reason: c.reason } });
  },
};

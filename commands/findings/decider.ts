import { accept, invalidTransition, notFound, refuse, type Decider } from '../../src/domain/decider.ts';
import { FINDING, FindingEvents as E, type FindingReported, type FindingState, type FindingStateChanged } from './events.ts';

export interface FindingFold {
  exists: boolean;
  state: FindingState;
}

export type FindingCommand = { kind: 'report'; finding: FindingReported } | ({ kind: 'triage' } & FindingStateChanged);

/** open → accepted-risk | remediated | false-positive; a triaged finding can be re-triaged, never reopened. */
export const findingDecider: Decider<FindingFold, FindingCommand> = {
  aggregateType: FINDING,
  initialState: () => ({ exists: false, state: 'open' }),
  evolve(s, e) {
    if (e.type === E.reported) return { exists: true, state: 'open' };
    if (e.type === E.stateChanged) return { ...s, state: (e.data as FindingStateChanged).state };
    return s;
  },
  decide(c, s) {
    if (c.kind === 'report') return s.exists ? refuse(invalidTransition('finding', s.state, 'report it again')) : accept({ type: E.reported, data: c.finding });
    if (!s.exists) return refuse(notFound('finding', ''));
    if (s.state === c.state) return refuse(invalidTransition('finding', s.state, `set it to ${c.state}`));
    return accept({ type: E.stateChanged, data: { state: c.state, reason: c.reason } });
  },
};

import { suite } from 'uvu';
import { findingDecider } from './decider.ts';
import { FindingEvents as E } from './events.ts';
import { ev, spec } from '../../test/helpers/spec.ts';

const test = suite('findings decider');
const reported = ev(E.reported, { agentId: 'a', product: 'patch', title: 't', severity: 'low', subject: 's', observedAt: 'x' });

test('open → accepted-risk | remediated | false-positive, each with its reason; the same state twice is refused', () => {
  for (const state of ['accepted-risk', 'remediated', 'false-positive'] as const) {
    spec(findingDecider)
      .given([reported])
      .when({ kind: 'triage', state, reason: 'why' })
      .then([E.stateChanged], [{ state, reason: 'why' }]);
  }
  spec(findingDecider)
    .given([reported, ev(E.stateChanged, { state: 'remediated', reason: 'x' })])
    .when({ kind: 'triage', state: 'remediated', reason: 'x' })
    .refused('STK_ERR_INVALID_TRANSITION');
  spec(findingDecider).given([]).when({ kind: 'triage', state: 'remediated', reason: 'x' }).refused('STK_ERR_NOT_FOUND');
});

test.run();

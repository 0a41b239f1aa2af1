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

test('a keyed finding: reported when first observed, observed again, remediated by the system only while open, reopened when it comes back', () => {
  const finding = {
    agentId: 'scanner',
    product: 'attack-surface' as const,
    title: 't',
    severity: 'low' as const,
    subject: 's',
    observedAt: 'x',
    key: 'asm:198.51.100.7:22:new-open-port',
  };
  const observe = { kind: 'observe' as const, finding, ref: 'run1' };
  spec(findingDecider).given([]).when(observe).then([E.reported], [finding]);
  const reportedK = ev(E.reported, finding);
  spec(findingDecider)
    .given([reportedK])
    .when({ ...observe, finding: { ...finding, severity: 'high' } })
    .then([E.observed], [{ observedAt: 'x', ref: 'run1', title: 't', severity: 'high', details: {} }]);
  spec(findingDecider)
    .given([reportedK])
    .when({ kind: 'resolve', reason: 'gone' })
    .then([E.stateChanged], [{ state: 'remediated', reason: 'gone' }]);
  const remediated = ev(E.stateChanged, { state: 'remediated', reason: 'gone' });
  spec(findingDecider).given([reportedK, remediated]).when(observe).then([E.reopened]);
  spec(findingDecider).given([reportedK, remediated]).when({ kind: 'resolve', reason: 'gone' }).then([]);
  // An operator's judgement stands: a false positive is observed, never remediated or reopened by a scan.
  const fp = ev(E.stateChanged, { state: 'false-positive', reason: 'lab box' });
  spec(findingDecider).given([reportedK, fp]).when({ kind: 'resolve', reason: 'gone' }).then([]);
  spec(findingDecider).given([reportedK, fp]).when(observe).then([E.observed]);
  spec(findingDecider).given([]).when({ kind: 'resolve', reason: 'gone' }).refused('STK_ERR_NOT_FOUND');
  spec(findingDecider)
    .given([reportedK, remediated, ev(E.reopened, {})])
    .when({ kind: 'triage', state: 'accepted-risk', reason: 'r' })
    .then([E.stateChanged]);
});

test.run();

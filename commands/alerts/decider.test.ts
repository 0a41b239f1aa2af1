import { suite } from 'uvu';
import { alertDecider } from './decider.ts';
import { AlertEvents as E } from './events.ts';
import { ev, spec } from '../../test/helpers/spec.ts';

const test = suite('alerts decider');
const raised = ev(E.raised, { agentId: 'a', product: null, rule: 'r', severity: 'high', title: 't', observedAt: 'x' });

test('raise once; acknowledge open alerts (again is a no-op); resolve with a reason once', () => {
  spec(alertDecider)
    .given([])
    .when({ kind: 'raise', alert: raised.data as never })
    .then([E.raised]);
  spec(alertDecider)
    .given([raised])
    .when({ kind: 'raise', alert: raised.data as never })
    .refused('STK_ERR_INVALID_TRANSITION');
  spec(alertDecider).given([raised]).when({ kind: 'acknowledge' }).then([E.acknowledged]);
  spec(alertDecider)
    .given([raised, ev(E.acknowledged)])
    .when({ kind: 'acknowledge' })
    .then([]);
  spec(alertDecider)
    .given([raised, ev(E.acknowledged)])
    .when({ kind: 'resolve', reason: 'benign' })
    .then([E.resolved], [{ reason: 'benign' }]);
  spec(alertDecider)
    .given([raised, ev(E.resolved, { reason: 'x' })])
    .when({ kind: 'acknowledge' })
    .refused('STK_ERR_INVALID_TRANSITION');
  spec(alertDecider)
    .given([raised, ev(E.resolved, { reason: 'x' })])
    .when({ kind: 'resolve', reason: 'x' })
    .refused('STK_ERR_INVALID_TRANSITION');
  spec(alertDecider).given([]).when({ kind: 'acknowledge' }).refused('STK_ERR_NOT_FOUND');
});

test.run();

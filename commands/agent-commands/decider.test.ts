import { suite } from 'uvu';
import { agentCommandDecider } from './decider.ts';
import { CommandEvents as E } from './events.ts';
import { ev, spec } from '../../test/helpers/spec.ts';

const test = suite('agent commands decider');
const dispatched = ev(E.dispatched, { agentId: 'ag1', action: 'ping', args: {} });

test('only the addressed agent can take or answer a command; another agent finds nothing', () => {
  spec(agentCommandDecider).given([dispatched]).when({ kind: 'deliver', agentId: 'ag1' }).then([E.delivered]);
  spec(agentCommandDecider).given([dispatched]).when({ kind: 'deliver', agentId: 'ag2' }).refused('STK_ERR_NOT_FOUND');
  spec(agentCommandDecider).given([dispatched]).when({ kind: 'complete', agentId: 'ag2', outcome: 'succeeded', output: '' }).refused('STK_ERR_NOT_FOUND');
  spec(agentCommandDecider)
    .given([dispatched, ev(E.delivered)])
    .when({ kind: 'complete', agentId: 'ag1', outcome: 'failed', output: 'no' })
    .then([E.completed]);
  spec(agentCommandDecider)
    .given([dispatched, ev(E.completed, { outcome: 'failed', output: '' })])
    .when({ kind: 'complete', agentId: 'ag1', outcome: 'failed', output: '' })
    .refused('STK_ERR_INVALID_TRANSITION');
});

test.run();

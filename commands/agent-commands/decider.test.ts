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

test('a dispatch is refused when its product is off, the tenant suspended or the agent revoked', () => {
  const command = { agentId: 'ag1', action: 'isolate-host', args: {} };
  const ok = { products: ['edr'] as const, suspended: false, agentStatus: 'active' as const };
  spec(agentCommandDecider).given([]).when({ kind: 'dispatch', command, context: ok }).then([E.dispatched]);
  spec(agentCommandDecider)
    .given([])
    .when({ kind: 'dispatch', command, context: { ...ok, products: [] } })
    .refused('STK_ERR_PRODUCT_DISABLED');
  spec(agentCommandDecider)
    .given([])
    .when({ kind: 'dispatch', command, context: { ...ok, suspended: true } })
    .refused('STK_ERR_TENANT_SUSPENDED');
  spec(agentCommandDecider)
    .given([])
    .when({ kind: 'dispatch', command, context: { ...ok, agentStatus: 'revoked' } })
    .refused('STK_ERR_AGENT_REVOKED');
  spec(agentCommandDecider)
    .given([])
    .when({ kind: 'dispatch', command: { ...command, action: 'ping' }, context: { ...ok, products: [] } })
    .then([E.dispatched]);
});

test('cancel while the agent has not pulled it; after that, a pull takes nothing and a result is refused', () => {
  spec(agentCommandDecider)
    .given([dispatched])
    .when({ kind: 'cancel', reason: 'wrong host' })
    .then([E.cancelled], [{ reason: 'wrong host' }]);
  spec(agentCommandDecider)
    .given([dispatched, ev(E.delivered)])
    .when({ kind: 'cancel', reason: '' })
    .refused('STK_ERR_INVALID_TRANSITION');
  spec(agentCommandDecider)
    .given([dispatched, ev(E.completed, { outcome: 'succeeded', output: '' })])
    .when({ kind: 'cancel', reason: '' })
    .refused('STK_ERR_INVALID_TRANSITION');
  spec(agentCommandDecider).given([]).when({ kind: 'cancel', reason: '' }).refused('STK_ERR_NOT_FOUND');
  const cancelled = ev(E.cancelled, { reason: '' });
  spec(agentCommandDecider).given([dispatched, cancelled]).when({ kind: 'cancel', reason: '' }).refused('STK_ERR_INVALID_TRANSITION');
  spec(agentCommandDecider).given([dispatched, cancelled]).when({ kind: 'deliver', agentId: 'ag1' }).then([]);
  spec(agentCommandDecider)
    .given([dispatched, cancelled])
    .when({ kind: 'complete', agentId: 'ag1', outcome: 'succeeded', output: '' })
    .refused('STK_ERR_INVALID_TRANSITION');
  spec(agentCommandDecider).given([dispatched, cancelled]).when({ kind: 'deliver', agentId: 'ag2' }).refused('STK_ERR_NOT_FOUND');
});

test.run();

import { suite } from 'uvu';
import { ev, spec } from '../../test/helpers/spec.ts';
import { machineDecider } from './decider.ts';
import { MachineEvents as E } from './events.ts';

const test = suite('machines decider');

test('block, block again (nothing), lift, lift again (not found)', () => {
  spec(machineDecider)
    .given([])
    .when({ kind: 'block', agentId: 'ag1' })
    .then([E.blocked], [{ agentId: 'ag1' }]);
  const blocked = [ev(E.blocked, { agentId: 'ag1' })];
  spec(machineDecider).given(blocked).when({ kind: 'block', agentId: 'ag2' }).then([]);
  spec(machineDecider)
    .given(blocked)
    .when({ kind: 'unblock' })
    .then([E.unblocked], [{ agentId: 'ag1' }]);
  spec(machineDecider)
    .given([...blocked, ev(E.unblocked, { agentId: 'ag1' })])
    .when({ kind: 'unblock' })
    .refused('STK_ERR_NOT_FOUND');
  spec(machineDecider).given([]).when({ kind: 'unblock' }).refused('STK_ERR_NOT_FOUND');
  spec(machineDecider)
    .given([...blocked, ev(E.unblocked, { agentId: 'ag1' })])
    .when({ kind: 'block', agentId: 'ag3' })
    .then([E.blocked]);
});

test.run();

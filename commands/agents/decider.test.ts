import { suite } from 'uvu';
import { agentDecider } from './decider.ts';
import { AgentEvents as E } from './events.ts';
import { ev, spec } from '../../test/helpers/spec.ts';

const test = suite('agents decider');
const enrolled = ev(E.enrolled, { hostname: 'h', os: 'linux', agentVersion: '1', certFingerprint: 'f', certNotAfter: 'x' });

test('a revoked agent stays revoked: no heartbeat, no renewal; revoking again changes nothing', () => {
  spec(agentDecider).given([enrolled]).when({ kind: 'heartbeat', heartbeat: {} }).then([E.heartbeat]);
  spec(agentDecider).given([enrolled]).when({ kind: 'revoke', reason: 'lost' }).then([E.revoked]);
  spec(agentDecider)
    .given([enrolled, ev(E.revoked, { reason: 'x' })])
    .when({ kind: 'heartbeat', heartbeat: {} })
    .refused('STK_ERR_INVALID_TRANSITION');
  spec(agentDecider)
    .given([enrolled, ev(E.revoked, { reason: 'x' })])
    .when({ kind: 'renew', certificate: { certFingerprint: 'g', certNotAfter: 'y' } })
    .refused('STK_ERR_INVALID_TRANSITION');
  spec(agentDecider)
    .given([enrolled, ev(E.revoked, { reason: 'x' })])
    .when({ kind: 'revoke', reason: 'x' })
    .then([]);
  spec(agentDecider).given([]).when({ kind: 'revoke', reason: 'x' }).refused('STK_ERR_NOT_FOUND');
});

test.run();

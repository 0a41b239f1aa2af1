import { suite } from 'uvu';
import { evidenceDecider } from './decider.ts';
import { EvidenceEvents as E } from './events.ts';
import { ev, spec } from '../../test/helpers/spec.ts';

const test = suite('evidence decider: chain of custody');
const collected = ev(E.collected, { agentId: 'ag', name: 'm.dmp', sha256: 'c'.repeat(64), sizeBytes: 1, collectedAt: 'x' });

test('custody moves from holder to holder and ends at the seal', () => {
  spec(evidenceDecider)
    .given([collected])
    .when({ kind: 'transfer', to: 'lab', note: '' })
    .then([E.transferred], [{ from: 'agent:ag', to: 'lab', note: '' }]);
  spec(evidenceDecider)
    .given([collected, ev(E.transferred, { from: 'agent:ag', to: 'lab', note: '' })])
    .when({ kind: 'transfer', to: 'lab', note: '' })
    .refused('STK_ERR_INVALID_TRANSITION');
  spec(evidenceDecider).given([collected]).when({ kind: 'seal', by: 'ana', note: '' }).then([E.sealed]);
  spec(evidenceDecider)
    .given([collected, ev(E.sealed, { by: 'x', note: '' })])
    .when({ kind: 'transfer', to: 'lab', note: '' })
    .refused('STK_ERR_INVALID_TRANSITION');
  spec(evidenceDecider).given([]).when({ kind: 'seal', by: 'x', note: '' }).refused('STK_ERR_NOT_FOUND');
});

test.run();

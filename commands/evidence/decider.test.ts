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

test('uploaded evidence starts its custody in the object store; downloads are recorded even once sealed', () => {
  const stored = {
    agentId: 'ag',
    name: '/etc/x',
    sha256: 'c'.repeat(64),
    sizeBytes: 1,
    collectedAt: 'x',
    commandId: 'cmd',
    stored: { bucket: 'stk-evidence-t', object: 'ev' },
  };
  spec(evidenceDecider)
    .given([])
    .when({ kind: 'collect', evidence: stored })
    .then(
      [E.collected, E.transferred],
      [stored, { from: 'agent:ag', to: 'object-store:stk-evidence-t', note: 'uploaded by the agent; SHA-256 checked by the ingress' }],
    );
  spec(evidenceDecider)
    .given([collected, ev(E.sealed, { by: 'x', note: '' })])
    .when({ kind: 'download', by: 'token:abc', sha256: 'c'.repeat(64), sizeBytes: 1 })
    .then([E.downloaded], [{ by: 'token:abc', sha256: 'c'.repeat(64), sizeBytes: 1 }]);
  spec(evidenceDecider)
    .given([])
    .when({ kind: 'download', by: 'x', sha256: 'c'.repeat(64), sizeBytes: 1 })
    .refused('STK_ERR_NOT_FOUND');
});

test.run();

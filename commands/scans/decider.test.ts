import { suite } from 'uvu';
import { scanDecider } from './decider.ts';
import { ScanEvents as E } from './events.ts';
import { ev, spec } from '../../test/helpers/spec.ts';

const test = suite('scans decider');

test('a scan run is recorded once with its Merkle root', () => {
  const scan = { agentId: 'a', product: 'attack-surface' as const, merkleRoot: 'b'.repeat(64), itemCount: 3, startedAt: 'x', finishedAt: 'y' };
  spec(scanDecider).given([]).when({ kind: 'record', scan }).then([E.completed], [scan]);
  spec(scanDecider)
    .given([ev(E.completed, scan)])
    .when({ kind: 'record', scan })
    .refused('STK_ERR_INVALID_TRANSITION');
});

test.run();

import { suite } from 'uvu';
import { scanDecider } from './decider.ts';
import { ScanEvents as E } from './events.ts';
import { ev, spec } from '../../test/helpers/spec.ts';

const test = suite('scans decider');
const scan = { agentId: 'a', product: 'attack-surface' as const, merkleRoot: 'b'.repeat(64), itemCount: 3, startedAt: 'x', finishedAt: 'y' };
const request = { source: 'scanner' as const, targets: ['198.51.100.7'], ports: [443], options: {} };

test('a scan run is recorded once with its Merkle root; the same root again is a retry, another root a conflict', () => {
  spec(scanDecider).given([]).when({ kind: 'record', scan }).then([E.completed], [scan]);
  spec(scanDecider)
    .given([ev(E.completed, scan)])
    .when({ kind: 'record', scan })
    .then([]);
  spec(scanDecider)
    .given([ev(E.completed, scan)])
    .when({ kind: 'record', scan: { ...scan, merkleRoot: 'c'.repeat(64) } })
    .refused('STK_ERR_SCAN_RUN_CONFLICT');
});

test('a server scan is requested, then refused or recorded; never both, never requested twice', () => {
  spec(scanDecider).given([]).when({ kind: 'request', request }).then([E.requested]);
  spec(scanDecider)
    .given([ev(E.requested, request)])
    .when({ kind: 'request', request })
    .refused('STK_ERR_INVALID_TRANSITION');
  const refusal = { code: 'STK_ERR_SCAN_TARGET_REFUSED', message: 'no', problems: [] };
  spec(scanDecider)
    .given([ev(E.requested, request)])
    .when({ kind: 'refuse', refusal })
    .then([E.refused]);
  spec(scanDecider)
    .given([ev(E.requested, request)])
    .when({ kind: 'record', scan })
    .then([E.completed]);
  spec(scanDecider)
    .given([ev(E.requested, request), ev(E.refused, refusal)])
    .when({ kind: 'record', scan })
    .refused('STK_ERR_INVALID_TRANSITION');
  spec(scanDecider)
    .given([ev(E.requested, request), ev(E.completed, scan)])
    .when({ kind: 'refuse', refusal })
    .refused('STK_ERR_INVALID_TRANSITION');
  spec(scanDecider).given([]).when({ kind: 'refuse', refusal }).refused('STK_ERR_INVALID_TRANSITION');
});

test.run();

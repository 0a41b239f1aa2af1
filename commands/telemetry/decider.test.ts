import { suite } from 'uvu';
import { ev, spec } from '../../test/helpers/spec.ts';
import { telemetryBatchDecider } from './decider.ts';
import { TelemetryEvents as E } from './events.ts';

const test = suite('telemetry batch decider');
const batch = { agentId: 'ag', batchId: 'b1', count: 3, merkleRoot: 'a'.repeat(64), firstSeq: 10, lastSeq: 14 };

test('a batch is received once; the same batch again writes nothing; other items under the same id are refused', () => {
  spec(telemetryBatchDecider).given([]).when({ kind: 'receive', batch }).then([E.batchReceived], [batch]);
  spec(telemetryBatchDecider)
    .given([ev(E.batchReceived, batch)])
    .when({ kind: 'receive', batch })
    .then([]);
  spec(telemetryBatchDecider)
    .given([ev(E.batchReceived, batch)])
    .when({ kind: 'receive', batch: { ...batch, merkleRoot: 'b'.repeat(64) } })
    .refused('STK_ERR_INVALID_TRANSITION');
});

test('impossible ranges are refused', () => {
  spec(telemetryBatchDecider)
    .given([])
    .when({ kind: 'receive', batch: { ...batch, firstSeq: 10, lastSeq: 11 } })
    .refused('STK_ERR_VALIDATION');
  spec(telemetryBatchDecider)
    .given([])
    .when({ kind: 'receive', batch: { ...batch, count: 0 } })
    .refused('STK_ERR_VALIDATION');
});

test.run();

import { suite } from 'uvu';
import { ev, spec } from '../../test/helpers/spec.ts';
import { telemetryBatchDecider } from './decider.ts';
import { TelemetryEvents as E } from './events.ts';

const test = suite('telemetry batch decider');
const batch = { agentId: 'ag', batchId: 'b1', count: 3, merkleRoot: 'a'.repeat(64) };

test('a batch is received once; the same batch again writes nothing (also after a schema-1 event); other items under the same id are refused', () => {
  spec(telemetryBatchDecider)
    .given([ev(E.batchReceived, { ...batch, firstSeq: 10, lastSeq: 14 })])
    .when({ kind: 'receive', batch })
    .then([]);
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

test('an empty batch, and a batch with stream positions (install-wide, never sealed again), are refused', () => {
  spec(telemetryBatchDecider)
    .given([])
    .when({ kind: 'receive', batch: { ...batch, firstSeq: 10, lastSeq: 14 } })
    .refused('STK_ERR_VALIDATION');
  spec(telemetryBatchDecider)
    .given([])
    .when({ kind: 'receive', batch: { ...batch, count: 0 } })
    .refused('STK_ERR_VALIDATION');
});

test.run();

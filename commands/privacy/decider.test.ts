import { suite } from 'uvu';
import { ev, spec } from '../../test/helpers/spec.ts';
import { privacyDecider } from './decider.ts';
import { PrivacyEvents as E } from './events.ts';

const test = suite('privacy decider');

test('an act of destruction is recorded once; a retried act records nothing', () => {
  const destruction = { reason: 'erasure' as const, keyIds: ['k1'], tenantKey: false };
  spec(privacyDecider).given([]).when({ kind: 'record-destruction', destruction }).then([E.keysDestroyed], [destruction]);
  spec(privacyDecider)
    .given([ev(E.keysDestroyed, destruction)])
    .when({ kind: 'record-destruction', destruction })
    .then([]);
});

test('an erasure of a subject without data is still recorded; retention and offboarding must name keys', () => {
  spec(privacyDecider)
    .given([])
    .when({ kind: 'record-destruction', destruction: { reason: 'erasure', keyIds: [], tenantKey: false } })
    .then([E.keysDestroyed]);
  spec(privacyDecider)
    .given([])
    .when({ kind: 'record-destruction', destruction: { reason: 'retention', keyIds: [], tenantKey: false } })
    .refused('STK_ERR_VALIDATION');
  spec(privacyDecider)
    .given([])
    .when({ kind: 'record-destruction', destruction: { reason: 'offboarding', keyIds: [], tenantKey: true } })
    .then([E.keysDestroyed]);
  spec(privacyDecider)
    .given([])
    .when({ kind: 'record-removal', removal: { kind: 'telemetry', cutoff: '2026-01-01T00:00:00.000Z', items: 3 } })
    .then([E.dataRemoved]);
});

test.run();

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ev, spec } from '../../test/helpers/spec.ts';
import { deliveryDecider } from './decider.ts';
import { type DeliveryAttempted, DeliveryEvents as E, type DeliveryQueued } from './events.ts';

const test = suite('deliveries decider');
const queued: DeliveryQueued = {
  alertId: 'a',
  channelId: 'c',
  channelKind: 'webhook',
  channelName: 'SOC',
  recipients: ['hooks.example.com'],
  group: {
    tenant: 't',
    alertId: 'a',
    ruleId: 'r',
    ruleVersion: 'v',
    title: 'x',
    severity: 'high',
    attack: [],
    host: 'h',
    count: 1,
    firstSeen: '2026-01-01T00:00:00.000Z',
    lastSeen: '2026-01-01T00:00:00.000Z',
  },
  notifiedCount: 0,
};
const attempt = (n: number, o: Partial<DeliveryAttempted> = {}): DeliveryAttempted => ({
  attempt: n,
  at: '2026-01-01T00:00:00.000Z',
  outcome: 'retryable',
  reason: 'network',
  status: null,
  detail: 'ECONNREFUSED',
  retryAt: '2026-01-01T00:00:05.000Z',
  deadLetter: null,
  ...o,
});

test('queued once; attempts numbered in order; a replayed attempt records nothing', () => {
  spec(deliveryDecider).given([]).when({ kind: 'queue', delivery: queued }).then([E.queued]);
  spec(deliveryDecider)
    .given([ev(E.queued, queued)])
    .when({ kind: 'queue', delivery: queued })
    .refused('STK_ERR_INVALID_TRANSITION');
  spec(deliveryDecider)
    .given([ev(E.queued, queued)])
    .when({ kind: 'record-attempt', attempt: attempt(1) })
    .then([E.attempted]);
  spec(deliveryDecider)
    .given([ev(E.queued, queued), ev(E.attempted, attempt(1))])
    .when({ kind: 'record-attempt', attempt: attempt(1) })
    .then([]);
  spec(deliveryDecider)
    .given([ev(E.queued, queued)])
    .when({ kind: 'record-attempt', attempt: attempt(2) })
    .refused('STK_ERR_INVALID_TRANSITION');
  spec(deliveryDecider)
    .given([ev(E.queued, queued), ev(E.attempted, attempt(1, { outcome: 'delivered', retryAt: null }))])
    .when({ kind: 'record-attempt', attempt: attempt(2) })
    .refused('STK_ERR_INVALID_TRANSITION');
});

test('a dead letter can be sent back once: a fresh round that goes on numbering attempts', () => {
  const dead = [ev(E.queued, queued), ev(E.attempted, attempt(1, { outcome: 'permanent', retryAt: null, deadLetter: 'permanent-failure' }))];
  const s = dead.reduce(deliveryDecider.evolve, deliveryDecider.initialState());
  assert.is(s.status, 'dead-letter');
  spec(deliveryDecider).given(dead).when({ kind: 'requeue' }).then([E.requeued]);
  spec(deliveryDecider)
    .given([ev(E.queued, queued)])
    .when({ kind: 'requeue' })
    .refused('STK_ERR_INVALID_TRANSITION');
  const again = [...dead, ev(E.requeued)].reduce(deliveryDecider.evolve, deliveryDecider.initialState());
  assert.equal({ status: again.status, attempts: again.attempts, roundAttempts: again.roundAttempts }, { status: 'pending', attempts: 1, roundAttempts: 0 });
  spec(deliveryDecider)
    .given([...dead, ev(E.requeued)])
    .when({ kind: 'record-attempt', attempt: attempt(2, { outcome: 'delivered', retryAt: null }) })
    .then([E.attempted]);
  spec(deliveryDecider).given([]).when({ kind: 'requeue' }).refused('STK_ERR_NOT_FOUND');
});

test.run();

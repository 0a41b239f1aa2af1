import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { alertDecider, WINDOW_ENDED } from './decider.ts';
import { AlertEvents as E } from './events.ts';
import { ev, spec } from '../../test/helpers/spec.ts';

const test = suite('alerts decider');
const raised = ev(E.raised, { agentId: 'a', product: null, rule: 'r', severity: 'high', title: 't', observedAt: 'x' });

test('raise once; acknowledge open alerts (again is a no-op); resolve with a reason once', () => {
  spec(alertDecider)
    .given([])
    .when({ kind: 'raise', alert: raised.data as never })
    .then([E.raised]);
  spec(alertDecider)
    .given([raised])
    .when({ kind: 'raise', alert: raised.data as never })
    .refused('STK_ERR_INVALID_TRANSITION');
  spec(alertDecider).given([raised]).when({ kind: 'acknowledge' }).then([E.acknowledged]);
  spec(alertDecider)
    .given([raised, ev(E.acknowledged)])
    .when({ kind: 'acknowledge' })
    .then([]);
  spec(alertDecider)
    .given([raised, ev(E.acknowledged)])
    .when({ kind: 'resolve', reason: 'benign' })
    .then([E.resolved], [{ reason: 'benign' }]);
  spec(alertDecider)
    .given([raised, ev(E.resolved, { reason: 'x' })])
    .when({ kind: 'acknowledge' })
    .refused('STK_ERR_INVALID_TRANSITION');
  spec(alertDecider)
    .given([raised, ev(E.resolved, { reason: 'x' })])
    .when({ kind: 'resolve', reason: 'x' })
    .refused('STK_ERR_INVALID_TRANSITION');
  spec(alertDecider).given([]).when({ kind: 'acknowledge' }).refused('STK_ERR_NOT_FOUND');
});

test.run();

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const detected = (refs: { stream: 'TELEMETRY' | 'EVENTS'; seq: number }[] = [{ stream: 'TELEMETRY', seq: 10 }], windowMs = 3_600_000) =>
  ev(E.raised, {
    agentId: 'a',
    product: 'edr',
    rule: 'r1',
    severity: 'high',
    title: 't',
    observedAt: new Date(T0).toISOString(),
    detection: {
      ruleId: 'r1',
      ruleVersion: 'v',
      overrideVersion: null,
      attack: [],
      tags: [],
      logsource: 'linux/process_creation',
      hostname: 'h',
      groupKey: 'g',
      groupValues: [],
      windowMs,
      firstSeenAt: new Date(T0).toISOString(),
      lastSeenAt: new Date(T0).toISOString(),
      refs,
    },
  });

const grouping = suite('alerts decider: detector groups');

grouping('occur counts new matches only, with the count and last-seen; a replayed match adds nothing', () => {
  spec(alertDecider)
    .given([detected()])
    .when({
      kind: 'occur',
      stream: 'TELEMETRY',
      matches: [
        { seq: 11, atMs: T0 + 1000 },
        { seq: 12, atMs: T0 + 500 },
      ],
    })
    .then([E.occurred], [{ stream: 'TELEMETRY', seqs: [11, 12], count: 3, lastSeenAt: new Date(T0 + 1000).toISOString() }]);
  // Matches named by their telemetry items carry the names along, in the same order.
  spec(alertDecider)
    .given([detected()])
    .when({
      kind: 'occur',
      stream: 'TELEMETRY',
      matches: [
        { seq: 11, atMs: T0 + 1000, item: 'b1:0' },
        { seq: 12, atMs: T0 + 500, item: 'b1:1' },
      ],
    })
    .then([E.occurred], [{ stream: 'TELEMETRY', seqs: [11, 12], items: ['b1:0', 'b1:1'], count: 3, lastSeenAt: new Date(T0 + 1000).toISOString() }]);
  // 10 was counted by the raise, 11 by the first occurrence: only 12 is new.
  spec(alertDecider)
    .given([detected(), ev(E.occurred, { stream: 'TELEMETRY', seqs: [11], count: 2, lastSeenAt: new Date(T0 + 1000).toISOString() })])
    .when({
      kind: 'occur',
      stream: 'TELEMETRY',
      matches: [
        { seq: 10, atMs: T0 },
        { seq: 11, atMs: T0 },
        { seq: 12, atMs: T0 + 200 },
      ],
    })
    .then([E.occurred], [{ stream: 'TELEMETRY', seqs: [12], count: 3, lastSeenAt: new Date(T0 + 1000).toISOString() }]);
  spec(alertDecider)
    .given([detected()])
    .when({
      kind: 'occur',
      stream: 'TELEMETRY',
      matches: [
        { seq: 9, atMs: T0 },
        { seq: 10, atMs: T0 },
      ],
    })
    .then([]);
  // Sequences are per stream: EVENTS 5 is not TELEMETRY 5.
  spec(alertDecider)
    .given([detected([{ stream: 'EVENTS', seq: 4 }])])
    .when({ kind: 'occur', stream: 'TELEMETRY', matches: [{ seq: 3, atMs: T0 }] })
    .then([E.occurred]);
});

grouping('a closed alert or an ended window refuses new matches (the detector raises the next alert), but never a replay', () => {
  spec(alertDecider)
    .given([detected(), ev(E.acknowledged)])
    .when({ kind: 'occur', stream: 'TELEMETRY', matches: [{ seq: 11, atMs: T0 }] })
    .refused('STK_ERR_INVALID_TRANSITION');
  spec(alertDecider)
    .given([detected(), ev(E.resolved, { reason: 'x' })])
    .when({ kind: 'occur', stream: 'TELEMETRY', matches: [{ seq: 10, atMs: T0 }] })
    .then([]);
  const late = alertDecider.decide(
    { kind: 'occur', stream: 'TELEMETRY', matches: [{ seq: 11, atMs: T0 + 60_000 }] },
    [detected([{ stream: 'TELEMETRY', seq: 10 }], 60_000)].reduce(alertDecider.evolve, alertDecider.initialState()),
  );
  assert.ok(!late.ok && late.error.code === 'STK_ERR_INVALID_TRANSITION' && late.error.data.actual === WINDOW_ENDED);
  spec(alertDecider)
    .given([detected([{ stream: 'TELEMETRY', seq: 10 }], 60_000)])
    .when({ kind: 'occur', stream: 'TELEMETRY', matches: [{ seq: 11, atMs: T0 + 59_999 }] })
    .then([E.occurred]);
});

grouping('detect needs its detection and a match; raise-again and occur on a plain alert are refused', () => {
  spec(alertDecider)
    .given([])
    .when({ kind: 'detect', alert: { ...(raised.data as never as object), detection: undefined } as never })
    .refused('STK_ERR_VALIDATION');
  spec(alertDecider)
    .given([])
    .when({ kind: 'detect', alert: detected().data as never })
    .then([E.raised]);
  spec(alertDecider)
    .given([detected()])
    .when({ kind: 'detect', alert: detected().data as never })
    .refused('STK_ERR_INVALID_TRANSITION');
  spec(alertDecider)
    .given([raised])
    .when({ kind: 'occur', stream: 'TELEMETRY', matches: [{ seq: 1, atMs: T0 }] })
    .refused('STK_ERR_INVALID_TRANSITION');
  spec(alertDecider).given([]).when({ kind: 'occur', stream: 'TELEMETRY', matches: [] }).refused('STK_ERR_NOT_FOUND');
});

grouping.run();

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DELIVERY, DeliveryEvents as E } from '../../commands/deliveries/events.ts';
import { CHANNELS_ID, NOTIFY, NotifyEvents } from '../../commands/notify/events.ts';
import { channelsProjection } from '../channels/projection.ts';
import { event, run } from '../testing.ts';
import { deliveriesProjection } from './projection.ts';

const test = suite('projection: deliveries and channels');
const agg = (id: string) => ({ type: DELIVERY, id });
const queued = { alertId: 'a', channelId: 'c', channelKind: 'email', channelName: 'SOC', recipients: ['soc@example.com'], group: {}, notifiedCount: 0 };
const attempt = (n: number, o: object) => ({
  attempt: n,
  at: `2026-01-01T00:00:0${n}.000Z`,
  reason: null,
  status: null,
  detail: null,
  retryAt: null,
  deadLetter: null,
  ...o,
});

test('pending → retried → delivered; pending → dead letter → requeued', () => {
  const { docs } = run(deliveriesProjection, [
    event(E.queued, agg('d1'), queued),
    event(E.attempted, agg('d1'), attempt(1, { outcome: 'retryable', reason: 'smtp-reply', status: 451, retryAt: '2026-01-01T00:00:09.000Z' })),
    event(E.attempted, agg('d1'), attempt(2, { outcome: 'delivered', status: 250 })),
    event(E.queued, agg('d2'), queued),
    event(E.attempted, agg('d2'), attempt(1, { outcome: 'permanent', reason: 'smtp-reply', status: 550, deadLetter: 'permanent-failure' })),
    event(E.queued, agg('d3'), queued),
    event(E.attempted, agg('d3'), attempt(1, { outcome: 'permanent', deadLetter: 'permanent-failure' })),
    event(E.requeued, agg('d3'), {}, { actor: { kind: 'operator', id: 'token:x' } }),
  ]);
  const d1 = docs.get('t/deliveries/d1')!;
  assert.is(d1.status, 'delivered');
  assert.is(d1.attemptCount, 2);
  assert.is(d1.nextAttemptAt, null);
  assert.is(d1.deliveredAt, '2026-01-01T00:00:02.000Z');
  assert.is(docs.get('t/deliveries/d2')!.status, 'dead-letter');
  assert.is(docs.get('t/deliveries/d2')!.deadLetter, 'permanent-failure');
  const d3 = docs.get('t/deliveries/d3')!;
  assert.is(d3.status, 'pending');
  assert.is(d3.deadLetter, null);
  assert.is(d3.requeuedBy, 'operator:token:x');
});

test('channels: one document per channel, replaced keeps its creation, removed is gone', () => {
  const ch = (id: string, name: string) => ({
    channel: { id, tenant: 't', name, enabled: true, routing: {}, kind: 'webhook', settings: { host: 'h' }, sealed: 's' },
  });
  const a = { type: NOTIFY, id: CHANNELS_ID };
  const { docs } = run(channelsProjection, [
    event(NotifyEvents.channelSaved, a, ch('c1', 'one'), { at: '2026-01-01T00:00:01.000Z' }),
    event(NotifyEvents.channelSaved, a, ch('c2', 'two')),
    event(NotifyEvents.channelSaved, a, ch('c1', 'one again'), { at: '2026-01-01T00:00:05.000Z' }),
    event(NotifyEvents.channelRemoved, a, { channelId: 'c2' }),
  ]);
  const c1 = docs.get('t/channels/c1')!;
  assert.is(c1.name, 'one again');
  assert.is(c1.createdAt, '2026-01-01T00:00:01.000Z');
  assert.is(c1.updatedAt, '2026-01-01T00:00:05.000Z');
  assert.is(docs.get('t/channels/c2'), undefined);
});

test.run();

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type QuietHours, type Routing, crossesThreshold, quietUntil, routeAlert } from '../../src/notify/mod.ts';

const test = suite('notify: routing, thresholds and quiet hours');

const weeknights: QuietHours = { timeZone: 'Europe/Berlin', windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '22:00', end: '07:00' }] };
const until = (iso: string, q: QuietHours | null) => quietUntil(new Date(iso), q)?.toISOString() ?? null;

test('weeknight quiet hours in Europe/Berlin (summer time, UTC+2)', () => {
  // Tuesday 3 June 2025.
  assert.is(until('2025-06-03T21:30:00Z', weeknights), '2025-06-04T05:00:00.000Z', 'Tue 23:30 → Wed 07:00');
  assert.is(until('2025-06-03T04:59:00Z', weeknights), '2025-06-03T05:00:00.000Z', 'Tue 06:59 (from Mon 22:00) → Tue 07:00');
  assert.is(until('2025-06-03T05:00:00Z', weeknights), null, 'Tue 07:00 is the end, not inside');
  assert.is(until('2025-06-03T19:59:00Z', weeknights), null, 'Tue 21:59');
  assert.is(until('2025-06-03T20:00:00Z', weeknights), '2025-06-04T05:00:00.000Z', 'Tue 22:00 starts it');
  assert.is(until('2025-06-06T23:00:00Z', weeknights), '2025-06-07T05:00:00.000Z', 'Sat 01:00 (from Fri 22:00) → Sat 07:00');
  assert.is(until('2025-06-07T21:00:00Z', weeknights), null, 'Sat 23:00: Saturday is not listed');
  assert.is(until('2025-06-09T01:00:00Z', weeknights), null, 'Mon 03:00: the window would have started on Sunday, not listed');
  assert.is(until('2025-06-03T21:30:00Z', null), null);
});

test('windows that touch are followed to the end of the last one', () => {
  const q: QuietHours = { timeZone: 'Europe/Berlin', windows: [...weeknights.windows, { days: ['sat', 'sun'], start: '00:00', end: '24:00' }] };
  // Friday 6 June 2025, 23:00 local: Fri night → Saturday all day → Sunday all day → Monday 00:00.
  assert.is(until('2025-06-06T21:00:00Z', q), '2025-06-08T22:00:00.000Z');
});

test('a window end that falls in the spring-forward gap ends when the clock jumps', () => {
  const q: QuietHours = { timeZone: 'Europe/Berlin', windows: [{ days: ['sat'], start: '22:00', end: '02:30' }] };
  // Sat 29 March 2025 23:00 CET; on Sunday 02:00 CET becomes 03:00 CEST (01:00Z): 02:30 never happens.
  assert.is(until('2025-03-29T22:00:00Z', q), '2025-03-30T01:00:00.000Z');
});

test('a window end that happens twice (clocks turned back) ends at the first', () => {
  const q: QuietHours = { timeZone: 'Europe/Berlin', windows: [{ days: ['sat'], start: '22:00', end: '02:30' }] };
  // Sun 26 October 2025: 03:00 CEST becomes 02:00 CET; 02:30 is first at 00:30Z.
  assert.is(until('2025-10-25T21:00:00Z', q), '2025-10-26T00:30:00.000Z');
});

test('time zones west of UTC: a window that crosses UTC midnight', () => {
  const q: QuietHours = { timeZone: 'America/New_York', windows: [{ days: ['wed'], start: '18:00', end: '23:00' }] };
  // Wed 4 June 2025 19:30 EDT = Thu 23:30Z.
  assert.is(until('2025-06-04T23:30:00Z', q), '2025-06-05T03:00:00.000Z');
  assert.is(until('2025-06-05T03:00:00Z', q), null);
});

test('thresholds: the first occurrence, then only when the count reaches a new threshold', () => {
  const t = [1, 10, 100, 1000];
  assert.ok(crossesThreshold(0, 1, t), 'new group');
  assert.ok(crossesThreshold(0, 37, t), 'new group first seen by this channel late');
  assert.not.ok(crossesThreshold(1, 9, t));
  assert.ok(crossesThreshold(1, 10, t));
  assert.not.ok(crossesThreshold(10, 99, t));
  assert.ok(crossesThreshold(57, 100, t));
  assert.ok(crossesThreshold(57, 5000, t), 'several thresholds at once: one message');
  assert.not.ok(crossesThreshold(1000, 5000, t), 'past the last threshold: silent');
  assert.not.ok(crossesThreshold(10, 10, t));
  assert.not.ok(crossesThreshold(10, 3, t));
});

test('routeAlert: disabled, severity floor, thresholds, quiet hours with critical passing through', () => {
  const routing: Routing = { minSeverity: 'medium', quietHours: weeknights, thresholds: [1, 10, 100] };
  const night = new Date('2025-06-03T21:30:00Z');
  const day = new Date('2025-06-03T10:00:00Z');
  assert.equal(routeAlert(routing, false, { severity: 'critical', count: 1, notifiedCount: 0 }, day), { action: 'skip', reason: 'disabled' });
  assert.equal(routeAlert(routing, true, { severity: 'low', count: 1, notifiedCount: 0 }, day), { action: 'skip', reason: 'below-severity' });
  assert.equal(routeAlert(routing, true, { severity: 'medium', count: 1, notifiedCount: 0 }, day), { action: 'send' });
  assert.equal(routeAlert(routing, true, { severity: 'high', count: 5, notifiedCount: 1 }, day), { action: 'skip', reason: 'no-threshold-crossed' });
  assert.equal(routeAlert(routing, true, { severity: 'high', count: 1, notifiedCount: 0 }, night), { action: 'hold', until: new Date('2025-06-04T05:00:00Z') });
  assert.equal(routeAlert(routing, true, { severity: 'critical', count: 1, notifiedCount: 0 }, night), { action: 'send' });
  // Held overnight while the group grew: at the end of quiet hours, one message with the count then.
  assert.equal(routeAlert(routing, true, { severity: 'high', count: 57, notifiedCount: 0 }, new Date('2025-06-04T05:00:00Z')), { action: 'send' });
});

test.run();

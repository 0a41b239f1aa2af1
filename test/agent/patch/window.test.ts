import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { insideWindow, nextWindowStart, validateWindow, type MaintenanceWindow } from '../../../src/agent/patch/mod.ts';
import { throws } from '../../helpers/assert.ts';

const test = suite('patch: maintenance windows');
const at = (s: string): Date => new Date(s);

const nightly: MaintenanceWindow = { days: ['sat', 'sun'], start: '02:00', end: '05:00', timeZone: 'Europe/Berlin' };

test('inside a same-day window on the local wall clock, start inclusive and end exclusive', () => {
  // 2026-01-10 is a Saturday; Berlin is UTC+1 in winter.
  assert.is(insideWindow(nightly, at('2026-01-10T00:59:59Z')), false);
  assert.is(insideWindow(nightly, at('2026-01-10T01:00:00Z')), true);
  assert.is(insideWindow(nightly, at('2026-01-10T03:59:59Z')), true);
  assert.is(insideWindow(nightly, at('2026-01-10T04:00:00Z')), false);
  // Friday at that hour is not a listed day.
  assert.is(insideWindow(nightly, at('2026-01-09T02:00:00Z')), false);
});

test('next start: now when open, else the next listed day at the local start time', () => {
  assert.equal(nextWindowStart(nightly, at('2026-01-10T02:00:00Z')), at('2026-01-10T02:00:00Z'));
  // Wednesday → Saturday 02:00 Berlin = 01:00 UTC.
  assert.equal(nextWindowStart(nightly, at('2026-01-07T15:00:00Z')), at('2026-01-10T01:00:00Z'));
  // Saturday after the window closed → Sunday.
  assert.equal(nextWindowStart(nightly, at('2026-01-10T04:00:00Z')), at('2026-01-11T01:00:00Z'));
  // Sunday after the window → next Saturday.
  assert.equal(nextWindowStart(nightly, at('2026-01-11T10:00:00Z')), at('2026-01-17T01:00:00Z'));
});

test('a window past midnight belongs to the day it starts on', () => {
  const w: MaintenanceWindow = { days: ['fri'], start: '22:00', end: '02:00', timeZone: 'America/New_York' };
  // 2026-01-09 is a Friday; New York is UTC-5 in winter.
  assert.is(insideWindow(w, at('2026-01-10T03:00:00Z')), true); // Fri 22:00
  assert.is(insideWindow(w, at('2026-01-10T06:59:00Z')), true); // Sat 01:59
  assert.is(insideWindow(w, at('2026-01-10T07:00:00Z')), false); // Sat 02:00
  assert.is(insideWindow(w, at('2026-01-09T06:00:00Z')), false); // Fri 01:00: Thursday is not listed
  assert.equal(nextWindowStart(w, at('2026-01-10T07:00:00Z')), at('2026-01-17T03:00:00Z'));
  const allDay: MaintenanceWindow = { days: ['mon'], start: '00:00', end: '24:00', timeZone: 'UTC' };
  assert.is(insideWindow(allDay, at('2026-01-12T23:59:00Z')), true);
  assert.is(insideWindow(allDay, at('2026-01-13T00:00:00Z')), false);
});

test('clock changes: the window follows the wall clock through both transitions', () => {
  // Berlin goes to summer time on Sunday 2026-03-29 at 02:00 → 03:00 (01:00 UTC).
  const early: MaintenanceWindow = { days: ['sun'], start: '01:00', end: '04:00', timeZone: 'Europe/Berlin' };
  assert.equal(nextWindowStart(early, at('2026-03-28T12:00:00Z')), at('2026-03-29T00:00:00Z')); // 01:00 CET
  // Local 01:00 to 04:00 is two real hours that night.
  assert.is(insideWindow(early, at('2026-03-29T01:59:00Z')), true); // 03:59 CEST
  assert.is(insideWindow(early, at('2026-03-29T02:00:00Z')), false); // 04:00 CEST
  // A window starting in the skipped hour opens when the clock jumps past its start.
  const skipped: MaintenanceWindow = { days: ['sun'], start: '02:30', end: '04:00', timeZone: 'Europe/Berlin' };
  assert.equal(nextWindowStart(skipped, at('2026-03-28T12:00:00Z')), at('2026-03-29T01:00:00Z')); // 03:00 CEST
  assert.is(insideWindow(skipped, at('2026-03-29T01:00:00Z')), true);
  // A window entirely inside the skipped hour does not open that day: the next Sunday it does.
  const lost: MaintenanceWindow = { days: ['sun'], start: '02:00', end: '03:00', timeZone: 'Europe/Berlin' };
  assert.equal(nextWindowStart(lost, at('2026-03-28T12:00:00Z')), at('2026-04-05T00:00:00Z')); // 02:00 CEST
  // Back to winter time on Sunday 2026-10-25 at 03:00 → 02:00 (01:00 UTC): 02:30 happens twice,
  // and the window opens at the first.
  const twice: MaintenanceWindow = { days: ['sun'], start: '02:30', end: '03:30', timeZone: 'Europe/Berlin' };
  assert.equal(nextWindowStart(twice, at('2026-10-24T12:00:00Z')), at('2026-10-25T00:30:00Z'));
  assert.is(insideWindow(twice, at('2026-10-25T01:45:00Z')), true); // 02:45 CET, the second time round
});

test('nextWindowStart is the first open minute: open there, closed every minute before', () => {
  const windows: MaintenanceWindow[] = [
    nightly,
    { days: ['mon', 'wed'], start: '23:30', end: '00:15', timeZone: 'Asia/Kolkata' },
    { days: ['sun'], start: '02:30', end: '04:00', timeZone: 'Europe/Berlin' },
    { days: ['tue'], start: '09:00', end: '17:00', timeZone: 'Australia/Lord_Howe' },
  ];
  const starts = ['2026-03-27T17:43:00Z', '2026-10-24T23:10:00Z', '2026-04-04T15:02:00Z', '2026-01-01T00:00:00Z'];
  for (const w of windows) {
    for (const s of starts) {
      const now = at(s);
      const next = nextWindowStart(w, now);
      assert.ok(insideWindow(w, next), `${w.timeZone} from ${s}: open at ${next.toISOString()}`);
      for (let t = now.getTime(); t < next.getTime(); t += 60_000)
        assert.not.ok(insideWindow(w, new Date(t)), `${w.timeZone}: open before ${next.toISOString()} at ${new Date(t).toISOString()}`);
    }
  }
});

test('malformed windows are refused with STK_ERR_PATCH_WINDOW_INVALID naming the field', () => {
  const cases: Array<[unknown, string]> = [
    [null, 'window'],
    [{ ...nightly, days: [] }, 'days'],
    [{ ...nightly, days: ['monday'] }, 'days'],
    [{ ...nightly, start: '2:00' }, 'start'],
    [{ ...nightly, start: '24:00' }, 'start'],
    [{ ...nightly, end: '05:60' }, 'end'],
    [{ ...nightly, end: '02:00' }, 'end'],
    [{ ...nightly, timeZone: 'Mars/Olympus' }, 'timeZone'],
    [{ ...nightly, timeZone: 7 }, 'timeZone'],
  ];
  for (const [w, field] of cases) assert.is(throws(() => validateWindow(w), 'STK_ERR_PATCH_WINDOW_INVALID').data.field, field, JSON.stringify(w));
  throws(() => insideWindow({ ...nightly, timeZone: 'Nowhere/Land' }, new Date()), 'STK_ERR_PATCH_WINDOW_INVALID');
  assert.equal(validateWindow({ ...nightly, days: ['sun', 'sat', 'sun'] }).days, ['sun', 'sat']);
});

test.run();

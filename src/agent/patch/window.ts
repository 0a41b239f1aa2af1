/**
 * Maintenance windows: the days and hours, on a time zone's wall clock, in which a tenant lets
 * patches be installed. Pure functions of the window and an instant, so the agent can hold an
 * `install-patches` command until {@link nextWindowStart} and tests can give any time.
 *
 * Wall-clock semantics: a window `02:00–05:00` is open while the local clock reads 02:00 to 04:59
 * on a listed day, so on the night clocks go back it is open for four hours, on the night they go
 * forward for two, and a window inside the skipped hour does not open that day. An end at or
 * before the start runs past midnight into the next day (`22:00–02:00` on `sat` is open Saturday
 * 22:00 to Sunday 01:59); `24:00` is the end of the day.
 */
import { StkError } from '../../errors.ts';

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface MaintenanceWindow {
  days: Weekday[];
  /** `HH:MM`, 24-hour, local to `timeZone`. */
  start: string;
  /** `HH:MM` (or `24:00`); at or before `start` means the window runs past midnight. */
  end: string;
  /** IANA time zone, e.g. `Europe/Berlin`. */
  timeZone: string;
}

const DAY_MS = 86_400_000;
const TIME = /^([01][0-9]|2[0-3]):([0-5][0-9])$/;
const formatters = new Map<string, Intl.DateTimeFormat>();

function invalid(field: string, message: string): StkError {
  return new StkError('STK_ERR_PATCH_WINDOW_INVALID', message, { field });
}

function minutesOf(time: string, field: string, allowEndOfDay: boolean): number {
  if (allowEndOfDay && time === '24:00') return 1440;
  const m = typeof time === 'string' ? TIME.exec(time) : null;
  if (!m) throw invalid(field, `${field} must be HH:MM`);
  return Number(m[1]) * 60 + Number(m[2]);
}

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        weekday: 'short',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch (err) {
      throw new StkError(
        'STK_ERR_PATCH_WINDOW_INVALID',
        `unknown time zone ${JSON.stringify(String(timeZone).slice(0, 64))}`,
        { field: 'timeZone' },
        { cause: err },
      );
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** Checks a maintenance window and returns it normalised (days deduplicated, in week order); throws STK_ERR_PATCH_WINDOW_INVALID. */
export function validateWindow(input: unknown): MaintenanceWindow {
  const w = input as Partial<MaintenanceWindow> | null;
  if (typeof w !== 'object' || w === null) throw invalid('window', 'a maintenance window is an object');
  if (!Array.isArray(w.days) || w.days.length === 0) throw invalid('days', 'days must list at least one weekday');
  for (const d of w.days) if (!(WEEKDAYS as readonly unknown[]).includes(d)) throw invalid('days', `unknown weekday ${JSON.stringify(String(d).slice(0, 16))}`);
  const start = minutesOf(w.start as string, 'start', false);
  const end = minutesOf(w.end as string, 'end', true);
  if (start === end) throw invalid('end', 'start and end are equal');
  if (typeof w.timeZone !== 'string') throw invalid('timeZone', 'timeZone must be an IANA time zone');
  formatter(w.timeZone);
  return { days: WEEKDAYS.filter((d) => w.days!.includes(d)), start: w.start!, end: w.end!, timeZone: w.timeZone };
}

interface Wall {
  year: number;
  month: number;
  day: number;
  weekday: number;
  minutes: number;
  seconds: number;
}

function wall(t: number, timeZone: string): Wall {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(t))) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    weekday: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(parts.weekday!),
    minutes: Number(parts.hour) * 60 + Number(parts.minute),
    seconds: Number(parts.second),
  };
}

/** Local minus UTC at instant `t`, in ms. */
function offsetAt(t: number, timeZone: string): number {
  const w = wall(t, timeZone);
  return Date.UTC(w.year, w.month - 1, w.day, 0, w.minutes, w.seconds) - Math.floor(t / 1000) * 1000;
}

/** Orders wall times by date, then minute of day. */
function wallKey(w: { year: number; month: number; day: number; minutes: number }): number {
  return Date.UTC(w.year, w.month - 1, w.day, 0, w.minutes);
}

/**
 * The earliest instant at which the local clock reads `minutes` on the given local date, or, when
 * that time is skipped (clocks going forward), the instant the clock jumps past it.
 */
function instantOf(year: number, month: number, day: number, minutes: number, timeZone: string): number {
  const target = Date.UTC(year, month - 1, day, 0, minutes);
  const candidates = [...new Set([offsetAt(target - DAY_MS, timeZone), offsetAt(target + DAY_MS, timeZone)])]
    .map((o) => target - o)
    .filter((t) => wallKey(wall(t, timeZone)) === target);
  if (candidates.length > 0) return Math.min(...candidates);
  // In a gap: the first minute whose wall time is past the target lies between the two offsets.
  const offsets = [offsetAt(target - DAY_MS, timeZone), offsetAt(target + DAY_MS, timeZone)];
  let lo = target - Math.max(...offsets);
  let hi = target - Math.min(...offsets);
  while (hi - lo > 60_000) {
    const mid = lo + Math.floor((hi - lo) / 120_000) * 60_000;
    if (wallKey(wall(mid, timeZone)) >= target) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** True when the window is open at `now`. */
export function insideWindow(window: MaintenanceWindow, now: Date): boolean {
  const w = validateWindow(window);
  const start = minutesOf(w.start, 'start', false);
  const end = minutesOf(w.end, 'end', true);
  const local = wall(now.getTime(), w.timeZone);
  const today = w.days.includes(WEEKDAYS[local.weekday]!);
  if (end > start) return today && local.minutes >= start && local.minutes < end;
  const yesterday = w.days.includes(WEEKDAYS[(local.weekday + 6) % 7]!);
  return (today && local.minutes >= start) || (yesterday && local.minutes < end);
}

/** The earliest instant at or after `now` at which the window is open: `now` itself when it is open already. */
export function nextWindowStart(window: MaintenanceWindow, now: Date): Date {
  const w = validateWindow(window);
  if (insideWindow(w, now)) return now;
  const start = minutesOf(w.start, 'start', false);
  const local = wall(now.getTime(), w.timeZone);
  // Two weeks: every listed day comes up twice, so a window skipped once by a clock change opens the week after.
  for (let i = 0; i <= 14; i++) {
    const date = new Date(Date.UTC(local.year, local.month - 1, local.day + i));
    if (!w.days.includes(WEEKDAYS[date.getUTCDay()]!)) continue;
    const t = instantOf(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), start, w.timeZone);
    if (t > now.getTime() && insideWindow(w, new Date(t))) return new Date(t);
  }
  throw new StkError('STK_ERR_PATCH_WINDOW_INVALID', 'the window never opens', { field: 'window' });
}

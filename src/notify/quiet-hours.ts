import { type QuietHours, WEEKDAYS, type Weekday } from './settings.ts';

const MINUTE_MS = 60_000;
const DAY_MINUTES = 1440;

interface WallTime {
  year: number;
  month: number;
  day: number;
  /** 0 = Monday … 6 = Sunday. */
  weekday: number;
  /** Minutes since local midnight. */
  minutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

const SHORT_DAYS: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

function wallTime(atMs: number, timeZone: string): WallTime {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(atMs)) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    weekday: SHORT_DAYS[parts.weekday!]!,
    minutes: Number(parts.hour) * 60 + Number(parts.minute),
  };
}

/** Local minus UTC, in ms, at the instant `atMs` (seconds are ignored: every zone in use today has whole-minute offsets). */
function offsetMs(atMs: number, timeZone: string): number {
  const w = wallTime(atMs, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day) + w.minutes * MINUTE_MS;
  return asUtc - Math.floor(atMs / MINUTE_MS) * MINUTE_MS;
}

/**
 * The instant at which the wall clock of `timeZone` shows the given local date and minute. A wall
 * time that does not exist (skipped by a daylight-saving change) maps to the instant the clock
 * jumps past it; one that exists twice (clocks turned back) maps to its first occurrence.
 */
function instantOf(year: number, month: number, day: number, minutes: number, timeZone: string): number {
  const asUtc = Date.UTC(year, month - 1, day) + minutes * MINUTE_MS;
  const before = offsetMs(asUtc - DAY_MINUTES * MINUTE_MS, timeZone);
  const after = offsetMs(asUtc + DAY_MINUTES * MINUTE_MS, timeZone);
  // The earlier offset first: with clocks turned back it gives the first of the two instants.
  const candidates = [asUtc - Math.max(before, after), asUtc - Math.min(before, after)];
  for (const t of candidates) {
    if (offsetMs(t, timeZone) === asUtc - t) return t;
  }
  // In a gap neither offset reproduces the wall time: find the minute the later offset starts.
  let lo = candidates[0]!;
  let hi = candidates[1]!;
  while (hi - lo > MINUTE_MS) {
    const mid = lo + Math.floor((hi - lo) / 2 / MINUTE_MS) * MINUTE_MS;
    if (offsetMs(mid, timeZone) === after) hi = mid;
    else lo = mid;
  }
  return hi;
}

function parseHhmm(s: string): number {
  return Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5));
}

function addDays(w: WallTime, days: number): { year: number; month: number; day: number } {
  const d = new Date(Date.UTC(w.year, w.month - 1, w.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** The end of the quiet window that contains `atMs`, or null when `atMs` is outside every window. */
function endOfWindowAt(atMs: number, q: QuietHours): number | null {
  const w = wallTime(atMs, q.timeZone);
  const onDay = (days: Weekday[], weekday: number): boolean => days.includes(WEEKDAYS[(weekday + 7) % 7]!);
  let end: number | null = null;
  for (const win of q.windows) {
    const start = parseHhmm(win.start);
    const stop = parseHhmm(win.end);
    let candidate: number | null = null;
    if (start < stop) {
      if (onDay(win.days, w.weekday) && w.minutes >= start && w.minutes < stop) {
        candidate = instantOf(w.year, w.month, w.day, stop, q.timeZone);
      }
    } else if (onDay(win.days, w.weekday) && w.minutes >= start) {
      const next = addDays(w, 1);
      candidate = instantOf(next.year, next.month, next.day, stop, q.timeZone);
    } else if (onDay(win.days, w.weekday - 1) && w.minutes < stop) {
      candidate = instantOf(w.year, w.month, w.day, stop, q.timeZone);
    }
    if (candidate !== null && candidate > atMs && (end === null || candidate > end)) end = candidate;
  }
  return end;
}

/**
 * When the quiet hours that cover `now` end, or null when `now` is not in quiet hours. Windows
 * that touch or overlap (Saturday 00:00–24:00 then Sunday 00:00–24:00) are followed through to
 * the end of the last one.
 */
export function quietUntil(now: Date, q: QuietHours | null): Date | null {
  if (!q) return null;
  let end = endOfWindowAt(now.getTime(), q);
  if (end === null) return null;
  // Each step moves to a later window end; a week of back-to-back windows is 14 at most.
  for (let i = 0; i < 16; i++) {
    const further = endOfWindowAt(end, q);
    if (further === null || further <= end) break;
    end = further;
  }
  return new Date(end);
}

/** Hourly buckets of read-model aggregates (charts): the id of the hour an ISO time falls in. */
export function hourId(at: string): string {
  // `2026-11-30T04`: token-safe (no `:`), sorts by time, the same on every replay.
  return at.slice(0, 13);
}

/** The ISO start of a bucket's hour. */
export function hourStart(id: string): string {
  return `${id}:00:00.000Z`;
}

/** Most distinct keys one bucket's tally keeps (rules, hosts of an hour); the rest count under `other`. */
export const TALLY_MAX_KEYS = 100;

/** A tally with one more of `key`, bounded: past TALLY_MAX_KEYS distinct keys, new ones count as `other`. */
export function tally(t: Record<string, number>, key: string): Record<string, number> {
  const k = key in t || Object.keys(t).length < TALLY_MAX_KEYS ? key : 'other';
  return { ...t, [k]: (t[k] ?? 0) + 1 };
}

/** Severity as a sort value: higher is more severe. */
export const SEVERITY_RANK: Record<string, string> = { low: '0', medium: '1', high: '2', critical: '3' };

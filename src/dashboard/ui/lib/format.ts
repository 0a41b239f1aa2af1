/** How values read on the page: UTC times, relative ages, counts with separators. */

export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : `${d.toISOString().replace('T', ' ').slice(0, 19)}Z`;
}

export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

export function short(id: string | null | undefined, n = 10): string {
  const s = String(id ?? '');
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

/** `n thing(s)` with the right plural. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${count(n)} ${n === 1 ? one : many}`;
}

/** An ISO time from a `datetime-local` field's value (taken as UTC, as every time on the page is). */
export function fromLocalInput(v: string): string {
  return v ? new Date(`${v}:00Z`).toISOString() : '';
}

/** A `datetime-local` field's value for an ISO time. */
export function toLocalInput(iso: string): string {
  return iso ? iso.slice(0, 16) : '';
}

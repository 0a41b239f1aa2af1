/**
 * Port lists as requests carry them: single ports (`443`) and inclusive ranges (`"8000-8100"`),
 * so a full scan is `["1-65535"]` rather than 65,535 numbers in an event.
 */

/** Most entries (ports or ranges) one request may list. */
export const MAX_PORT_ENTRIES = 1024;

/** One entry of a port list: a port (a number, or its digits), or an inclusive `first-last` range. */
export type PortSpec = number | string;

export type PortParse = { ok: true; ports: number[] } | { ok: false; detail: string };

/** Ports a scan covers when it names none: the services most often exposed. */
export const DEFAULT_SCAN_PORTS: readonly number[] = [
  21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 389, 443, 445, 465, 587, 636, 993, 995, 1433, 1521, 2049, 3000, 3306, 3389, 5432, 5900, 5985, 6379, 8000,
  8080, 8443, 9200, 11211, 27017,
];

const RANGE = /^([1-9][0-9]{0,4})(?:-([1-9][0-9]{0,4}))?$/;
const isPort = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= 65_535;

/** Expands a port list into sorted unique ports; a value when anything is malformed (0, 65536, `9-1`, `"x"`). */
export function expandPorts(spec: readonly PortSpec[]): PortParse {
  if (!Array.isArray(spec) || spec.length === 0 || spec.length > MAX_PORT_ENTRIES) return { ok: false, detail: `1 to ${MAX_PORT_ENTRIES} ports or ranges` };
  const out = new Set<number>();
  for (const p of spec) {
    if (typeof p === 'number') {
      if (!isPort(p)) return { ok: false, detail: `${p} is not a port from 1 to 65535` };
      out.add(p);
      continue;
    }
    const m = typeof p === 'string' ? RANGE.exec(p) : null;
    const first = m ? Number(m[1]) : Number.NaN;
    const last = m ? Number(m[2] ?? m[1]) : Number.NaN;
    if (!m || !isPort(first) || !isPort(last) || first > last)
      return { ok: false, detail: `${JSON.stringify(String(p).slice(0, 16))} is not a range "first-last" of ports` };
    for (let q = first; q <= last; q++) out.add(q);
  }
  return { ok: true, ports: [...out].sort((a, b) => a - b) };
}

/** The shortest port list for a set of ports: runs of three or more become ranges. */
export function compactPorts(ports: readonly number[]): PortSpec[] {
  const sorted = [...new Set(ports)].sort((a, b) => a - b);
  const out: PortSpec[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    if (j - i >= 2) out.push(`${sorted[i]}-${sorted[j]}`);
    else for (let k = i; k <= j; k++) out.push(sorted[k]!);
    i = j + 1;
  }
  return out;
}

import { StkError } from '../errors.ts';

/**
 * Canonical JSON as docs/ledger and the Merkle items use it: object keys sorted by UTF-16 code
 * units, no whitespace, strings and numbers as JSON.stringify writes them (which is RFC 8785's
 * number form), `undefined` object members dropped. Anything JSON cannot carry faithfully
 * (non-finite numbers, bigint, undefined in an array, class instances) is refused.
 *
 * For the lead: `src/merkle` is to export `canonicalJson` too; when it lands, this one should
 * become a re-export of it (the two must produce the same bytes; test/scan/items.test.ts pins
 * this one's output on an example).
 */
export function canonicalJson(value: unknown): string {
  return write(value, '$');
}

function write(v: unknown, path: string): string {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new StkError('STK_ERR_VALIDATION', 'canonical JSON has no non-finite numbers', { field: path });
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) {
    return `[${v
      .map((x, i) => {
        if (x === undefined) throw new StkError('STK_ERR_VALIDATION', 'canonical JSON has no undefined array members', { field: `${path}[${i}]` });
        return write(x, `${path}[${i}]`);
      })
      .join(',')}]`;
  }
  if (typeof v === 'object' && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null)) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${write(o[k], `${path}.${k}`)}`).join(',')}}`;
  }
  throw new StkError('STK_ERR_VALIDATION', `canonical JSON cannot carry a ${typeof v}`, { field: path });
}

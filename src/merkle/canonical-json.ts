import { StkError } from '../errors.ts';

/** Deepest nesting canonicalJson accepts; deeper input is refused instead of exhausting the stack. */
export const CANONICAL_JSON_MAX_DEPTH = 256;

const encoder = new TextEncoder();
// With the u flag a well-formed pair is one code point; only a lone surrogate is of category Cs.
const loneSurrogate = /\p{Cs}/u;

/**
 * The UTF-8 bytes of `value` as canonical JSON: object keys sorted by UTF-16 code units, no
 * whitespace, strings and numbers as JSON.stringify writes them (the RFC 8785 rules for these
 * types). Refuses (STK_ERR_VALIDATION, `field` = JSON path) what has no single JSON form:
 * undefined, functions, symbols, bigints, non-finite numbers, strings with lone surrogates,
 * cycles, non-plain objects (Date, Map, class instances) and nesting deeper than 256.
 */
export function canonicalJson(value: unknown): Uint8Array {
  const parts: string[] = [];
  write(value, '$', 0, new Set(), parts);
  return encoder.encode(parts.join(''));
}

function refuse(path: string, reason: string): never {
  throw new StkError('STK_ERR_VALIDATION', `not canonical JSON at ${path}: ${reason}`, { field: path, reason });
}

function write(value: unknown, path: string, depth: number, open: Set<object>, out: string[]): void {
  switch (typeof value) {
    case 'string':
      if (loneSurrogate.test(value)) refuse(path, 'string with a lone surrogate');
      out.push(JSON.stringify(value));
      return;
    case 'number':
      if (!Number.isFinite(value)) refuse(path, `non-finite number ${value}`);
      // JSON.stringify writes -0 as 0 and every other number in ECMAScript's shortest form (RFC 8785 §3.2.2.3).
      out.push(JSON.stringify(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'object':
      break;
    default:
      refuse(path, typeof value);
  }
  if (value === null) {
    out.push('null');
    return;
  }
  if (depth >= CANONICAL_JSON_MAX_DEPTH) refuse(path, `nested deeper than ${CANONICAL_JSON_MAX_DEPTH}`);
  if (open.has(value)) refuse(path, 'cycle');
  open.add(value);
  if (Array.isArray(value)) {
    out.push('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(',');
      // A hole would be written as null by JSON.stringify: refuse it like undefined.
      if (!(i in value)) refuse(`${path}[${i}]`, 'undefined');
      write(value[i], `${path}[${i}]`, depth + 1, open, out);
    }
    out.push(']');
  } else {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) refuse(path, `a ${value.constructor?.name ?? 'non-plain'} object`);
    if (Object.getOwnPropertySymbols(value).length > 0) refuse(path, 'symbol-keyed property');
    // Default sort compares UTF-16 code units, the order RFC 8785 §3.2.3 asks for.
    const keys = Object.keys(value).sort();
    out.push('{');
    let first = true;
    for (const key of keys) {
      const child = `${path}.${key}`;
      if (loneSurrogate.test(key)) refuse(child, 'key with a lone surrogate');
      if (!first) out.push(',');
      first = false;
      out.push(JSON.stringify(key), ':');
      write((value as Record<string, unknown>)[key], child, depth + 1, open, out);
    }
    out.push('}');
  }
  open.delete(value);
}

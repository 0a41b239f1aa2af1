import { StkError } from '../errors.ts';

/** Deepest nesting canonicalJson accepts; deeper input is refused instead of exhausting the stack. */
export const CANONICAL_JSON_MAX_DEPTH = 256;

const encoder = new TextEncoder();
// Most strings hold no surrogate at all; only those that do pay for the exact check, where with
// the u flag a well-formed pair is one code point and only a lone surrogate is of category Cs.
const anySurrogate = /[\ud800-\udfff]/;
const loneSurrogate = /\p{Cs}/u;

/**
 * The UTF-8 bytes of `value` as canonical JSON: object keys sorted by UTF-16 code units, no
 * whitespace, strings and numbers as JSON.stringify writes them (the RFC 8785 rules for these
 * types). Refuses (STK_ERR_VALIDATION, `field` = JSON path) what has no single JSON form:
 * undefined, functions, symbols, bigints, non-finite numbers, strings with lone surrogates,
 * cycles, non-plain objects (Date, Map, class instances) and nesting deeper than 256.
 */
export function canonicalJson(value: unknown): Uint8Array {
  return encoder.encode(write(value, [], new Set()));
}

// The path is kept as segments and only turned into text for a refusal: building it for every
// field would cost more than the serialisation.
function refuse(path: Array<string | number>, reason: string): never {
  const field = `$${path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')}`;
  throw new StkError('STK_ERR_VALIDATION', `not canonical JSON at ${field}: ${reason}`, { field, reason });
}

function str(s: string, path: Array<string | number>): string {
  if (anySurrogate.test(s) && loneSurrogate.test(s)) refuse(path, 'string with a lone surrogate');
  return JSON.stringify(s);
}

function write(value: unknown, path: Array<string | number>, open: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return str(value, path);
    case 'number':
      if (!Number.isFinite(value)) refuse(path, `non-finite number ${value}`);
      // JSON.stringify writes -0 as 0 and every other number in ECMAScript's shortest form (RFC 8785 §3.2.2.3).
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    default:
      refuse(path, typeof value);
  }
  if (value === null) return 'null';
  if (path.length >= CANONICAL_JSON_MAX_DEPTH) refuse(path, `nested deeper than ${CANONICAL_JSON_MAX_DEPTH}`);
  if (open.has(value)) refuse(path, 'cycle');
  open.add(value);
  let out: string;
  if (Array.isArray(value)) {
    out = '[';
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      // A hole would be written as null by JSON.stringify: refuse it like undefined.
      if (!(i in value)) refuse(path, 'undefined');
      out += (i > 0 ? ',' : '') + write(value[i], path, open);
      path.pop();
    }
    out += ']';
  } else {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) refuse(path, `a ${value.constructor?.name ?? 'non-plain'} object`);
    if (Object.getOwnPropertySymbols(value).length > 0) refuse(path, 'symbol-keyed property');
    // Default sort compares UTF-16 code units, the order RFC 8785 §3.2.3 asks for.
    const keys = Object.keys(value).sort();
    out = '{';
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      path.push(key);
      out += `${i > 0 ? ',' : ''}${str(key, path)}:${write((value as Record<string, unknown>)[key], path, open)}`;
      path.pop();
    }
    out += '}';
  }
  open.delete(value);
  return out;
}

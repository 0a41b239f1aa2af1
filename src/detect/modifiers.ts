/**
 * One field test: `Field|mod|…: value(s)`. Accepted modifiers: `contains`, `startswith`,
 * `endswith`, `all`, `cased`, `re` (with `i`, `m`, `s`), `exists`, `cidr`, `lt`, `lte`, `gt`,
 * `gte`. Every other modifier of the Sigma appendix is refused by name, and so is any unknown one.
 */
import { BlockList, isIP } from 'node:net';
import { isScalar, isSeq, type Node, type Scalar } from 'yaml';
import { type Problems, textStart } from './problems.ts';
import { RegexSyntaxError } from './regex-parse.ts';
import { compileRegex, type SafeRegex } from './regex-vm.ts';
import type { FieldReader, RuleTest } from './types.ts';
import { anchor, globMatcher, type Position, parseSigmaString, type StringMatcher } from './values.ts';

const POSITIONS = new Set(['contains', 'startswith', 'endswith']);
const NUMERIC = new Set(['lt', 'lte', 'gt', 'gte']);
const RE_FLAGS = new Set(['i', 'm', 's']);
const ACCEPTED = new Set([...POSITIONS, ...NUMERIC, ...RE_FLAGS, 'all', 'cased', 're', 'exists', 'cidr']);
/** Modifiers of the Sigma appendix that Stockade does not implement: refused by name. */
const SIGMA_ONLY = new Set([
  'base64',
  'base64offset',
  'utf16le',
  'utf16be',
  'utf16',
  'wide',
  'windash',
  'neq',
  'expand',
  'fieldref',
  'minute',
  'hour',
  'day',
  'week',
  'month',
  'year',
]);

type Scalarish = string | number | boolean | null;

/** Compiles the values of one field test; null (with problems recorded) when refused. */
export function compileValues(slot: number, mods: string[], keyNode: Node, valueNode: Node | null, path: string, p: Problems): RuleTest | null {
  const bad = (reason: string, node: Node | null = keyNode): null => {
    p.add(node, path, reason);
    return null;
  };
  const seen = new Set<string>();
  for (const m of mods) {
    if (SIGMA_ONLY.has(m)) return bad(`modifier \`${m}\` is part of Sigma but not supported by Stockade`);
    if (!ACCEPTED.has(m)) return bad(`unknown modifier \`${m}\``);
    if (seen.has(m)) return bad(`modifier \`${m}\` is given twice`);
    seen.add(m);
  }
  const types = mods.filter((m) => POSITIONS.has(m) || NUMERIC.has(m) || m === 're' || m === 'exists' || m === 'cidr');
  if (types.length > 1) return bad(`modifiers \`${types.join('` and `')}\` cannot be combined`);
  const type = types[0] ?? 'plain';
  const flags = mods.filter((m) => RE_FLAGS.has(m));
  if (flags.length && type !== 're') return bad(`modifier \`${flags[0]}\` applies only after \`re\``);
  if (type === 're' && flags.some((f) => mods.indexOf(f) < mods.indexOf('re'))) return bad('re flags (`i`, `m`, `s`) come after `re`');
  const all = seen.has('all');
  const cased = seen.has('cased');
  if (cased && type !== 'plain' && !POSITIONS.has(type)) return bad(`\`cased\` cannot be combined with \`${type}\``);

  // Values: one scalar or a non-empty list of scalars (never maps, nested lists, or null in a list).
  let values: { v: Scalarish; node: Scalar }[];
  if (isSeq(valueNode)) {
    if (valueNode.items.length === 0) return bad('an empty list of values matches nothing', valueNode);
    const items = valueNode.items as Node[];
    const notScalar = items.find((x) => !isScalar(x));
    if (notScalar) return bad('values must be strings, numbers or booleans (no maps or nested lists)', notScalar);
    values = (items as Scalar[]).map((s) => ({ v: s.value as Scalarish, node: s }));
    const nul = values.find((x) => x.v === null);
    if (nul) return bad('`null` cannot be part of a list of values; put it in a selection of its own', nul.node);
  } else if (isScalar(valueNode)) values = [{ v: valueNode.value as Scalarish, node: valueNode }];
  else if (valueNode === null) values = [{ v: null, node: keyNode as Scalar }];
  else return bad('values must be strings, numbers or booleans, or a list of them', valueNode);
  if (values.some((x) => x.v !== null && typeof x.v === 'object')) return bad('values must be strings, numbers or booleans', valueNode);
  if (all && values.length < 2) return bad('`all` needs a list of at least two values');

  if (values.length === 1 && values[0]!.v === null) {
    if (mods.length) return bad('`null` takes no modifiers');
    return (f) => f.str(slot) === null;
  }

  if (type === 'exists') {
    const v = values[0]!.v;
    if (values.length !== 1 || typeof v !== 'boolean') return bad('`exists` takes true or false', valueNode);
    return (f) => (f.raw(slot) !== undefined) === v;
  }

  if (NUMERIC.has(type)) {
    const nums: number[] = [];
    for (const x of values) {
      if (typeof x.v !== 'number' || !Number.isFinite(x.v)) return bad(`\`${type}\` compares numbers; ${JSON.stringify(x.v)} is not one`, x.node);
      nums.push(x.v);
    }
    const cmp = {
      lt: (a: number, b: number) => a < b,
      lte: (a: number, b: number) => a <= b,
      gt: (a: number, b: number) => a > b,
      gte: (a: number, b: number) => a >= b,
    }[type as 'lt'];
    return multi(
      slot,
      'str',
      nums.map((n) => (s: string) => s.trim() !== '' && cmp(Number(s), n)),
      all,
    );
  }

  if (type === 'cidr') {
    const tests: StringMatcher[] = [];
    for (const x of values) {
      const t = typeof x.v === 'string' ? cidrTest(x.v) : null;
      if (!t) return bad(`\`cidr\` needs a network such as 10.0.0.0/8 or fd00::/8; ${JSON.stringify(x.v)} is not one`, x.node);
      tests.push(t);
    }
    return multi(slot, 'low', tests, all);
  }

  if (type === 're') {
    const tests: SafeRegex[] = [];
    for (const x of values) {
      if (typeof x.v !== 'string') return bad('`re` takes strings', x.node);
      try {
        tests.push(compileRegex(x.v, { i: seen.has('i'), m: seen.has('m'), s: seen.has('s') }));
      } catch (err) {
        if (!(err instanceof RegexSyntaxError)) throw err;
        p.add(x.node, path, `re: ${err.message} (at character ${err.at + 1} of the pattern)`, rawOffset(x.node, err.at));
        return null;
      }
    }
    return reTest(slot, tests, all);
  }

  const position: Position = POSITIONS.has(type) ? (type as Position) : 'exact';
  const matchers = values.map((x) => globMatcher(anchor(parseSigmaString(textOf(x.v, x.node)), position), !cased));
  return multi(slot, cased ? 'str' : 'low', matchers, all);
}

/** A YAML number keeps its written form (`0x17` stays `0x17`); booleans read `true` / `false`. */
function textOf(v: Scalarish, node: Scalar): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && typeof node.source === 'string') return node.source;
  return String(v);
}

function rawOffset(node: Scalar, at: number): number | undefined {
  return node.type === 'PLAIN' || node.type === 'QUOTE_SINGLE' ? textStart(node) + at : undefined;
}

/**
 * Any (or, with `all`, every) matcher against the field's value(s); a multi-valued field matches
 * a value when any of its elements does.
 */
function multi(slot: number, form: 'low' | 'str', matchers: StringMatcher[], all: boolean): RuleTest {
  const read = form === 'low' ? (f: FieldReader) => f.low(slot) : (f: FieldReader) => f.str(slot);
  const hit = (m: StringMatcher, v: string | readonly string[]): boolean => {
    if (typeof v === 'string') return m(v);
    for (const e of v) if (m(e)) return true;
    return false;
  };
  if (all) {
    return (f) => {
      const v = read(f);
      if (v === null) return false;
      for (const m of matchers) if (!hit(m, v)) return false;
      return true;
    };
  }
  if (matchers.length === 1) {
    const m = matchers[0]!;
    return (f) => {
      const v = read(f);
      return v !== null && hit(m, v);
    };
  }
  return (f) => {
    const v = read(f);
    if (v === null) return false;
    for (const m of matchers) if (hit(m, v)) return true;
    return false;
  };
}

function reTest(slot: number, tests: SafeRegex[], all: boolean): RuleTest {
  const folds = tests.some((t) => t.foldsNeedles);
  return (f) => {
    const raw = f.str(slot);
    if (raw === null) return false;
    // Lower-cased forms only when a case-insensitive pattern pre-checks its literals against them.
    const low = folds ? f.low(slot) : null;
    for (const re of tests) {
      let hit = false;
      if (typeof raw === 'string') hit = re.test(raw, low as string | null);
      else for (let k = 0; k < raw.length && !hit; k++) hit = re.test(raw[k]!, low === null ? null : (low as readonly string[])[k]!);
      if (hit !== all) return hit;
    }
    return all;
  };
}

function cidrTest(spec: string): StringMatcher | null {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(spec.trim());
  if (!m) return null;
  const family = isIP(m[1]!);
  const prefix = Number(m[2]);
  if (family === 0 || prefix > (family === 4 ? 32 : 128)) return null;
  const list = new BlockList();
  const type = family === 4 ? 'ipv4' : 'ipv6';
  list.addSubnet(m[1]!, prefix, type);
  return (s) => {
    const f = isIP(s);
    // BlockList matches IPv4-mapped IPv6 addresses against IPv4 subnets, as connection tables show them.
    return f !== 0 && list.check(s, f === 4 ? 'ipv4' : 'ipv6');
  };
}

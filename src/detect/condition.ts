/**
 * Sigma conditions: `and`, `or`, `not`, parentheses, `1 of <pattern>`, `all of <pattern>`,
 * `1 of them`, `all of them`. Precedence from least to most binding (spec "Condition"): or, and,
 * not, `x of`, parentheses. Aggregations (`| count() …`), `near` and `N of` with N > 1 are refused.
 */
import type { FieldReader, RuleTest } from './types.ts';

export type Cond =
  | { t: 'id'; name: string; at: number }
  | { t: 'not'; x: Cond }
  | { t: 'and'; xs: Cond[] }
  | { t: 'or'; xs: Cond[] }
  | { t: 'of'; all: boolean; pattern: string | null; at: number };

/** A condition error: why, and the 0-based offset in the condition text. */
export interface CondError {
  reason: string;
  at: number;
}

interface Tok {
  text: string;
  at: number;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'of', 'them', 'all', '1']);

/** True when `name` cannot be a search identifier because the condition grammar uses it. */
export function isReservedName(name: string): boolean {
  return KEYWORDS.has(name.toLowerCase()) || name.toLowerCase() === 'near';
}

function tokenize(text: string): Tok[] | CondError {
  const out: Tok[] = [];
  const re = /\s*(?:([()])|([A-Za-z0-9_*]+)|(\S))/y;
  for (let m = re.exec(text); m && m.index < text.length; m = re.exec(text)) {
    const at = m.index + m[0].length - (m[1] ?? m[2] ?? m[3] ?? '').length;
    if (m[3] === '|') return { reason: 'aggregations (`| count() …`, `| near …`) are not supported', at };
    if (m[3] !== undefined) return { reason: `unexpected character ${JSON.stringify(m[3])}`, at };
    if (m[1] !== undefined || m[2] !== undefined) out.push({ text: (m[1] ?? m[2])!, at });
  }
  return out;
}

// Thrown inside the recursive-descent parser only, and turned back into a value at its top.
class CondFailure extends Error {
  constructor(
    readonly reason: string,
    readonly at: number,
  ) {
    super(reason);
  }
}

/** Parses a condition into a tree, or returns where and why it cannot. */
export function parseCondition(text: string): Cond | CondError {
  const toks = tokenize(text);
  if (!Array.isArray(toks)) return toks;
  let i = 0;
  const kw = (word: string): boolean => toks[i]?.text.toLowerCase() === word;
  const endAt = text.length;
  const here = (): number => toks[i]?.at ?? endAt;

  const orExpr = (): Cond => {
    const xs = [andExpr()];
    while (kw('or')) {
      i++;
      xs.push(andExpr());
    }
    return xs.length === 1 ? xs[0]! : { t: 'or', xs };
  };
  const andExpr = (): Cond => {
    const xs = [notExpr()];
    while (kw('and')) {
      i++;
      xs.push(notExpr());
    }
    return xs.length === 1 ? xs[0]! : { t: 'and', xs };
  };
  const notExpr = (): Cond => {
    if (kw('not')) {
      i++;
      return { t: 'not', x: notExpr() };
    }
    return primary();
  };
  const primary = (): Cond => {
    const tok = toks[i];
    if (!tok) throw fail('the condition ends where a search identifier was expected');
    if (tok.text === '(') {
      i++;
      const inner = orExpr();
      if (toks[i]?.text !== ')') throw fail('missing )');
      i++;
      return inner;
    }
    if (tok.text === ')') throw fail('unexpected )');
    if (toks[i + 1]?.text.toLowerCase() === 'of') {
      const quant = tok.text.toLowerCase();
      if (quant !== '1' && quant !== 'all') {
        throw fail(/^\d+$/.test(quant) ? `only \`1 of\` and \`all of\` are supported, not \`${tok.text} of\`` : `\`${tok.text} of\` is not a quantifier`);
      }
      i += 2;
      const target = toks[i];
      if (!target || target.text === '(' || target.text === ')') throw fail('`of` must be followed by `them` or a search-identifier pattern');
      if (target.text.toLowerCase() !== 'them' && KEYWORDS.has(target.text.toLowerCase())) throw fail(`\`${target.text}\` is not a search-identifier pattern`);
      i++;
      return { t: 'of', all: quant === 'all', pattern: target.text.toLowerCase() === 'them' ? null : target.text, at: tok.at };
    }
    const word = tok.text.toLowerCase();
    if (word === 'near') throw fail('`near` is not supported');
    if (KEYWORDS.has(word)) throw fail(`\`${tok.text}\` where a search identifier was expected`);
    if (tok.text.includes('*')) throw fail('wildcards in identifiers are allowed only after `1 of` / `all of`');
    i++;
    return { t: 'id', name: tok.text, at: tok.at };
  };
  const fail = (reason: string): CondFailure => new CondFailure(reason, here());

  try {
    const tree = orExpr();
    if (i < toks.length) return { reason: `unexpected \`${toks[i]!.text}\``, at: here() };
    return tree;
  } catch (err) {
    if (err instanceof CondFailure) return { reason: err.reason, at: err.at };
    throw err;
  }
}

/** True when parseCondition returned an error rather than a tree. */
export function isCondError(x: Cond | CondError): x is CondError {
  return 'reason' in x;
}

/** Names a `1 of`/`all of` target covers: `them` = every name not starting with `_`; a pattern with `*` wildcards otherwise. */
export function namesOf(pattern: string | null, names: readonly string[]): string[] {
  if (pattern === null) return names.filter((n) => !n.startsWith('_'));
  const re = new RegExp(`^${pattern.split('*').map(escapeRe).join('.*')}$`);
  return names.filter((n) => re.test(n));
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Checks every identifier and pattern against the detection's selections and compiles the tree
 * into one test. Returns the errors instead when there are any; `used` collects the names the
 * condition reaches.
 */
export function compileCondition(cond: Cond, selections: ReadonlyMap<string, RuleTest>, used: Set<string>): RuleTest | CondError[] {
  const errors: CondError[] = [];
  const names = [...selections.keys()];
  const build = (c: Cond): RuleTest => {
    switch (c.t) {
      case 'id': {
        const sel = selections.get(c.name);
        if (!sel) {
          errors.push({ reason: `\`${c.name}\` is not a search identifier of this detection`, at: c.at });
          return () => false;
        }
        used.add(c.name);
        return sel;
      }
      case 'not': {
        const x = build(c.x);
        return (f) => !x(f);
      }
      case 'and': {
        const xs = c.xs.map(build);
        return (f) => every(xs, f);
      }
      case 'or': {
        const xs = c.xs.map(build);
        return (f) => some(xs, f);
      }
      case 'of': {
        const covered = namesOf(c.pattern, names);
        if (covered.length === 0) {
          errors.push({
            reason: c.pattern === null ? '`them` covers no search identifier' : `pattern \`${c.pattern}\` matches no search identifier`,
            at: c.at,
          });
          return () => false;
        }
        for (const n of covered) used.add(n);
        const xs = covered.map((n) => selections.get(n)!);
        return c.all ? (f) => every(xs, f) : (f) => some(xs, f);
      }
    }
  };
  const test = build(cond);
  return errors.length ? errors : test;
}

function every(xs: RuleTest[], f: FieldReader): boolean {
  for (const x of xs) if (!x(f)) return false;
  return true;
}

function some(xs: RuleTest[], f: FieldReader): boolean {
  for (const x of xs) if (x(f)) return true;
  return false;
}

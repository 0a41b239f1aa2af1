/**
 * Parser for the regular expressions a rule may use with `|re`: the Sigma flavour (spec appendix
 * "Regular Expression": `.`, `^`, `$`, `* + ? {n,m}`, classes, alternation, groups) plus the
 * escapes rules commonly need (`\d \w \s \b`, escaped punctuation, `\xHH`, `\uHHHH`) and `(?:…)`.
 * Everything else — back-references, look-around, named groups, inline flags, `\p{…}` — is
 * refused, and so are the shapes a backtracking engine can blow up on (see `checkSafety`).
 */

/** Longest pattern accepted, in characters. */
export const MAX_RE_CHARS = 512;
/** Largest `{n,m}` bound accepted. */
export const MAX_RE_REPEAT = 100;

/** A set of UTF-16 code units: ranges, predefined classes, possibly negated. */
export interface CharSet {
  negate: boolean;
  ranges: number[];
  classes: ClassName[];
}
export type ClassName = 'd' | 'D' | 'w' | 'W' | 's' | 'S' | 'dot' | 'dotall';

export type Node =
  | { t: 'set'; set: CharSet }
  | { t: 'cat'; items: Node[] }
  | { t: 'alt'; alts: Node[] }
  | { t: 'rep'; body: Node; min: number; max: number; at: number }
  | { t: 'assert'; kind: 'bol' | 'eol' | 'wordb' | 'nwordb' };

/** A pattern outside the accepted flavour or refused by the heuristic; `at` is the 0-based offset in it. */
export class RegexSyntaxError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

const SPECIAL_AFTER_PAREN: Record<string, string> = {
  '?=': 'look-ahead',
  '?!': 'negative look-ahead',
  '?<=': 'look-behind',
  '?<!': 'negative look-behind',
};

/** Parses `source` into a tree, or throws RegexSyntaxError with the offending offset. */
export function parseRegex(source: string, dotAll: boolean): Node {
  if (source.length > MAX_RE_CHARS) throw new RegexSyntaxError(`longer than ${MAX_RE_CHARS} characters`, MAX_RE_CHARS);
  let i = 0;
  const peek = (): string | undefined => source[i];
  const fail = (message: string, at = i): never => {
    throw new RegexSyntaxError(message, at);
  };

  const parseAlt = (): Node => {
    const alts = [parseCat()];
    while (peek() === '|') {
      i++;
      alts.push(parseCat());
    }
    return alts.length === 1 ? alts[0]! : { t: 'alt', alts };
  };

  const parseCat = (): Node => {
    const items: Node[] = [];
    while (i < source.length && peek() !== '|' && peek() !== ')') {
      const start = i;
      const group = peek() === '(';
      const atom = parseAtom();
      const q = parseQuantifier();
      if (q) {
        // As in JavaScript: `^*` is an error, `(^)*` is not.
        if (atom.t === 'assert' && !group) fail('a quantifier cannot follow an anchor or word boundary', start);
        items.push({ t: 'rep', body: atom, min: q.min, max: q.max, at: start });
      } else items.push(atom);
    }
    return items.length === 1 ? items[0]! : { t: 'cat', items };
  };

  const parseQuantifier = (): { min: number; max: number } | null => {
    const c = peek();
    let q: { min: number; max: number } | null = null;
    if (c === '*') q = { min: 0, max: Infinity };
    else if (c === '+') q = { min: 1, max: Infinity };
    else if (c === '?') q = { min: 0, max: 1 };
    else if (c === '{') {
      const m = /^\{(\d{1,4})(,(\d{0,4}))?\}/.exec(source.slice(i));
      if (!m) fail('`{` must start a quantifier {n}, {n,} or {n,m}; write \\{ for the character');
      const min = Number(m![1]);
      const max = m![2] === undefined ? min : m![3] === '' ? Infinity : Number(m![3]);
      if (max < min) fail(`quantifier {${min},${max}} has its bounds reversed`);
      if (min > MAX_RE_REPEAT || (max !== Infinity && max > MAX_RE_REPEAT)) fail(`quantifier bounds above ${MAX_RE_REPEAT}`);
      i += m![0].length - 1;
      q = { min, max };
    }
    if (!q) return null;
    i++;
    // A lazy quantifier matches the same strings; only the match boundaries differ, and a rule
    // asks only whether there is a match.
    if (peek() === '?') i++;
    if (peek() === '*' || peek() === '+' || peek() === '?' || peek() === '{') fail('a quantifier cannot follow a quantifier');
    return q;
  };

  const parseAtom = (): Node => {
    const c = source[i]!;
    if (c === '(') {
      i++;
      if (peek() === '?') {
        if (source.startsWith('?:', i)) i += 2;
        else {
          const special = Object.keys(SPECIAL_AFTER_PAREN).find((k) => source.startsWith(k, i));
          if (special) fail(`${SPECIAL_AFTER_PAREN[special]} is not supported`, i - 1);
          if (source.startsWith('?<', i)) fail('named groups are not supported; use (?:…) or (…)', i - 1);
          fail('inline flags and other (?…) groups are not supported; use the re modifiers |i |m |s', i - 1);
        }
      }
      const body = parseAlt();
      if (peek() !== ')') fail('unclosed group');
      i++;
      return body;
    }
    if (c === ')') fail('unmatched )');
    if (c === '*' || c === '+' || c === '?' || c === '{') fail('nothing to repeat');
    i++;
    if (c === '.') return { t: 'set', set: { negate: false, ranges: [], classes: [dotAll ? 'dotall' : 'dot'] } };
    if (c === '^') return { t: 'assert', kind: 'bol' };
    if (c === '$') return { t: 'assert', kind: 'eol' };
    if (c === '[') return { t: 'set', set: parseClass() };
    if (c === '\\') {
      const e = parseEscape(false);
      if (e === 'b' || e === 'B') return { t: 'assert', kind: e === 'b' ? 'wordb' : 'nwordb' };
      return { t: 'set', set: e };
    }
    const code = c.charCodeAt(0);
    return { t: 'set', set: { negate: false, ranges: [code, code], classes: [] } };
  };

  // Returns a set, or 'b'/'B' for word boundaries (outside classes only).
  const parseEscape = (inClass: boolean): CharSet | 'b' | 'B' => {
    const c = source[i];
    if (c === undefined) fail('pattern ends with a lone backslash');
    i++;
    const one = (code: number): CharSet => ({ negate: false, ranges: [code, code], classes: [] });
    switch (c) {
      case 'd':
      case 'D':
      case 'w':
      case 'W':
      case 's':
      case 'S':
        return { negate: false, ranges: [], classes: [c] };
      case 'b':
        return inClass ? one(8) : 'b';
      case 'B':
        if (inClass) fail('\\B inside a class');
        return 'B';
      case 't':
        return one(9);
      case 'n':
        return one(10);
      case 'v':
        return one(11);
      case 'f':
        return one(12);
      case 'r':
        return one(13);
      case 'x': {
        const m = /^[0-9a-fA-F]{2}/.exec(source.slice(i));
        if (!m) fail('\\x needs two hex digits', i - 2);
        i += 2;
        return one(Number.parseInt(m![0], 16));
      }
      case 'u': {
        const m = /^[0-9a-fA-F]{4}/.exec(source.slice(i));
        if (!m) fail('\\u needs four hex digits', i - 2);
        i += 4;
        return one(Number.parseInt(m![0], 16));
      }
    }
    if (/[0-9]/.test(c!)) fail('back-references (\\1 …) are not supported', i - 2);
    if (/[A-Za-z]/.test(c!)) fail(`unsupported escape \\${c}`, i - 2);
    return one(c!.charCodeAt(0));
  };

  const parseClass = (): CharSet => {
    const set: CharSet = { negate: false, ranges: [], classes: [] };
    const open = i - 1;
    if (peek() === '^') {
      set.negate = true;
      i++;
    }
    // One character of a class, or null when it was a predefined class merged into `set`.
    const classAtom = (): number | null => {
      const c = source[i]!;
      i++;
      if (c === '[' && source[i] === ':') fail('POSIX classes [:…:] are not supported', i - 1);
      if (c !== '\\') return c.charCodeAt(0);
      const e = parseEscape(true) as CharSet;
      if (e.classes.length) {
        set.classes.push(...e.classes);
        return null;
      }
      return e.ranges[0]!;
    };
    if (peek() === ']') fail('empty character class', open);
    while (i < source.length && peek() !== ']') {
      const lo = classAtom();
      if (peek() === '-' && source[i + 1] !== ']' && source[i + 1] !== undefined) {
        i++;
        const hi = classAtom();
        if (lo === null || hi === null) fail('a range in a class must be between two characters');
        if (hi! < lo!) fail('a range in a class has its ends reversed');
        set.ranges.push(lo!, hi!);
      } else if (lo !== null) set.ranges.push(lo, lo);
    }
    if (peek() !== ']') fail('unclosed character class', open);
    i++;
    return set;
  };

  const tree = parseAlt();
  if (i < source.length) fail('unmatched )');
  return tree;
}

/**
 * The refusal heuristic, for rules that stay portable to backtracking engines (PCRE, Java, .NET
 * backends convert Sigma rules to theirs). Refused:
 * - a repeated group (`*`, `+`, `{n,}`, `{n,m}` with m > 1) whose body holds another quantifier —
 *   nested quantifiers such as `(a+)+`, `(\w+\s?)*`, `(.*,){5}`;
 * - a repeated group whose body holds an alternation — `(a|ab)*`, `(\s|;)+` (write `[\s;]+`);
 * - more than `MAX_UNBOUNDED` unbounded quantifiers in one pattern (`.*a.*b.*c.*d`: polynomial).
 * Returns the reasons, empty when the pattern is accepted. Stockade's own engine is linear-time
 * whatever the pattern (src/detect/regex-vm.ts); the heuristic is there for the rule, not for us.
 */
export function checkSafety(tree: Node): { reason: string; at: number }[] {
  const out: { reason: string; at: number }[] = [];
  let unbounded = 0;
  let firstUnbounded = 0;
  const walk = (n: Node, repeatedAt: number | null): void => {
    switch (n.t) {
      case 'rep': {
        if (n.max === Infinity && unbounded++ === 0) firstUnbounded = n.at;
        if (repeatedAt !== null) out.push({ reason: 'nested quantifier (a quantified part inside a repeated group) can backtrack catastrophically', at: n.at });
        walk(n.body, n.max > 1 && n.body.t !== 'set' ? n.at : repeatedAt);
        return;
      }
      case 'alt':
        if (repeatedAt !== null)
          out.push({ reason: 'alternation inside a repeated group can backtrack catastrophically; use a character class', at: repeatedAt });
        for (const a of n.alts) walk(a, repeatedAt);
        return;
      case 'cat':
        for (const a of n.items) walk(a, repeatedAt);
        return;
      default:
        return;
    }
  };
  walk(tree, null);
  if (unbounded > MAX_UNBOUNDED) out.push({ reason: `more than ${MAX_UNBOUNDED} unbounded quantifiers (* + {n,}) in one pattern`, at: firstUnbounded });
  return dedupe(out);
}

/** Most unbounded quantifiers (`*`, `+`, `{n,}`) one pattern may hold. */
export const MAX_UNBOUNDED = 4;

function dedupe(list: { reason: string; at: number }[]): { reason: string; at: number }[] {
  const seen = new Set<string>();
  return list.filter((p) => {
    const k = `${p.at}:${p.reason}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

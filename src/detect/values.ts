/**
 * Sigma plain values: wildcards `*` and `?`, the spec's backslash escaping, and matchers that
 * compare without regular expressions (so a value can never backtrack). Case folding is the
 * caller's: it hands lower-cased subjects to matchers built from lower-cased needles.
 */

/** A parsed Sigma string: literal runs and wildcards, in order. */
export type Token = { lit: string } | { any: true } | { one: true };

/**
 * Parses a Sigma string value (spec "Escape Character"): `\*`, `\?` and `\\` escape; a backslash
 * before any other character is a plain backslash; `*` and `?` otherwise are wildcards.
 */
export function parseSigmaString(value: string): Token[] {
  const tokens: Token[] = [];
  let lit = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\') {
      const next = value[i + 1];
      if (next === '*' || next === '?' || next === '\\') {
        lit += next;
        i++;
      } else lit += '\\';
    } else if (c === '*' || c === '?') {
      if (lit) tokens.push({ lit });
      lit = '';
      // Consecutive `*` mean the same as one; collapsing keeps the matcher's segments non-empty.
      if (c === '*' && tokens.at(-1) && 'any' in tokens.at(-1)!) continue;
      tokens.push(c === '*' ? { any: true } : { one: true });
    } else lit += c;
  }
  if (lit) tokens.push({ lit });
  return tokens;
}

/** Where a string modifier anchors a value: `contains` puts `*` on both sides, and so on. */
export type Position = 'exact' | 'contains' | 'startswith' | 'endswith';

/** Adds the wildcards a position modifier stands for (spec: "Generic Modifiers"). */
export function anchor(tokens: Token[], position: Position): Token[] {
  const out = tokens.slice();
  const star = { any: true } as const;
  if ((position === 'contains' || position === 'endswith') && !(out[0] && 'any' in out[0])) out.unshift(star);
  if ((position === 'contains' || position === 'startswith') && !(out.at(-1) && 'any' in out.at(-1)!)) out.push(star);
  return out;
}

/** A string test over one (already case-folded when the needle is) subject. */
export type StringMatcher = (subject: string) => boolean;

/**
 * Builds the fastest matcher for a token list: equality, `startsWith`, `endsWith`, `includes`, or
 * a segment scan for patterns with inner wildcards. `fold` lower-cases literal parts (the subject
 * is then expected lower-cased too).
 */
export function globMatcher(tokens: Token[], fold: boolean): StringMatcher {
  const norm = tokens.map((t) => ('lit' in t && fold ? { lit: t.lit.toLowerCase() } : t));
  const lits = norm.filter((t): t is { lit: string } => 'lit' in t);
  const ones = norm.some((t) => 'one' in t);
  if (!ones) {
    const lead = norm[0] !== undefined && 'any' in norm[0];
    const trail = norm.length > 1 && 'any' in norm.at(-1)!;
    if (lits.length === 0) return norm.length === 0 ? (s) => s === '' : () => true;
    if (lits.length === 1) {
      const n = lits[0]!.lit;
      if (!lead && !trail) return (s) => s === n;
      if (lead && trail) return (s) => s.includes(n);
      if (lead) return (s) => s.endsWith(n);
      return (s) => s.startsWith(n);
    }
  }
  return segmentMatcher(norm);
}

/**
 * A segment is a run between two `*`: literal characters and `?` holes. Leftmost placement of
 * each middle segment is correct for `*`-only patterns (any later placement leaves less room),
 * so matching is one pass with no backtracking.
 */
interface Segment {
  text: string;
  /** Positions of `?` in `text` (holding a placeholder); null when there are none. */
  holes: Uint8Array | null;
}

function segmentMatcher(tokens: Token[]): StringMatcher {
  const segments: Segment[] = [];
  let text = '';
  let holes: number[] = [];
  const flush = (): void => {
    const mask = holes.length ? new Uint8Array(text.length) : null;
    for (const h of holes) mask![h] = 1;
    segments.push({ text, holes: mask });
    text = '';
    holes = [];
  };
  for (const t of tokens) {
    if ('any' in t) flush();
    else if ('one' in t) {
      holes.push(text.length);
      text += '\0';
    } else text += t.lit;
  }
  flush();
  const first = segments[0]!;
  const last = segments.at(-1)!;
  if (segments.length === 1) return (s) => s.length === first.text.length && segAt(s, 0, first);
  const middle = segments.slice(1, -1);
  const minLength = segments.reduce((n, seg) => n + seg.text.length, 0);
  return (s) => {
    if (s.length < minLength || !segAt(s, 0, first)) return false;
    let pos = first.text.length;
    const end = s.length - last.text.length;
    for (const seg of middle) {
      const at = find(s, pos, end, seg);
      if (at < 0) return false;
      pos = at + seg.text.length;
    }
    return pos <= end && segAt(s, end, last);
  };
}

function segAt(s: string, at: number, seg: Segment): boolean {
  if (at < 0 || at + seg.text.length > s.length) return false;
  if (!seg.holes) return s.startsWith(seg.text, at);
  for (let i = 0; i < seg.text.length; i++) if (seg.holes[i] === 0 && s.charCodeAt(at + i) !== seg.text.charCodeAt(i)) return false;
  return true;
}

/** Leftmost position in [from, end - len] where `seg` fits, or -1. */
function find(s: string, from: number, end: number, seg: Segment): number {
  if (!seg.holes) {
    const at = s.indexOf(seg.text, from);
    return at >= 0 && at + seg.text.length <= end ? at : -1;
  }
  for (let at = from; at + seg.text.length <= end; at++) if (segAt(s, at, seg)) return at;
  return -1;
}

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { compileRegex, MAX_RE_PROGRAM } from '../../src/detect/mod.ts';
import { checkSafety, parseRegex, RegexSyntaxError } from '../../src/detect/regex-parse.ts';

const test = suite('detect: safe regular expressions');

const NO_FLAGS = { i: false, m: false, s: false };

function refusal(source: string): string {
  try {
    compileRegex(source, NO_FLAGS);
  } catch (err) {
    if (err instanceof RegexSyntaxError) return err.message;
    throw err;
  }
  return 'accepted';
}

// A small deterministic generator (mulberry32), so a failure reproduces from its seed.
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomPattern(r: () => number, depth = 0): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const atom = (): string => {
    const roll = r();
    if (roll < 0.45) return pick(['a', 'b', 'c', ' ', '-', 'A', '\\.', '\\-']);
    if (roll < 0.65) return pick(['.', '[ab]', '[^a]', '[a-c]', '[A-Z]', '\\s', '\\S', '\\w', '\\W', '\\d', '[\\d-]', '\\x61']);
    if (roll < 0.75) return pick(['^', '$', '\\b', '\\B']);
    if (depth < 2) return `${pick(['(', '(?:'])}${randomPattern(r, depth + 1)}${r() < 0.3 ? `|${randomPattern(r, depth + 1)}` : ''})`;
    return 'a';
  };
  let out = '';
  const n = 1 + Math.floor(r() * 4);
  for (let k = 0; k < n; k++) {
    const a = atom();
    const assertion = a === '^' || a === '$' || a === '\\b' || a === '\\B';
    out += a + (assertion || r() < 0.55 ? '' : pick(['*', '+', '?', '{1,2}', '{2}', '{0,}', '*?', '+?']));
  }
  return out;
}

function randomSubject(r: () => number): string {
  const chars = 'abcAB -1\n.';
  let s = '';
  const n = Math.floor(r() * 12);
  for (let k = 0; k < n; k++) s += chars[Math.floor(r() * chars.length)];
  return s;
}

test('agrees with JavaScript RegExp on thousands of generated patterns and subjects (flags i, m, s)', () => {
  const r = rng(20261130);
  let compared = 0;
  for (let k = 0; k < 3000; k++) {
    const source = randomPattern(r);
    const flags = { i: r() < 0.3, m: r() < 0.3, s: r() < 0.3 };
    let mine: ReturnType<typeof compileRegex>;
    try {
      mine = compileRegex(source, flags);
    } catch (err) {
      // The heuristic refuses some generated shapes; those are tested below.
      if (err instanceof RegexSyntaxError && checkSafety(parseRegex(source, flags.s)).length) continue;
      throw err;
    }
    const native = new RegExp(source, `${flags.i ? 'i' : ''}${flags.m ? 'm' : ''}${flags.s ? 's' : ''}`);
    for (let j = 0; j < 20; j++) {
      const s = randomSubject(r);
      assert.is(mine.test(s, s.toLowerCase()), native.test(s), `/${source}/ ${JSON.stringify(flags)} on ${JSON.stringify(s)}`);
      compared++;
    }
  }
  assert.ok(compared > 30_000, `${compared} comparisons`);
});

test('the rule patterns of the pack behave as intended on real command lines', () => {
  const pipe = compileRegex('\\b(curl|wget)\\b[^|]*\\|\\s*(sudo )?(\\S*/)?(ba|da|z|k)?sh\\b', { i: true, m: false, s: false });
  const t = (s: string): boolean => pipe.test(s, s.toLowerCase());
  assert.ok(t('curl -fsSL https://get.example.sh | sh'));
  assert.ok(t('WGET -qO- http://x/i | sudo /bin/bash'));
  assert.not.ok(t('curl -o /tmp/x https://example.org && sh /tmp/x'));
  assert.not.ok(t('curl https://example.org | shasum'));
});

test('refused: nested quantifiers, quantified alternation, too many unbounded quantifiers', () => {
  assert.match(refusal('(a+)+$'), /nested quantifier/);
  assert.match(refusal('(\\w+\\s?)*x'), /nested quantifier/);
  assert.match(refusal('(.*,){5}'), /nested quantifier/);
  assert.match(refusal('(a|ab)*c'), /alternation inside a repeated group/);
  assert.match(refusal('(?:\\s|;)+'), /alternation inside a repeated group/);
  assert.match(refusal('.*a.*b.*c.*d.*e'), /more than 4 unbounded quantifiers/);
  // Bounded or single-character repeats are fine.
  assert.is(refusal('(ab)+c'), 'accepted');
  assert.is(refusal('(a+)?b'), 'accepted');
  assert.is(refusal('[\\s;]+x{2,5}'), 'accepted');
});

test('refused: syntax outside the flavour, each with its reason', () => {
  assert.match(refusal('(a)\\1'), /back-references/);
  assert.match(refusal('(?=a)b'), /look-ahead/);
  assert.match(refusal('(?<!a)b'), /negative look-behind/);
  assert.match(refusal('(?<n>a)'), /named groups/);
  assert.match(refusal('(?i)a'), /inline flags/);
  assert.match(refusal('\\p{L}'), /unsupported escape \\p/);
  assert.match(refusal('a{2,1}'), /reversed/);
  assert.match(refusal('a{1,500}'), /bounds above 100/);
  assert.match(refusal('a{'), /must start a quantifier/);
  assert.match(refusal('(ab'), /unclosed group/);
  assert.match(refusal('ab)'), /unmatched \)/);
  assert.match(refusal('[abc'), /unclosed character class/);
  assert.match(refusal('[]a]'), /empty character class/);
  assert.match(refusal('*a'), /nothing to repeat/);
  assert.match(refusal('a**'), /quantifier cannot follow a quantifier/);
  assert.match(refusal('^*'), /cannot follow an anchor/);
  assert.match(refusal('[[:alpha:]]'), /POSIX classes/);
  assert.match(refusal('a'.repeat(513)), /longer than 512/);
  assert.match(refusal('(?:a{100}){100}'), new RegExp(`more than ${MAX_RE_PROGRAM} instructions|nested quantifier`));
});

test('the position of a refusal points into the pattern', () => {
  try {
    compileRegex('abc(d+)+', NO_FLAGS);
    assert.unreachable('must throw');
  } catch (err) {
    assert.instance(err, RegexSyntaxError);
    assert.is((err as RegexSyntaxError).at, 4);
  }
});

test('an accepted pattern that is exponential or polynomial for a backtracking engine runs in one pass', () => {
  // JavaScript's RegExp needs seconds for `.*b.*c` on 1,000 "b"s and far longer for this one on
  // 50,000; the Thompson simulation visits each character once per live instruction.
  const re = compileRegex('.*b.*b.*c', NO_FLAGS);
  const s = 'b'.repeat(50_000);
  assert.is(re.test(s, null), false);
  assert.is(re.test(`${s}c`, null), true);
});

test.run();

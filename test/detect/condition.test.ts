import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type Cond, evaluate, parseCondition } from '../../src/detect/mod.ts';
import { mustLoad, proc, procRule } from './helpers.ts';

const test = suite('detect: conditions');

/** The tree as a compact string: (a & b), (a | b), !a, 1of(p), allof(them). */
function show(c: Cond | { reason: string }): string {
  if ('reason' in c) return `error: ${c.reason}`;
  switch (c.t) {
    case 'id':
      return c.name;
    case 'not':
      return `!${show(c.x)}`;
    case 'and':
      return `(${c.xs.map(show).join(' & ')})`;
    case 'or':
      return `(${c.xs.map(show).join(' | ')})`;
    case 'of':
      return `${c.all ? 'all' : '1'}of(${c.pattern ?? 'them'})`;
  }
}

test('precedence: not binds tighter than and, and tighter than or', () => {
  assert.is(show(parseCondition('a or b and not c')), '(a | (b & !c))');
  assert.is(show(parseCondition('not a and b')), '(!a & b)');
  assert.is(show(parseCondition('a and b or c and d')), '((a & b) | (c & d))');
  assert.is(show(parseCondition('not not a')), '!!a');
  assert.is(show(parseCondition('a or b or c')), '(a | b | c)');
});

test('parentheses override precedence and may nest, with or without spaces', () => {
  assert.is(show(parseCondition('(a or b) and not c')), '((a | b) & !c)');
  assert.is(show(parseCondition('not (a or (b and c))')), '!(a | (b & c))');
  assert.is(show(parseCondition('(a)and(b)')), '(a & b)');
});

test('x of: 1 of / all of a pattern or them, binding tighter than not', () => {
  assert.is(show(parseCondition('1 of selection* and not 1 of filter*')), '(1of(selection*) & !1of(filter*))');
  assert.is(show(parseCondition('all of them')), 'allof(them)');
  assert.is(show(parseCondition('1 of them or keywords')), '(1of(them) | keywords)');
  assert.is(show(parseCondition('ALL OF sel_* AND NOT filter')), '(allof(sel_*) & !filter)');
});

test('refusals carry the column', () => {
  const e = parseCondition('a and | count() > 3');
  assert.ok('reason' in e);
  assert.is((e as { at: number }).at, 6);
  assert.match(show(parseCondition('a b')), /unexpected `b`/);
  assert.match(show(parseCondition('a and')), /ends where a search identifier was expected/);
  assert.match(show(parseCondition('1 of')), /must be followed by `them` or a search-identifier pattern/);
  assert.match(show(parseCondition('sel*')), /wildcards in identifiers/);
  assert.match(show(parseCondition('a ; b')), /unexpected character ";"/);
});

// Three selections over the process item, and one starting with `_` that `them` leaves out.
const DETECTION = `    sel_a:
        User: alice
    sel_b:
        Image|endswith: /ls
    other:
        CurrentDirectory: /tmp
    _private:
        ProcessId: 4242`;

function truth(condition: string): string {
  const rule = mustLoad(procRule(`${DETECTION}\n    condition: ${condition}`));
  // Items for each combination of (sel_a, sel_b, other); _private is always true here.
  const cases: [boolean, boolean, boolean][] = [
    [false, false, false],
    [true, false, false],
    [false, true, false],
    [true, true, false],
    [false, false, true],
    [true, true, true],
  ];
  return cases
    .map(([a, b, o]) =>
      evaluate([rule], proc({ user: a ? 'alice' : 'bob', exe: b ? '/usr/bin/ls' : '/usr/bin/cat', cwd: o ? '/tmp' : '/home' })).length ? '1' : '0',
    )
    .join('');
}

test('evaluation: 1 of / all of patterns and them (without _-prefixed selections)', () => {
  assert.is(truth('1 of sel_* and not other or _private and not _private'), '011100');
  assert.is(truth('all of sel_* and not other and _private'), '000100');
  // `them` leaves _private out: with it, all of them would need nothing else.
  assert.is(truth('all of them and _private'), '000001');
  assert.is(truth('1 of them and _private'), '011111');
  assert.is(truth('not 1 of them and _private'), '100000');
  assert.is(truth('(sel_a or sel_b) and not (other or not _private)'), '011100');
  assert.is(truth('sel_a or sel_b and other and _private'), '010101');
});

test('a list of conditions matches when any of them does', () => {
  const rule = mustLoad(procRule(`${DETECTION}\n    condition:\n        - sel_a and not sel_b\n        - other and _private`));
  assert.is(evaluate([rule], proc({ user: 'alice', exe: '/usr/bin/cat' })).length, 1);
  assert.is(evaluate([rule], proc({ user: 'bob', cwd: '/tmp' })).length, 1);
  assert.is(evaluate([rule], proc({ user: 'alice', exe: '/usr/bin/ls' })).length, 0);
});

test.run();

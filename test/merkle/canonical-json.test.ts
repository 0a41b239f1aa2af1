import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { canonicalJson, leafHash } from '../../src/merkle/mod.ts';
import { throws } from '../helpers/assert.ts';

const test = suite('merkle: canonical JSON');

const text = (v: unknown): string => new TextDecoder().decode(canonicalJson(v));

test('keys sorted at every depth, no whitespace, the same bytes whatever the insertion order', () => {
  const a = { kind: 'process', pid: 42, nested: { z: [3, { b: 1, a: 2 }], a: null }, cmdline: 'sh -c "x"' };
  const b = { cmdline: 'sh -c "x"', nested: { a: null, z: [3, { a: 2, b: 1 }] }, pid: 42, kind: 'process' };
  assert.is(text(a), '{"cmdline":"sh -c \\"x\\"","kind":"process","nested":{"a":null,"z":[3,{"a":2,"b":1}]},"pid":42}');
  assert.equal(canonicalJson(a), canonicalJson(b));
  assert.equal(leafHash(canonicalJson(a)), leafHash(canonicalJson(b)));
});

test('the RFC 8785 §3.2.2 example: ECMAScript number forms and string escapes', () => {
  const input = JSON.parse(
    '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
  );
  assert.is(text(input), '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
});

test('keys sort by UTF-16 code units (RFC 8785 §3.2.3), not by code points; output is UTF-8', () => {
  // U+1F600 is D83D DE00 in UTF-16, so it sorts before U+FB01 although its code point is larger.
  assert.is(text({ '\ufb01': 3, '\u{1f600}': 2, '\u20ac': 1, a: 0 }), '{"a":0,"€":1,"😀":2,"ﬁ":3}');
  assert.equal([...canonicalJson('é')], [0x22, 0xc3, 0xa9, 0x22]);
  assert.is(text(-0), '0');
  assert.is(text([1.0, 1e21, 5e-7, -1.5]), '[1,1e+21,5e-7,-1.5]');
});

test('refuses what has no single JSON form, naming where it is', () => {
  const cases: Array<[unknown, string]> = [
    [{ a: Number.NaN }, '$.a'],
    [{ a: [1, Number.POSITIVE_INFINITY] }, '$.a[1]'],
    [{ a: { b: undefined } }, '$.a.b'],
    [[undefined], '$[0]'],
    [undefined, '$'],
    [{ f: () => 1 }, '$.f'],
    [{ s: Symbol('x') }, '$.s'],
    [{ n: 10n }, '$.n'],
    [{ d: new Date(0) }, '$.d'],
    [{ m: new Map() }, '$.m'],
    [{ s: 'ok\ud800' }, '$.s'],
    [{ '\udc00': 1 }, '$.\udc00'],
    // biome-ignore lint/suspicious/noSparseArray: a hole is what is being refused
    [[1, , 3], '$[1]'],
  ];
  for (const [value, field] of cases) {
    const err = throws(() => canonicalJson(value), 'STK_ERR_VALIDATION');
    assert.is(err.data.field, field, String(err.message));
  }
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  assert.is(throws(() => canonicalJson(cyclic), 'STK_ERR_VALIDATION').data.reason, 'cycle');
  let deep: unknown = 1;
  for (let i = 0; i < 300; i++) deep = [deep];
  throws(() => canonicalJson(deep), 'STK_ERR_VALIDATION');
  // The same object twice (not a cycle) is fine, and null-prototype objects are plain.
  const shared = { x: 1 };
  assert.is(text({ a: shared, b: shared, c: Object.assign(Object.create(null), { k: 'v' }) }), '{"a":{"x":1},"b":{"x":1},"c":{"k":"v"}}');
});

test.run();

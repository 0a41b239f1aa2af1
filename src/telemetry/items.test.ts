import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { canonicalJson, leafHash, merkleRoot } from '../merkle/mod.ts';
import { itemBytes, telemetryRoot } from './items.ts';

const test = suite('telemetry items: canonical bytes and roots');

const strings = [
  '',
  'plain',
  'quote " and \\ backslash',
  'tab\tnew\nline\u0001\u001f\u007f',
  'ünïcödé',
  '日本語',
  'emoji 😀 pair',
  '\u2028\u2029',
  '</script>',
];

test('the fast path writes exactly what canonicalJson writes, for every kind of flat value', () => {
  let n = 0;
  for (const a of strings)
    for (const b of strings) {
      const item = {
        kind: 'process',
        zeta: a,
        alpha: b,
        num: n - 7.5,
        int: n++,
        neg: -0,
        big: 2 ** 53 - 1,
        small: 1e-7,
        t: true,
        f: false,
        nil: null,
        Upper: 'x',
        _u: 1,
      };
      assert.equal(Buffer.from(itemBytes([item])[0]!), Buffer.from(canonicalJson(item)), JSON.stringify(item));
    }
});

test('what the fast path does not take goes through canonicalJson: nested values, integer-like keys, lone surrogates are refused', () => {
  const nested = { kind: 'account-change', details: { b: 1, a: [2, { d: 3, c: 4 }] }, account: 'x' };
  assert.is(Buffer.from(itemBytes([nested])[0]!).toString(), '{"account":"x","details":{"a":[2,{"c":4,"d":3}],"b":1},"kind":"account-change"}');
  const numeric = { 10: 'a', 9: 'b', x: 'c' };
  assert.is(Buffer.from(itemBytes([numeric])[0]!).toString(), '{"10":"a","9":"b","x":"c"}');
  assert.throws(() => itemBytes([{ s: 'lone \ud800 surrogate' }]), /lone surrogate/);
});

test('the root of a batch is the RFC 6962 root of its items in order', () => {
  const items = [
    { kind: 'connection', a: 1 },
    { kind: 'connection', a: 2 },
    { kind: 'connection', a: 3 },
  ];
  const leaves = items.map((i) => leafHash(canonicalJson(i)));
  assert.is(telemetryRoot(items), Buffer.from(merkleRoot(leaves)).toString('hex'));
  assert.is.not(telemetryRoot(items), telemetryRoot([items[1], items[0], items[2]]), 'order matters');
});

test.run();

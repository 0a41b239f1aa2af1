import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FileLeafStore,
  MerkleTree,
  consistencyProof,
  emptyRoot,
  inclusionProof,
  leafHash,
  merkleRoot,
  verifyConsistency,
  verifyInclusion,
} from '../../src/merkle/mod.ts';
import { throws } from '../helpers/assert.ts';

const test = suite('merkle: incremental tree');

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const leaves = (n: number, salt = 'x'): Uint8Array[] => Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`${salt}-${i}`)));
const treeOf = (ls: Uint8Array[], cacheFromLevel = 4): MerkleTree => {
  const t = new MerkleTree({ cacheFromLevel });
  for (const l of ls) t.append(l);
  return t;
};

// RFC 6962 §2.1 written out as the spec states it, on arrays: the reference the tree is checked against.
const node = (l: Uint8Array, r: Uint8Array): Uint8Array =>
  createHash('sha256')
    .update(Buffer.from([1]))
    .update(l)
    .update(r)
    .digest();
const split = (n: number): number => 2 ** Math.ceil(Math.log2(n) - 1);
function mth(d: Uint8Array[]): Uint8Array {
  if (d.length === 0) return createHash('sha256').digest();
  if (d.length === 1) return d[0]!;
  const k = split(d.length);
  return node(mth(d.slice(0, k)), mth(d.slice(k)));
}
function path(m: number, d: Uint8Array[]): Uint8Array[] {
  if (d.length <= 1) return [];
  const k = split(d.length);
  return m < k ? [...path(m, d.slice(0, k)), mth(d.slice(k))] : [...path(m - k, d.slice(k)), mth(d.slice(0, k))];
}
function subproof(m: number, d: Uint8Array[], b: boolean): Uint8Array[] {
  if (m === d.length) return b ? [] : [mth(d)];
  const k = split(d.length);
  return m <= k ? [...subproof(m, d.slice(0, k), b), mth(d.slice(k))] : [...subproof(m - k, d.slice(k), false), mth(d.slice(0, k))];
}

test('split point is the largest power of two below n', () => {
  assert.equal([2, 3, 4, 5, 8, 9, 16, 17].map(split), [1, 2, 2, 4, 4, 8, 8, 16]);
});

test('roots and proofs equal the RFC 6962 definitions for every size, index and size pair up to 64', () => {
  const d = leaves(64);
  for (const level of [1, 2, 4]) {
    const t = treeOf(d, level);
    for (let n = 0; n <= 64; n++) {
      assert.is(hex(t.root(n)), hex(mth(d.slice(0, n))), `root(${n}) at cache level ${level}`);
      for (let i = 0; i < n; i++) assert.equal(t.inclusionProof(i, n).map(hex), path(i, d.slice(0, n)).map(hex), `path(${i}, ${n})`);
      for (let m = 1; m < n; m++) assert.equal(t.consistencyProof(m, n).map(hex), subproof(m, d.slice(0, n), true).map(hex), `proof(${m}, ${n})`);
    }
  }
});

test('every inclusion proof for every size 1..300 round-trips through verifyInclusion; a wrong index or leaf is refused', () => {
  const d = leaves(300);
  const t = treeOf(d);
  let checked = 0;
  for (let n = 1; n <= 300; n++) {
    const root = t.root(n);
    for (let i = 0; i < n; i++) {
      const proof = t.inclusionProof(i, n);
      const r = verifyInclusion(d[i]!, i, n, proof, root);
      if (!r.ok) assert.unreachable(`inclusion ${i} of ${n}: ${r.reason}`);
      checked++;
    }
    // One refusal per size with each kind of damage: another leaf, another index, another size.
    const i = (n * 7) % n;
    const proof = t.inclusionProof(i, n);
    if (n > 1) {
      assert.not.ok(verifyInclusion(d[(i + 1) % n]!, i, n, proof, root).ok, `other leaf at ${n}`);
      assert.not.ok(verifyInclusion(d[i]!, (i + 1) % n, n, proof, root).ok, `other index at ${n}`);
    }
    // A proof does not bind the size on its own (leaf 0 of 3 and of 4 have paths of one shape): the root does.
    if (n < 300) assert.not.ok(verifyInclusion(d[i]!, i, n + 1, proof, t.root(n + 1)).ok, `other size at ${n}`);
  }
  assert.is(checked, (300 * 301) / 2);
});

test('every consistency proof for every pair of sizes 1 ≤ m ≤ n ≤ 300 round-trips through verifyConsistency', () => {
  const t = treeOf(leaves(300));
  const roots = Array.from({ length: 301 }, (_, n) => t.root(n));
  let checked = 0;
  for (let n = 1; n <= 300; n++) {
    for (let m = 1; m <= n; m++) {
      const r = verifyConsistency(m, n, roots[m]!, roots[n]!, t.consistencyProof(m, n));
      if (!r.ok) assert.unreachable(`consistency ${m} → ${n}: ${r.reason}`);
      checked++;
    }
  }
  assert.is(checked, (300 * 301) / 2);
});

test('a damaged consistency proof is refused: each hash flipped, one dropped, one added, roots swapped, fork', () => {
  const t = treeOf(leaves(300));
  const fork = treeOf([...leaves(150), ...leaves(150, 'fork')]);
  for (const [m, n] of [
    [1, 2],
    [3, 7],
    [4, 8],
    [6, 8],
    [13, 200],
    [128, 300],
    [255, 256],
    [299, 300],
  ] as const) {
    const proof = t.consistencyProof(m, n);
    const [r1, r2] = [t.root(m), t.root(n)];
    for (let j = 0; j < proof.length; j++) {
      const bad = proof.map((h) => Uint8Array.from(h));
      bad[j]![j % 32]! ^= 0x10;
      assert.not.ok(verifyConsistency(m, n, r1, r2, bad).ok, `flipped ${j} in ${m} → ${n}`);
    }
    assert.not.ok(verifyConsistency(m, n, r1, r2, proof.slice(0, -1)).ok, `dropped in ${m} → ${n}`);
    assert.not.ok(verifyConsistency(m, n, r1, r2, [...proof, r1]).ok, `added in ${m} → ${n}`);
    assert.not.ok(verifyConsistency(m, n, r2, r1, proof).ok, `swapped roots in ${m} → ${n}`);
    if (n > 150 && m <= 150) {
      // The fork shares the first 150 leaves: old roots agree, new roots differ.
      assert.is(hex(fork.root(m)), hex(r1));
      assert.not.ok(verifyConsistency(m, n, r1, fork.root(n), proof).ok, `fork at ${m} → ${n}`);
      assert.ok(verifyConsistency(m, n, r1, fork.root(n), fork.consistencyProof(m, n)).ok, `fork's own proof ${m} → ${n}`);
    }
  }
});

test('the cache level changes memory, never an answer', () => {
  const d = leaves(1000);
  const trees = [1, 3, 4, 8, 12].map((l) => treeOf(d, l));
  for (const [i, n, m] of [
    [0, 1000, 1],
    [999, 1000, 999],
    [511, 777, 512],
    [300, 513, 257],
  ] as const) {
    const want = trees[0]!;
    for (const t of trees.slice(1)) {
      assert.is(hex(t.root(n)), hex(want.root(n)));
      assert.equal(t.inclusionProof(i, n).map(hex), want.inclusionProof(i, n).map(hex));
      assert.equal(t.consistencyProof(m, n).map(hex), want.consistencyProof(m, n).map(hex));
    }
  }
});

test('a large tree answers for old sizes: random proofs in a tree of 100,000 leaves verify', () => {
  const t = new MerkleTree();
  for (let i = 0; i < 100_000; i++) t.append(leafHash(Buffer.from(String(i))));
  let seed = 7;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let k = 0; k < 200; k++) {
    const n = 1 + rand(100_000);
    const i = rand(n);
    const m = 1 + rand(n);
    assert.ok(verifyInclusion(leafHash(Buffer.from(String(i))), i, n, t.inclusionProof(i, n), t.root(n)).ok, `inclusion ${i} of ${n}`);
    assert.ok(verifyConsistency(m, n, t.root(m), t.root(n), t.consistencyProof(m, n)).ok, `consistency ${m} → ${n}`);
  }
  assert.is(hex(t.root()), hex(merkleRoot(Array.from({ length: 100_000 }, (_, i) => leafHash(Buffer.from(String(i)))))));
});

test('the array helpers agree with the tree', () => {
  const d = leaves(37);
  const t = treeOf(d);
  assert.equal(inclusionProof(d, 5).map(hex), t.inclusionProof(5).map(hex));
  assert.equal(inclusionProof(d, 5, 20).map(hex), t.inclusionProof(5, 20).map(hex));
  assert.equal(consistencyProof(d, 9).map(hex), t.consistencyProof(9).map(hex));
  assert.equal(consistencyProof(d, 9, 30).map(hex), t.consistencyProof(9, 30).map(hex));
  assert.equal(consistencyProof(d, 0), []);
  assert.equal(consistencyProof(d, 37), []);
});

test('empty tree, copies, range and input errors', () => {
  const t = new MerkleTree();
  assert.is(hex(t.root()), hex(emptyRoot()));
  assert.is(hex(merkleRoot([])), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  throws(() => t.inclusionProof(0), 'STK_ERR_MERKLE_RANGE');
  t.append(leafHash(new Uint8Array()));
  const root = t.root();
  root.fill(0); // a caller scribbling on a returned root must not reach the tree
  assert.is(hex(t.root()), '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
  const e1 = throws(() => t.root(2), 'STK_ERR_MERKLE_RANGE');
  assert.equal(e1.data, { field: 'size', actual: 2, size: 1 });
  throws(() => t.inclusionProof(1, 1), 'STK_ERR_MERKLE_RANGE');
  throws(() => t.inclusionProof(-1, 1), 'STK_ERR_MERKLE_RANGE');
  throws(() => t.inclusionProof(0.5, 1), 'STK_ERR_MERKLE_RANGE');
  throws(() => t.consistencyProof(2, 1), 'STK_ERR_MERKLE_RANGE');
  throws(() => t.consistencyProof(0, 2), 'STK_ERR_MERKLE_RANGE');
  throws(() => t.append(new Uint8Array(31)), 'STK_ERR_VALIDATION');
  throws(() => merkleRoot([new Uint8Array(32), new Uint8Array(33)]), 'STK_ERR_VALIDATION');
  throws(() => new MerkleTree({ cacheFromLevel: 0 }), 'STK_ERR_VALIDATION');
});

test('the verifiers give a value for any input, never an exception', () => {
  const h = new Uint8Array(32);
  const garbage: unknown[] = [undefined, null, 0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 64, '3', {}, [], [null], [h, 'x'], new Uint8Array(31), h];
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  garbage.push(revoked.proxy, new Array(100).fill(h));
  let calls = 0;
  for (const g of garbage) {
    const args = [h, 0, 1, [], h] as unknown[];
    for (let pos = 0; pos < 5; pos++) {
      const a = [...args];
      a[pos] = g;
      const r = (verifyInclusion as (...x: unknown[]) => { ok: boolean })(...a);
      assert.type(r.ok, 'boolean');
      const c = [1, 2, h, h, [h]] as unknown[];
      c[pos] = g;
      const s = (verifyConsistency as (...x: unknown[]) => { ok: boolean })(...c);
      assert.type(s.ok, 'boolean');
      calls++;
    }
  }
  assert.is(calls, garbage.length * 5);
  assert.equal(verifyInclusion(h, 0, 1, [h], h), { ok: false, reason: 'proof-length' });
  assert.equal(verifyConsistency(0, 3, emptyRoot(), h, []), { ok: false, reason: 'empty-old-tree' });
  assert.equal(verifyConsistency(3, 2, h, h, []), { ok: false, reason: 'size-order' });
});

test('a file-backed tree survives a reopen, and a torn last record is cut off', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stk-merkle-'));
  try {
    const file = join(dir, 'leaves');
    const d = leaves(5000);
    const store = FileLeafStore.open(file);
    const t = new MerkleTree({ store });
    for (const l of d) t.append(l);
    const root = hex(t.root());
    const proof = t.inclusionProof(4321, 4500).map(hex);
    store.close();
    assert.is(statSync(file).size, 5000 * 32);
    assert.is((statSync(file).mode & 0o777).toString(8), '600');

    truncateSync(file, 5000 * 32 - 5); // a crash in the middle of the last record
    const store2 = FileLeafStore.open(file);
    const t2 = new MerkleTree({ store: store2 });
    assert.is(t2.size, 4999);
    assert.is(hex(t2.root()), hex(merkleRoot(d.slice(0, 4999))));
    assert.equal(t2.inclusionProof(4321, 4500).map(hex), proof);
    t2.append(d[4999]!);
    assert.is(hex(t2.root()), root);
    store2.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();

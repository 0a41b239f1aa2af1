import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { MerkleTree, leafHash, merkleRoot, verifyConsistency, verifyInclusion } from '../../src/merkle/mod.ts';

const test = suite('merkle: transparency-dev/merkle proof vectors');

const root = resolve(import.meta.dirname, '../vectors/merkle');
const b64 = (s: string): Uint8Array => Buffer.from(s, 'base64');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (name.endsWith('.json')) out.push(p);
  }
  return out;
}

interface InclusionCase {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
  wantErr: boolean;
}
interface ConsistencyCase {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
  wantErr: boolean;
}

const load = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T;

// The leaf inputs and roots the vectors' README gives for the tree they were cut from.
const INPUTS = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

test('every inclusion vector: happy cases verify, every wantErr case is refused', () => {
  const all = files(join(root, 'inclusion'));
  assert.ok(all.length >= 80, `found ${all.length} inclusion vectors`);
  let refused = 0;
  for (const f of all) {
    const c = load<InclusionCase>(f);
    const r = verifyInclusion(b64(c.leafHash), c.leafIdx, c.treeSize, (c.proof ?? []).map(b64), b64(c.root));
    assert.is(r.ok, !c.wantErr, `${relative(root, f)}: ${JSON.stringify(r)}`);
    if (!r.ok) refused++;
  }
  assert.ok(refused >= 70, `${refused} refused`);
});

test('every consistency vector: happy cases verify, every wantErr case is refused', () => {
  const all = files(join(root, 'consistency'));
  assert.ok(all.length >= 95, `found ${all.length} consistency vectors`);
  let refused = 0;
  for (const f of all) {
    const c = load<ConsistencyCase>(f);
    const r = verifyConsistency(c.size1, c.size2, b64(c.root1), b64(c.root2), (c.proof ?? []).map(b64));
    assert.is(r.ok, !c.wantErr, `${relative(root, f)}: ${JSON.stringify(r)}`);
    if (!r.ok) refused++;
  }
  assert.ok(refused >= 90, `${refused} refused`);
});

test('the tree of the README inputs has the README roots at every size, and merkleRoot agrees', () => {
  const leaves = INPUTS.map((h) => leafHash(Buffer.from(h, 'hex')));
  const tree = new MerkleTree();
  assert.is(hex(tree.root()), ROOTS[0]);
  for (const l of leaves) tree.append(l);
  for (let size = 0; size <= 8; size++) {
    assert.is(hex(tree.root(size)), ROOTS[size], `root(${size})`);
    assert.is(hex(merkleRoot(leaves.slice(0, size))), ROOTS[size], `merkleRoot of ${size}`);
  }
});

test('the proofs our tree generates are byte for byte the happy-path proofs', () => {
  const tree = new MerkleTree({ cacheFromLevel: 1 });
  for (const h of INPUTS) tree.append(leafHash(Buffer.from(h, 'hex')));
  let compared = 0;
  for (const f of files(join(root, 'inclusion')).filter((p) => p.endsWith('happy-path.json'))) {
    const c = load<InclusionCase>(f);
    assert.equal(
      tree.inclusionProof(c.leafIdx, c.treeSize).map(hex),
      (c.proof ?? []).map((p) => hex(b64(p))),
      relative(root, f),
    );
    assert.is(hex(tree.leafHash(c.leafIdx)), hex(b64(c.leafHash)));
    compared++;
  }
  for (const f of files(join(root, 'consistency')).filter((p) => p.endsWith('happy-path.json'))) {
    const c = load<ConsistencyCase>(f);
    assert.equal(
      tree.consistencyProof(c.size1, c.size2).map(hex),
      (c.proof ?? []).map((p) => hex(b64(p))),
      relative(root, f),
    );
    compared++;
  }
  assert.is(compared, 10);
});

test.run();

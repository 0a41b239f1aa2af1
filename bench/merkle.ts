import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { MerkleTree, canonicalJson, leafHash, merkleRoot, verifyConsistency, verifyInclusion } from '../src/merkle/mod.ts';
import { report } from './util.ts';

const ITEMS = 10_000;
const TREE_LEAVES = 1_000_000;
const PROOFS = 20_000;
const UPDATES = 200;
const UPDATE_ENTRIES = 1_000;

/** A telemetry item of about 300 bytes of canonical JSON, the shape agents send (HELPERS.md). */
function item(i: number): Record<string, unknown> {
  return {
    kind: 'process',
    pid: 4000 + i,
    ppid: 1,
    uid: 1000,
    user: 'alice',
    exe: '/usr/bin/python3.11',
    name: 'python3',
    sha256: createHash('sha256').update(String(i)).digest('hex'),
    cmdline: `python3 /opt/app/worker.py --shard ${i % 64}`,
    cmdlineTruncated: false,
    startedAt: new Date(1_700_000_000_000 + i * 1000).toISOString(),
    cwd: '/opt/app',
    parentExe: null,
    parentName: null,
    parentCmdline: null,
  };
}

const sha256 = (b: Uint8Array): Uint8Array => createHash('sha256').update(b).digest();

/** Wall time in ms of one call of `fn`. */
function timeMs(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Runs `ref` and each of `fns` in turn, `rounds` times (after one warm-up round), and returns the
 * median ms of each. Interleaving keeps the reference and the figures under the same load on a
 * shared machine, which is what makes their ratio steadier than either figure.
 */
function paired(rounds: number, ref: () => void, ...fns: Array<() => void>): { ref: number; figures: number[] } {
  ref();
  for (const f of fns) f();
  const refs: number[] = [];
  const figures: number[][] = fns.map(() => []);
  for (let r = 0; r < rounds; r++) {
    refs.push(timeMs(ref));
    for (let i = 0; i < fns.length; i++) figures[i]!.push(timeMs(fns[i]!));
  }
  return { ref: median(refs), figures: figures.map(median) };
}

/**
 * (a) Merkle root of 10,000 items (leaf hashes and root; then with canonical JSON too) beside one
 * plain SHA-256 of each item; (b) inclusion proofs/s generated at any past size of a tree of
 * 1,000,000 leaves, and verified, beside plain SHA-256s/s of the items; (c) tree update per 1,000
 * entries (append, new root, consistency proof from the previous size) beside plain SHA-256 of
 * 1,000 items. Lower ms and higher rates are better; the ratio is the figure to compare.
 */
export async function benchMerkle(): Promise<void> {
  const objects = Array.from({ length: ITEMS }, (_, i) => item(i));
  const bytes = objects.map(canonicalJson);
  const avg = Math.round(bytes.reduce((n, b) => n + b.length, 0) / bytes.length);
  console.log(`  items: ${ITEMS} process telemetry objects, ${avg} bytes of canonical JSON on average; tree of ${TREE_LEAVES.toLocaleString('en-US')} leaves`);

  const plainAll = (): void => {
    for (const b of bytes) sha256(b);
  };
  const a = paired(
    7,
    plainAll,
    () => merkleRoot(bytes.map(leafHash)),
    () => merkleRoot(objects.map((o) => leafHash(canonicalJson(o)))),
  );
  report('Merkle root of 10,000 items (leaf hashes + root), ms', a.figures[0]!, 'ms', { label: 'SHA-256 of each item', value: a.ref });
  report('  … with canonical JSON of each item, ms', a.figures[1]!, 'ms', { label: 'SHA-256 of each item', value: a.ref });

  const tree = new MerkleTree();
  const buildMs = timeMs(() => {
    for (let i = 0; i < TREE_LEAVES; i++) tree.append(leafHash(bytes[i % ITEMS]!));
  });
  console.log(`  (tree of ${TREE_LEAVES.toLocaleString('en-US')} leaves built in ${(buildMs / 1000).toFixed(1)} s)`);

  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const asks = Array.from({ length: PROOFS }, () => {
    const size = TREE_LEAVES - rand(TREE_LEAVES / 2);
    return { size, index: rand(size), leaf: new Uint8Array() as Uint8Array, root: new Uint8Array() as Uint8Array, proof: [] as Uint8Array[] };
  });
  for (const q of asks) {
    q.leaf = tree.leafHash(q.index);
    q.root = tree.root(q.size);
  }
  const batch = PROOFS / 10;
  let offset = 0;
  let failed = 0;
  const b = paired(
    9,
    () => {
      for (let i = 0; i < batch; i++) sha256(bytes[i]!);
    },
    () => {
      for (let i = 0; i < batch; i++) {
        const q = asks[(offset + i) % PROOFS]!;
        q.proof = tree.inclusionProof(q.index, q.size);
      }
    },
    () => {
      for (let i = 0; i < batch; i++) {
        const q = asks[(offset + i) % PROOFS]!;
        if (!verifyInclusion(q.leaf, q.index, q.size, q.proof, q.root).ok) failed++;
      }
      offset += batch;
    },
  );
  if (failed) throw new Error(`${failed} inclusion proofs did not verify`);
  const rate = (ms: number): number => batch / (ms / 1000);
  report('inclusion proofs generated/s (any past size, 1M leaves)', rate(b.figures[0]!), 'ops/s', { label: 'SHA-256/s', value: rate(b.ref) });
  report('inclusion proofs verified/s', rate(b.figures[1]!), 'ops/s', { label: 'SHA-256/s', value: rate(b.ref) });

  let u = 0;
  const c = paired(
    UPDATES,
    () => {
      for (let i = 0; i < UPDATE_ENTRIES; i++) sha256(bytes[i]!);
    },
    () => {
      const old = tree.size;
      const oldRoot = tree.root();
      for (let i = 0; i < UPDATE_ENTRIES; i++) tree.append(leafHash(bytes[(u * UPDATE_ENTRIES + i) % ITEMS]!));
      const proof = tree.consistencyProof(old);
      if (!verifyConsistency(old, tree.size, oldRoot, tree.root(), proof).ok) throw new Error('consistency proof did not verify');
      u++;
    },
  );
  report('tree update per 1,000 entries (append, root, proof), ms', c.figures[0]!, 'ms', { label: 'SHA-256 of 1,000 items', value: c.ref });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchMerkle();
}

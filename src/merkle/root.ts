import { StkError } from '../errors.ts';
import { emptyRoot, isHash, nodeHash } from './hash.ts';
import { ArrayLeafStore } from './store.ts';
import { MerkleTree } from './tree.ts';

/**
 * The RFC 6962 root of a list of leaf hashes (SHA-256("") when empty), in one pass holding only
 * the right edge of the tree (one hash per level), so an iterable of millions costs O(log n) memory.
 */
export function merkleRoot(leafHashes: Iterable<Uint8Array>): Uint8Array {
  const edge: Array<Uint8Array | undefined> = [];
  let size = 0;
  for (const leaf of leafHashes) {
    if (!isHash(leaf)) throw new StkError('STK_ERR_VALIDATION', `leaf hash ${size} is not 32 bytes`, { field: `leafHashes[${size}]` });
    let h = leaf;
    let level = 0;
    for (let n = size; n % 2 === 1; n = (n - 1) / 2) {
      h = nodeHash(edge[level]!, h);
      edge[level++] = undefined;
    }
    edge[level] = h;
    size++;
  }
  let root: Uint8Array | undefined;
  for (const h of edge) if (h) root = root ? nodeHash(h, root) : h;
  return root ? Uint8Array.from(root) : emptyRoot();
}

/** Audit path of leaf `index` in the tree of the first `size` of `leafHashes` (all by default); O(n) hashing. */
export function inclusionProof(leafHashes: readonly Uint8Array[], index: number, size: number = leafHashes.length): Uint8Array[] {
  return treeOf(leafHashes).inclusionProof(index, size);
}

/** Consistency proof between two sizes of the tree of `leafHashes`; O(n) hashing. */
export function consistencyProof(leafHashes: readonly Uint8Array[], oldSize: number, newSize: number = leafHashes.length): Uint8Array[] {
  return treeOf(leafHashes).consistencyProof(oldSize, newSize);
}

function treeOf(leafHashes: readonly Uint8Array[]): MerkleTree {
  leafHashes.forEach((h, i) => {
    if (!isHash(h)) throw new StkError('STK_ERR_VALIDATION', `leaf hash ${i} is not 32 bytes`, { field: `leafHashes[${i}]` });
  });
  return new MerkleTree({ store: new ArrayLeafStore(leafHashes) });
}

import { StkError } from '../errors.ts';
import { HASH_BYTES, emptyRoot, floorPow2, isHash, log2Exact, lowBit, nodeHash, pairHash, splitPoint } from './hash.ts';
import { HashArray, MemoryLeafStore, type LeafStore } from './store.ts';

/** Options of a MerkleTree. */
export interface MerkleTreeOptions {
  /** Where leaf hashes live. @defaultValue a new MemoryLeafStore */
  store?: LeafStore;
  /**
   * Lowest level whose complete subtree roots are kept in memory (level 0 = leaves, which live in
   * the store). The cache costs 32/2^(L-1) bytes per leaf; a node below level L is recomputed from
   * at most 2^L leaves. @defaultValue 4 (4 bytes per leaf; a proof recomputes at most ~30 hashes)
   */
  cacheFromLevel?: number;
}

/**
 * An append-only RFC 6962 Merkle tree over leaf hashes that answers for every size it has had:
 * `root(size)`, `inclusionProof(index, size)`, `consistencyProof(oldSize, newSize)`.
 *
 * Memory: the leaf hashes (in the store) plus a cache of the complete subtree roots at levels ≥ L
 * and the right edge of the tree (one hash per level). Every proof or root is assembled from at
 * most ~2·log2(n) complete subtrees, each read from the cache or recomputed from ≤ 2^L leaves, so
 * an operation costs O(log n) memory and O(2^L·log n) hashing whatever the size. Opening a tree on
 * a store that already holds leaves replays them once to rebuild the cache (O(n) hashing).
 */
export class MerkleTree {
  readonly #store: LeafStore;
  readonly #cacheFrom: number;
  /** #levels[l] holds the complete subtree roots at level l ≥ cacheFromLevel, in index order. */
  readonly #levels: HashArray[] = [];
  /** #edge[l] is the complete subtree at level l on the right edge, present when bit l of size is set. */
  readonly #edge: Array<Uint8Array | undefined> = [];
  #size = 0;

  constructor(options: MerkleTreeOptions = {}) {
    this.#store = options.store ?? new MemoryLeafStore();
    const level = options.cacheFromLevel ?? 4;
    if (!Number.isInteger(level) || level < 1 || level > 20) {
      throw new StkError('STK_ERR_VALIDATION', 'cacheFromLevel must be an integer from 1 to 20', { field: 'cacheFromLevel', actual: level });
    }
    this.#cacheFrom = level;
    const held = this.#store.size;
    const batch = 4096;
    for (let start = 0; start < held; start += batch) {
      const count = Math.min(batch, held - start);
      const run = this.#store.read(start, count);
      for (let i = 0; i < count; i++) this.#absorb(run.slice(i * HASH_BYTES, (i + 1) * HASH_BYTES));
    }
  }

  /** Number of leaves. */
  get size(): number {
    return this.#size;
  }

  /** Appends one 32-byte leaf hash (see leafHash); returns its index. */
  append(hash: Uint8Array): number {
    if (!isHash(hash)) throw new StkError('STK_ERR_VALIDATION', 'a leaf hash is 32 bytes', { field: 'leafHash' });
    this.#store.append(hash);
    this.#absorb(Uint8Array.from(hash));
    return this.#size - 1;
  }

  /** The leaf hash at `index` (a copy). */
  leafHash(index: number): Uint8Array {
    this.#check(index, 'index', 0, this.#size - 1);
    return Uint8Array.from(this.#node(0, index));
  }

  /** The root hash of the tree at `size` (default: now); SHA-256("") for size 0. */
  root(size: number = this.#size): Uint8Array {
    this.#check(size, 'size', 0, this.#size);
    if (size === 0) return emptyRoot();
    if (size === this.#size) {
      let root: Uint8Array | undefined;
      for (const h of this.#edge) if (h) root = root ? nodeHash(h, root) : h;
      return Uint8Array.from(root!);
    }
    return this.#rangeHash(0, size);
  }

  /** RFC 6962 §2.1.1 audit path of leaf `index` in the tree of `size` (default: now), leaf level first. */
  inclusionProof(index: number, size: number = this.#size): Uint8Array[] {
    this.#check(size, 'size', 1, this.#size);
    this.#check(index, 'index', 0, size - 1);
    const out: Uint8Array[] = [];
    this.#path(index, 0, size, out);
    return out;
  }

  /**
   * RFC 6962 §2.1.2 consistency proof from the tree of `oldSize` to the tree of `newSize` (default:
   * now). Empty when the sizes are equal or oldSize is 0 (the empty tree is consistent with all).
   */
  consistencyProof(oldSize: number, newSize: number = this.#size): Uint8Array[] {
    this.#check(newSize, 'newSize', 0, this.#size);
    this.#check(oldSize, 'oldSize', 0, newSize);
    const out: Uint8Array[] = [];
    if (oldSize > 0 && oldSize < newSize) this.#subproof(oldSize, 0, newSize, true, out);
    return out;
  }

  #check(value: number, field: string, min: number, max: number): void {
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new StkError('STK_ERR_MERKLE_RANGE', `${field} ${value} is outside ${min}..${max} (tree size ${this.#size})`, {
        field,
        actual: value,
        size: this.#size,
      });
    }
  }

  #absorb(leaf: Uint8Array): void {
    let h = leaf;
    let level = 0;
    let n = this.#size;
    while (n % 2 === 1) {
      h = nodeHash(this.#edge[level]!, h);
      this.#edge[level] = undefined;
      n = (n - 1) / 2;
      level++;
      if (level >= this.#cacheFrom) {
        this.#levels[level] ??= new HashArray();
        this.#levels[level]!.append(h);
      }
    }
    this.#edge[level] = h;
    this.#size++;
  }

  /** Root of the complete subtree at `level` covering leaves [index·2^level, (index+1)·2^level). */
  #node(level: number, index: number): Uint8Array {
    if (level === 0) return this.#store.read(index, 1);
    if (level >= this.#cacheFrom) return this.#levels[level]!.get(index);
    const width = 2 ** level;
    // Reduced in place, pair by pair, in a copy of the run of leaves: no view per hash.
    const work = Buffer.from(this.#store.read(index * width, width));
    for (let w = width; w > 1; w /= 2) for (let i = 0; i < w / 2; i++) work.set(pairHash(work, 2 * i * HASH_BYTES), i * HASH_BYTES);
    return work.subarray(0, HASH_BYTES);
  }

  /**
   * MTH(D[a:b]) for a range whose start is aligned to the range's own subtree split, which every
   * range RFC 6962's recursions produce: it is the right fold of its maximal aligned complete subtrees.
   */
  #rangeHash(a: number, b: number): Uint8Array {
    const parts: Uint8Array[] = [];
    while (a < b) {
      const fits = floorPow2(b - a);
      const width = a === 0 ? fits : Math.min(fits, lowBit(a));
      parts.push(this.#node(log2Exact(width), a / width));
      a += width;
    }
    let h = parts.pop()!;
    if (parts.length === 0) return Uint8Array.from(h);
    while (parts.length > 0) h = nodeHash(parts.pop()!, h);
    return h;
  }

  #path(m: number, a: number, b: number, out: Uint8Array[]): void {
    if (b - a === 1) return;
    const k = splitPoint(b - a);
    if (m < a + k) {
      this.#path(m, a, a + k, out);
      out.push(this.#rangeHash(a + k, b));
    } else {
      this.#path(m, a + k, b, out);
      out.push(this.#rangeHash(a, a + k));
    }
  }

  /** SUBPROOF(m, D[a:b], complete) of RFC 6962 §2.1.2, with m an absolute size. */
  #subproof(m: number, a: number, b: number, complete: boolean, out: Uint8Array[]): void {
    if (m === b) {
      if (!complete) out.push(this.#rangeHash(a, b));
      return;
    }
    const k = splitPoint(b - a);
    if (m <= a + k) {
      this.#subproof(m, a, a + k, complete, out);
      out.push(this.#rangeHash(a + k, b));
    } else {
      this.#subproof(m, a + k, b, false, out);
      out.push(this.#rangeHash(a, a + k));
    }
  }
}

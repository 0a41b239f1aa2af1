import { EMPTY_ROOT, bytesEqual, isHash, nodeHash } from './hash.ts';

/** Why a proof was refused. */
export type ProofFailure =
  /** An argument is not of its type: a hash not of 32 bytes, a size not a safe non-negative integer, a proof not an array. */
  | 'malformed'
  /** The leaf index is not below the tree size. */
  | 'index-out-of-range'
  /** The old size is larger than the new size. */
  | 'size-order'
  /** A consistency proof from the empty tree: every tree extends it, so there is nothing to check. */
  | 'empty-old-tree'
  /** The proof has more or fewer hashes than the sizes call for. */
  | 'proof-length'
  /** The proof does not lead to the given root(s). */
  | 'root-mismatch';

/** Outcome of a proof check: a value, never an exception. */
export type ProofResult = { ok: true } | { ok: false; reason: ProofFailure };

// RFC 9162 proofs have at most one hash per level of a 2^64 tree (two for consistency, with the old root).
const MAX_PROOF_HASHES = 64;

const OK: ProofResult = { ok: true };
const fail = (reason: ProofFailure): ProofResult => ({ ok: false, reason });

function isSize(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function isProof(proof: unknown): proof is readonly Uint8Array[] {
  return Array.isArray(proof) && proof.length <= MAX_PROOF_HASHES && proof.every(isHash);
}

const odd = (n: number): boolean => n % 2 === 1;
const half = (n: number): number => Math.floor(n / 2);

/**
 * Checks that `leafHash` is leaf `index` of the tree of `size` whose root is `root`, with the
 * audit path `proof` (RFC 9162 §2.1.3.2). Any input, however malformed, gives a value.
 */
export function verifyInclusion(leafHash: Uint8Array, index: number, size: number, proof: readonly Uint8Array[], root: Uint8Array): ProofResult {
  try {
    if (!isHash(leafHash) || !isHash(root) || !isSize(index) || !isSize(size) || !isProof(proof)) return fail('malformed');
    if (index >= size) return fail('index-out-of-range');
    let fn = index;
    let sn = size - 1;
    let r: Uint8Array = leafHash;
    for (const p of proof) {
      if (sn === 0) return fail('proof-length');
      if (odd(fn) || fn === sn) {
        r = nodeHash(p, r);
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      } else {
        r = nodeHash(r, p);
      }
      fn = half(fn);
      sn = half(sn);
    }
    if (sn !== 0) return fail('proof-length');
    return bytesEqual(r, root) ? OK : fail('root-mismatch');
  } catch {
    return fail('malformed');
  }
}

/**
 * Checks that the tree of `newSize` with root `newRoot` extends the tree of `oldSize` with root
 * `oldRoot` (RFC 9162 §2.1.4.2). Equal sizes need an empty proof and equal roots (the empty
 * root for size 0); an old size of 0 is refused as 'empty-old-tree', since there is nothing to
 * prove. Any input, however malformed, gives a value.
 */
export function verifyConsistency(oldSize: number, newSize: number, oldRoot: Uint8Array, newRoot: Uint8Array, proof: readonly Uint8Array[]): ProofResult {
  try {
    if (!isSize(oldSize) || !isSize(newSize) || !(oldRoot instanceof Uint8Array) || !(newRoot instanceof Uint8Array) || !isProof(proof)) {
      return fail('malformed');
    }
    if (oldSize > newSize) return fail('size-order');
    if (oldSize === newSize) {
      if (proof.length > 0) return fail('proof-length');
      if (!bytesEqual(oldRoot, newRoot)) return fail('root-mismatch');
      return oldSize > 0 || bytesEqual(oldRoot, EMPTY_ROOT) ? OK : fail('root-mismatch');
    }
    if (oldSize === 0) return fail('empty-old-tree');
    if (!isHash(oldRoot) || !isHash(newRoot)) return fail('malformed');
    if (proof.length === 0) return fail('proof-length');
    // When the old tree is a complete subtree of the new one, its root is the proof's implicit first hash.
    const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof;
    let fn = oldSize - 1;
    let sn = newSize - 1;
    while (odd(fn)) {
      fn = half(fn);
      sn = half(sn);
    }
    let fr: Uint8Array = path[0]!;
    let sr: Uint8Array = path[0]!;
    for (let i = 1; i < path.length; i++) {
      const c = path[i]!;
      if (sn === 0) return fail('proof-length');
      if (odd(fn) || fn === sn) {
        fr = nodeHash(c, fr);
        sr = nodeHash(c, sr);
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      } else {
        sr = nodeHash(sr, c);
      }
      fn = half(fn);
      sn = half(sn);
    }
    if (sn !== 0) return fail('proof-length');
    return bytesEqual(fr, oldRoot) && bytesEqual(sr, newRoot) ? OK : fail('root-mismatch');
  } catch {
    return fail('malformed');
  }
}

function isPowerOfTwo(n: number): boolean {
  while (n > 1 && n % 2 === 0) n /= 2;
  return n === 1;
}

import { createHash } from 'node:crypto';

/** Bytes of every hash in the tree (SHA-256). */
export const HASH_BYTES = 32;

const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

/**
 * RFC 6962 §2.1: the root of the empty tree is SHA-256 of the empty string. Shared: compare with
 * it, never hand it out (typed arrays cannot be frozen); `emptyRoot()` gives a copy.
 */
export const EMPTY_ROOT: Readonly<Uint8Array> = createHash('sha256').digest();

/** A fresh copy of the empty tree's root. */
export function emptyRoot(): Uint8Array {
  return Uint8Array.from(EMPTY_ROOT);
}

/** RFC 6962 leaf hash: SHA-256(0x00 ‖ item bytes). */
export function leafHash(item: Uint8Array): Uint8Array {
  return createHash('sha256').update(LEAF_PREFIX).update(item).digest();
}

/** RFC 6962 interior node hash: SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** True when `h` is a Uint8Array of exactly HASH_BYTES bytes. */
export function isHash(h: unknown): h is Uint8Array {
  return h instanceof Uint8Array && h.length === HASH_BYTES;
}

/** Byte-wise equality; lengths must match too. Not constant-time: these hashes are public. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Largest power of two strictly smaller than n (n ≥ 2), the split point k of RFC 6962 §2.1. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

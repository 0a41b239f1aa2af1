/**
 * RFC 6962 / RFC 9162 Merkle trees: leaf = SHA-256(0x00 ‖ item), node = SHA-256(0x01 ‖ l ‖ r).
 * Byte layouts, proof shapes and the memory/IO trade-off: docs/ledger-format.md (Part II).
 */
export { canonicalJson, CANONICAL_JSON_MAX_DEPTH } from './canonical-json.ts';
export { EMPTY_ROOT, HASH_BYTES, bytesEqual, emptyRoot, isHash, leafHash, nodeHash } from './hash.ts';
export { consistencyProof, inclusionProof, merkleRoot } from './root.ts';
export { ArrayLeafStore, FileLeafStore, MemoryLeafStore, type LeafStore } from './store.ts';
export { MerkleTree, type MerkleTreeOptions } from './tree.ts';
export { verifyConsistency, verifyInclusion, type ProofFailure, type ProofResult } from './verify.ts';

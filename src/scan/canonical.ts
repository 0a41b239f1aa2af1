/**
 * The one canonical JSON of the project (src/merkle): UTF-8 bytes, keys sorted by UTF-16 code
 * units, no whitespace. Scan items are hashed into a run's Merkle tree through it.
 */
export { canonicalJson } from '../merkle/mod.ts';

import { randomBytes } from 'node:crypto';

// Nonces are drawn from a pooled CSPRNG buffer: one randomBytes call per 341 seals, not per seal
// (a randomBytes call per seal was a measurable part of a busy ingress's CPU).
const IV_POOL_BYTES = 4092;
let ivPool = randomBytes(IV_POOL_BYTES);
// 12 bytes are 16 base64 characters with no padding, so a nonce's text is a slice of the pool's.
let ivPoolText = ivPool.toString('base64url');
let ivOffset = 0;
/** A fresh 96-bit AES-GCM nonce from the pool, and its base64url text (fields, consistency tokens). */
export function nonce(): { iv: Buffer; text: string } {
  if (ivOffset + 12 > IV_POOL_BYTES) {
    ivPool = randomBytes(IV_POOL_BYTES);
    ivPoolText = ivPool.toString('base64url');
    ivOffset = 0;
  }
  // A view: a pool is replaced when used up, never written again, so no nonce is ever reused.
  const iv = ivPool.subarray(ivOffset, ivOffset + 12);
  const at = (ivOffset / 3) * 4;
  ivOffset += 12;
  return { iv, text: ivPoolText.slice(at, at + 16) };
}

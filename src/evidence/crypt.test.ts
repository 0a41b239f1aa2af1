import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { StkError } from '../errors.ts';
import { EvidenceOpener, newSalt, objectKey, sealEvidence, sealedSize } from './crypt.ts';

/** The chunked evidence format on its own: what opens, in any slicing, and what is refused. */
const test = suite('evidence: chunked AES-256-GCM');

const CHUNK = 1024;
const binding = { tenant: 'acme', evidenceId: 'ev1', keyId: 'k1' };
const dataKey = randomBytes(32);
const key = objectKey(dataKey, newSalt(), binding);

/** Opens `sealed` handed over in slices of `slice` bytes. */
function open(k: Buffer, sealed: Buffer, slice: number): Buffer {
  const o = new EvidenceOpener(k, { chunkBytes: CHUNK, evidenceId: 'ev1' });
  const out: Buffer[] = [];
  for (let at = 0; at < sealed.length; at += slice) out.push(...o.update(sealed.subarray(at, at + slice)));
  if (sealed.length === 0) out.push(...o.update(sealed));
  out.push(o.final());
  return Buffer.concat(out);
}

function refused(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StkError, String(err));
    assert.is((err as StkError).code, 'STK_ERR_EVIDENCE_INTEGRITY');
    return;
  }
  assert.unreachable('opened');
}

test('every size round-trips in any slicing: empty, under a chunk, exactly k chunks, a partial last chunk', () => {
  for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 17]) {
    const plain = randomBytes(size);
    const sealed = sealEvidence(key, plain, CHUNK);
    assert.is(sealed.length, sealedSize(size, CHUNK), `size ${size}`);
    for (const slice of [1, 7, CHUNK + 16, 5000, sealed.length || 1]) assert.ok(open(key, sealed, slice).equals(plain), `size ${size}, slices of ${slice}`);
  }
});

test('the same plaintext under a fresh salt is other ciphertext, and a key bound to another evidence id does not open it', () => {
  const plain = Buffer.from('the same file twice');
  const other = objectKey(dataKey, newSalt(), binding);
  assert.not.ok(sealEvidence(key, plain, CHUNK).equals(sealEvidence(other, plain, CHUNK)));
  const salt = newSalt();
  const sealed = sealEvidence(objectKey(dataKey, salt, binding), plain, CHUNK);
  refused(() => open(objectKey(dataKey, salt, { ...binding, evidenceId: 'ev2' }), sealed, 64));
  refused(() => open(objectKey(randomBytes(32), salt, binding), sealed, 64));
});

test('changed, reordered, cut-short or extended ciphertext is refused', () => {
  const plain = randomBytes(3 * CHUNK + 100);
  const sealed = sealEvidence(key, plain, CHUNK);
  const one = CHUNK + 16;
  const flipped = Buffer.from(sealed);
  flipped[one + 5] = flipped[one + 5]! ^ 0x80;
  refused(() => open(key, flipped, 4096));
  const swapped = Buffer.concat([sealed.subarray(one, 2 * one), sealed.subarray(0, one), sealed.subarray(2 * one)]);
  refused(() => open(key, swapped, 4096));
  // Whole chunks dropped from the end: what is left ends on a chunk not sealed as the last.
  refused(() => open(key, sealed.subarray(0, 2 * one), 4096));
  refused(() => open(key, sealed.subarray(0, sealed.length - 1), 4096));
  refused(() => open(key, Buffer.concat([sealed, sealEvidence(key, Buffer.from('more'), CHUNK)]), 4096));
  refused(() => open(key, Buffer.alloc(0), 1));
});

test.run();

import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { StkError } from '../errors.ts';

/** The format header value of encrypted evidence; an object without the header holds its bytes in the clear (written before encryption, or with it off). */
export const EVIDENCE_FORMAT = 'aes-256-gcm-chunked-v1';
/** Plaintext bytes per chunk: each chunk is sealed on its own, so neither side ever needs the whole object at once. */
export const EVIDENCE_CHUNK_BYTES = 64 * 1024;

const TAG_BYTES = 16;
const SALT_BYTES = 16;

/** What the key of one object is bound to: a ciphertext moved to another tenant or evidence id does not open. */
export interface EvidenceBinding {
  tenant: string;
  evidenceId: string;
  keyId: string;
}

/**
 * The key of one object: HKDF-SHA256 of the data key with a fresh random salt. A key per object
 * lets chunk nonces be plain counters (no nonce is ever used twice under one key), and binds the
 * ciphertext to its tenant, evidence id and data key.
 */
export function objectKey(dataKey: Buffer, salt: Buffer, b: EvidenceBinding): Buffer {
  return Buffer.from(hkdfSync('sha256', dataKey, salt, `stockade evidence v1\0${b.tenant}\0${b.evidenceId}\0${b.keyId}`, 32));
}

/** A fresh salt for `objectKey`. */
export function newSalt(): Buffer {
  return randomBytes(SALT_BYTES);
}

/**
 * Chunk `i`'s nonce: an 11-byte big-endian counter and a last-chunk flag (the STREAM
 * construction), so chunks cannot be reordered, dropped from the end or repeated unnoticed.
 */
function chunkNonce(i: number, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  n.writeUIntBE(i, 5, 6);
  n[11] = last ? 1 : 0;
  return n;
}

function sealChunk(key: Buffer, i: number, last: boolean, plain: Uint8Array, out: Buffer, at: number): number {
  const c = createCipheriv('aes-256-gcm', key, chunkNonce(i, last));
  // GCM's final() adds no bytes: the ciphertext is update()'s output, then the tag.
  const body = c.update(plain);
  c.final();
  body.copy(out, at);
  c.getAuthTag().copy(out, at + body.length);
  return at + body.length + TAG_BYTES;
}

/** The stored size of `sizeBytes` of plaintext: every chunk (at least one, even when empty) carries a tag. */
export function sealedSize(sizeBytes: number, chunkBytes = EVIDENCE_CHUNK_BYTES): number {
  return sizeBytes + TAG_BYTES * Math.max(1, Math.ceil(sizeBytes / chunkBytes));
}

/** `data` sealed chunk by chunk under `key` (see `objectKey`), in one buffer of `sealedSize` bytes. */
export function sealEvidence(key: Buffer, data: Uint8Array, chunkBytes = EVIDENCE_CHUNK_BYTES): Buffer {
  const out = Buffer.allocUnsafe(sealedSize(data.length, chunkBytes));
  const chunks = Math.max(1, Math.ceil(data.length / chunkBytes));
  let at = 0;
  for (let i = 0; i < chunks; i++) at = sealChunk(key, i, i === chunks - 1, data.subarray(i * chunkBytes, (i + 1) * chunkBytes), out, at);
  return out;
}

/**
 * Opens sealed evidence piece by piece, in whatever slices the store hands over: `update` gives
 * back the plaintext of every whole chunk it can be sure is not the last, `final` the rest. A chunk
 * that does not authenticate (other bytes, another key, a truncated or reordered object) throws
 * STK_ERR_EVIDENCE_INTEGRITY.
 */
export class EvidenceOpener {
  readonly #key: Buffer;
  readonly #sealedChunk: number;
  readonly #id: string;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #index = 0;

  constructor(key: Buffer, o: { chunkBytes?: number; evidenceId: string }) {
    this.#key = key;
    this.#sealedChunk = (o.chunkBytes ?? EVIDENCE_CHUNK_BYTES) + TAG_BYTES;
    this.#id = o.evidenceId;
  }

  /** Plaintext of the chunks `sealed` completes, except a possible last one (held until `final`). */
  update(sealed: Uint8Array): Buffer[] {
    this.#pending.push(Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength));
    this.#pendingBytes += sealed.byteLength;
    const out: Buffer[] = [];
    // Strictly more than one chunk held: only then is the first one known not to be the last.
    if (this.#pendingBytes <= this.#sealedChunk) return out;
    let all = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending, this.#pendingBytes);
    while (all.length > this.#sealedChunk) {
      out.push(this.#open(all.subarray(0, this.#sealedChunk), false));
      all = all.subarray(this.#sealedChunk);
    }
    this.#pending = [all];
    this.#pendingBytes = all.length;
    return out;
  }

  /** The last chunk's plaintext; throws when the object ends where no last chunk does. */
  final(): Buffer {
    const rest = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    if (rest.length < TAG_BYTES || (rest.length === TAG_BYTES && this.#index > 0)) throw this.#broken();
    return this.#open(rest, true);
  }

  #open(chunk: Buffer, last: boolean): Buffer {
    try {
      const d = createDecipheriv('aes-256-gcm', this.#key, chunkNonce(this.#index++, last));
      d.setAuthTag(chunk.subarray(chunk.length - TAG_BYTES));
      const body = d.update(chunk.subarray(0, chunk.length - TAG_BYTES));
      d.final();
      return body;
    } catch (err) {
      throw this.#broken(err);
    }
  }

  #broken(cause?: unknown): StkError {
    return new StkError(
      'STK_ERR_EVIDENCE_INTEGRITY',
      'the stored evidence does not open with its key: its bytes were changed, cut short or moved',
      { id: this.#id, chunk: this.#index },
      cause === undefined ? undefined : { cause },
    );
  }
}

import { createHash } from 'node:crypto';
import { TENANT_SUBJECT } from '../domain/personal.ts';
import { StkError } from '../errors.ts';
import { assertId } from '../ids.ts';
import type { ObjectBucket, StoredObject, Streams } from '../log/mod.ts';
import type { KeyStore } from '../privacy/keystore.ts';
import { EVIDENCE_CHUNK_BYTES, EVIDENCE_FORMAT, EvidenceOpener, newSalt, objectKey, sealEvidence } from './crypt.ts';

/** The object store bucket of a tenant's evidence bytes. */
export function evidenceBucketName(tenant: string): string {
  assertId('tenant', tenant, 'tenant');
  return `stk-evidence-${tenant}`;
}

/** Headers of a stored evidence object. `Stk-Format` absent: the bytes are stored in the clear. */
export const EVIDENCE_HEADERS = {
  format: 'Stk-Format',
  key: 'Stk-Key',
  salt: 'Stk-Salt',
  chunkBytes: 'Stk-Chunk-Bytes',
  size: 'Stk-Size',
  /** SHA-256 of the plaintext (the one sealed in the ledger), whatever the format. */
  sha256: 'Stk-Sha256',
} as const;

/** The keys evidence is encrypted with: the field encryption key store (a subject's data keys of kind `evidence`). */
export type EvidenceKeys = Pick<KeyStore, 'subjectId' | 'keyFor' | 'key'>;

/**
 * Evidence bytes, one JetStream object store bucket per tenant (`stk-evidence-<tenant>`), one
 * object per evidence id. The SHA-256 sealed in the ledger when the evidence was collected is the
 * reference: every read is checked against it.
 *
 * With a key store (field encryption on) the bytes are encrypted when written, chunk by chunk with
 * AES-256-GCM, under the data key of the subject they belong to (the collecting machine,
 * `agent:<agentId>`), kind `evidence`, month of writing: erasing the subject or letting the month
 * age out destroys that key and leaves the object unreadable ciphertext. Objects written in the
 * clear (before encryption, or with it off) stay readable as they are.
 */
export class EvidenceStore {
  readonly #streams: Streams;
  readonly #replicas: number;
  readonly #keys: EvidenceKeys | null;
  readonly #buckets = new Map<string, Promise<ObjectBucket>>();

  constructor(streams: Streams, o: { replicas?: number; keys?: EvidenceKeys | null } = {}) {
    this.#streams = streams;
    this.#replicas = o.replicas ?? 1;
    this.#keys = o.keys ?? null;
  }

  /** True when new evidence is stored encrypted. */
  get encrypts(): boolean {
    return this.#keys !== null;
  }

  #bucket(tenant: string): Promise<ObjectBucket> {
    const name = evidenceBucketName(tenant);
    let b = this.#buckets.get(name);
    if (!b) {
      b = this.#streams.objectBucket(name, { replicas: this.#replicas, description: `evidence of tenant ${tenant}` });
      // A failed open is not kept: the next request tries again.
      b.catch(() => this.#buckets.delete(name));
      this.#buckets.set(name, b);
    }
    return b;
  }

  /**
   * Stores the bytes of evidence `evidenceId` unless the same bytes are there already: encrypted
   * under the data key of `subject` (@defaultValue `tenant`) for the month of `at` (@defaultValue
   * now) when the store has keys, in the clear otherwise. Throws STK_ERR_TENANT_DELETED for an
   * offboarded tenant.
   */
  async put(
    tenant: string,
    evidenceId: string,
    data: Uint8Array,
    o: { subject?: string; at?: Date; headers?: Record<string, string> } = {},
  ): Promise<StoredObject> {
    assertId('token', evidenceId, 'evidence id');
    const bucket = await this.#bucket(tenant);
    const sha256 = sha256Hex(data);
    const have = await bucket.info(evidenceId);
    // The same bytes again are kept as they are, unless they sit in the clear where they would now be encrypted.
    const sameForm = !this.#keys || have?.headers[EVIDENCE_HEADERS.format] !== undefined;
    if (have && sameForm && plainSha256(have) === sha256 && plainSize(have) === data.length) return have;
    const headers: Record<string, string> = { ...o.headers, [EVIDENCE_HEADERS.sha256]: sha256 };
    if (!this.#keys) return bucket.put(evidenceId, data, { headers });
    const keys = this.#keys;
    const period = (o.at ?? new Date()).toISOString().slice(0, 7);
    const { keyId, key } = await keys.keyFor(tenant, await keys.subjectId(tenant, o.subject ?? TENANT_SUBJECT), 'evidence', period);
    const salt = newSalt();
    const sealed = sealEvidence(objectKey(key, salt, { tenant, evidenceId, keyId }), data);
    return bucket.put(evidenceId, sealed, {
      headers: {
        ...headers,
        [EVIDENCE_HEADERS.format]: EVIDENCE_FORMAT,
        [EVIDENCE_HEADERS.key]: keyId,
        [EVIDENCE_HEADERS.salt]: salt.toString('base64url'),
        [EVIDENCE_HEADERS.chunkBytes]: String(EVIDENCE_CHUNK_BYTES),
        [EVIDENCE_HEADERS.size]: String(data.length),
      },
    });
  }

  /** Every stored evidence object of a tenant, as the store lists it (sizes and digests of the stored bytes, no headers). */
  async list(tenant: string): Promise<StoredObject[]> {
    return (await this.#bucket(tenant)).list();
  }

  /** What the store knows of one object, headers included; null when there is none. */
  async info(tenant: string, evidenceId: string): Promise<StoredObject | null> {
    assertId('token', evidenceId, 'evidence id');
    return (await this.#bucket(tenant)).info(evidenceId);
  }

  /** Removes the evidence bytes a tenant stored before `cutoff` (retention); returns how many went. */
  async removeOlderThan(tenant: string, cutoff: Date): Promise<number> {
    // A tenant that never stored evidence has no bucket, and a retention pass makes none.
    if (!(await this.#streams.state(`OBJ_${evidenceBucketName(tenant)}`))) return 0;
    const bucket = await this.#bucket(tenant);
    let n = 0;
    for (const o of await bucket.list()) if (Date.parse(o.modifiedAt) < cutoff.getTime() && (await bucket.delete(o.name))) n++;
    return n;
  }

  /** Removes a tenant's whole bucket (offboarding); returns how many objects it held. */
  async destroy(tenant: string): Promise<number> {
    const name = evidenceBucketName(tenant);
    const held = (await this.#streams.state(`OBJ_${name}`)) ? (await (await this.#bucket(tenant)).list()).length : 0;
    this.#buckets.delete(name);
    await this.#streams.destroyObjectBucket(name);
    return held;
  }

  /**
   * The plaintext bytes of evidence `evidenceId`, checked against `sha256` (the sealed hash):
   * STK_ERR_EVIDENCE_CONTENT_MISSING when there are none, STK_ERR_EVIDENCE_ERASED when they are
   * encrypted under a destroyed key (the subject was erased, or the month aged out),
   * STK_ERR_EVIDENCE_INTEGRITY when they differ or do not open.
   */
  async read(tenant: string, evidenceId: string, sha256: string): Promise<Buffer> {
    assertId('token', evidenceId, 'evidence id');
    const bucket = await this.#bucket(tenant);
    const info = await bucket.info(evidenceId);
    const data = info ? await bucket.get(evidenceId) : null;
    if (!info || !data) throw new StkError('STK_ERR_EVIDENCE_CONTENT_MISSING', 'this evidence has no stored bytes', { id: evidenceId });
    const plain = info.headers[EVIDENCE_HEADERS.format] === undefined ? Buffer.from(data) : await this.#open(tenant, evidenceId, info, data);
    const actual = sha256Hex(plain);
    if (actual !== sha256)
      throw new StkError('STK_ERR_EVIDENCE_INTEGRITY', 'the stored bytes do not have the SHA-256 sealed when the evidence was collected', {
        expected: sha256,
        actual,
      });
    return plain;
  }

  async #open(tenant: string, evidenceId: string, info: StoredObject, sealed: Uint8Array): Promise<Buffer> {
    const h = info.headers;
    if (h[EVIDENCE_HEADERS.format] !== EVIDENCE_FORMAT)
      throw new StkError('STK_ERR_EVIDENCE_INTEGRITY', 'the stored evidence is in a format this build cannot read', {
        id: evidenceId,
        format: h[EVIDENCE_HEADERS.format],
      });
    const keyId = h[EVIDENCE_HEADERS.key] ?? '';
    const chunkBytes = Number(h[EVIDENCE_HEADERS.chunkBytes]);
    if (!keyId || !h[EVIDENCE_HEADERS.salt] || !Number.isSafeInteger(chunkBytes) || chunkBytes <= 0)
      throw new StkError('STK_ERR_EVIDENCE_INTEGRITY', 'the headers of the stored evidence are incomplete', { id: evidenceId });
    if (!this.#keys)
      throw new StkError('STK_ERR_KEYSTORE_UNAVAILABLE', 'this evidence is encrypted and this process has no key store (field encryption is off)', {
        id: evidenceId,
      });
    const key = await this.#keys.key(tenant, keyId);
    if (!key)
      throw new StkError(
        'STK_ERR_EVIDENCE_ERASED',
        'the key of this evidence was destroyed (its machine was erased, or it aged out): its bytes can never be read again',
        {
          id: evidenceId,
        },
      );
    const opener = new EvidenceOpener(objectKey(key, Buffer.from(h[EVIDENCE_HEADERS.salt]!, 'base64url'), { tenant, evidenceId, keyId }), {
      chunkBytes,
      evidenceId,
    });
    const size = Number(h[EVIDENCE_HEADERS.size]);
    const out = Buffer.allocUnsafe(Number.isSafeInteger(size) && size >= 0 ? size : sealed.length);
    let at = 0;
    const put = (b: Buffer): void => {
      if (at + b.length > out.length)
        throw new StkError('STK_ERR_EVIDENCE_INTEGRITY', 'the stored evidence is longer than its headers say', { id: evidenceId });
      at += b.copy(out, at);
    };
    for (const b of opener.update(sealed)) put(b);
    put(opener.final());
    return out.subarray(0, at);
  }
}

/** The plaintext SHA-256 of a stored object: its header, or the store's digest for an object in the clear. */
function plainSha256(o: StoredObject): string {
  return o.headers[EVIDENCE_HEADERS.sha256] ?? o.sha256;
}

function plainSize(o: StoredObject): number {
  const h = o.headers[EVIDENCE_HEADERS.size];
  return h === undefined ? o.size : Number(h);
}

/** Hex SHA-256 of bytes. */
export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

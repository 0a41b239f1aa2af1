import { createHash } from 'node:crypto';
import { StkError } from '../errors.ts';
import { assertId } from '../ids.ts';
import type { ObjectBucket, StoredObject, Streams } from '../log/mod.ts';

/** The object store bucket of a tenant's evidence bytes. */
export function evidenceBucketName(tenant: string): string {
  assertId('tenant', tenant, 'tenant');
  return `stk-evidence-${tenant}`;
}

/**
 * Evidence bytes, one JetStream object store bucket per tenant (`stk-evidence-<tenant>`), one
 * object per evidence id. The SHA-256 sealed in the ledger when the evidence was collected is the
 * reference: every read is checked against it.
 */
export class EvidenceStore {
  readonly #streams: Streams;
  readonly #replicas: number;
  readonly #buckets = new Map<string, Promise<ObjectBucket>>();

  constructor(streams: Streams, o: { replicas?: number } = {}) {
    this.#streams = streams;
    this.#replicas = o.replicas ?? 1;
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

  /** Stores the bytes of evidence `evidenceId` unless the same bytes are there already. */
  async put(tenant: string, evidenceId: string, data: Uint8Array, headers: Record<string, string> = {}): Promise<StoredObject> {
    assertId('token', evidenceId, 'evidence id');
    const bucket = await this.#bucket(tenant);
    const sha256 = sha256Hex(data);
    const have = await bucket.info(evidenceId);
    if (have && have.sha256 === sha256 && have.size === data.length) return have;
    return bucket.put(evidenceId, data, { headers });
  }

  /** Every stored evidence object of a tenant (for the offboarding export). */
  async list(tenant: string): Promise<StoredObject[]> {
    return (await this.#bucket(tenant)).list();
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
   * The bytes of evidence `evidenceId`, checked against `sha256` (the sealed hash):
   * STK_ERR_EVIDENCE_CONTENT_MISSING when there are none, STK_ERR_EVIDENCE_INTEGRITY when they differ.
   */
  async read(tenant: string, evidenceId: string, sha256: string): Promise<Buffer> {
    assertId('token', evidenceId, 'evidence id');
    const bucket = await this.#bucket(tenant);
    const data = await bucket.get(evidenceId);
    if (!data) throw new StkError('STK_ERR_EVIDENCE_CONTENT_MISSING', 'this evidence has no stored bytes', { id: evidenceId });
    const actual = sha256Hex(data);
    if (actual !== sha256)
      throw new StkError('STK_ERR_EVIDENCE_INTEGRITY', 'the stored bytes do not have the SHA-256 sealed when the evidence was collected', {
        expected: sha256,
        actual,
      });
    return Buffer.from(data);
  }
}

/** Hex SHA-256 of bytes. */
export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

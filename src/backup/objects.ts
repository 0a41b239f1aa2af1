import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StkError } from '../errors.ts';
import { evidenceBucketName } from '../evidence/store.ts';
import type { ObjectBucket, Streams } from '../log/mod.ts';
import type { EvidenceCopied } from './audit.ts';
import { bucketDigest, bucketTenant, type BucketEntry, type Manifest, type ObjectEntry, objectFileOf } from './format.ts';

type Part = Manifest & { dir: string };

/** Reads of one object that found it replaced between its listing and its bytes, before giving up. */
const READ_ATTEMPTS = 3;

const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/**
 * Copies the evidence bucket of each of `tenants` that has one: the listing of every object (name,
 * stored size, SHA-256 of the stored bytes, store time, headers as stored) and the stored bytes as
 * they are — ciphertext for encrypted evidence, never opened: the key store is never part of a
 * backup. An increment (`base`) writes the bytes only of objects whose stored bytes the chain does
 * not hold yet, and still lists every object, so a restore brings back the bucket as it is now.
 */
export async function backupBuckets(
  streams: Streams,
  out: string,
  tenants: string[],
  base: Manifest | null,
): Promise<{ buckets: Record<string, BucketEntry>; copied: Record<string, EvidenceCopied> }> {
  const buckets: Record<string, BucketEntry> = {};
  const copied: Record<string, EvidenceCopied> = {};
  for (const tenant of tenants) {
    const name = evidenceBucketName(tenant);
    if (!(await streams.state(`OBJ_${name}`))) continue;
    let bucket: ObjectBucket;
    try {
      bucket = await streams.objectBucket(name, { existing: true });
    } catch (err) {
      // Removed since (the tenant was offboarded): nothing to copy.
      if (!(await streams.state(`OBJ_${name}`))) continue;
      throw err;
    }
    const inChain = new Set(base?.buckets?.[name]?.objects.map((o) => o.sha256) ?? []);
    const written = new Set<string>();
    const objects: ObjectEntry[] = [];
    let bytes = 0;
    const listed = (await bucket.list()).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const listing of listed) {
      const got = await readObject(bucket, listing.name);
      if (!got) continue; // deleted since the listing (retention)
      const { info, data } = got;
      let file: string | null = null;
      if (!inChain.has(info.sha256)) {
        file = objectFileOf(name, info.sha256);
        if (!written.has(info.sha256) && data) {
          await mkdir(dirname(join(out, file)), { recursive: true });
          await writeFile(join(out, file), data, { flag: 'wx' });
          written.add(info.sha256);
          bytes += data.length;
        }
      }
      objects.push({ name: info.name, size: info.size, sha256: info.sha256, modifiedAt: info.modifiedAt, headers: info.headers, file });
    }
    buckets[name] = { tenant, objects, copied: written.size, bytes, digest: bucketDigest(objects) };
    copied[tenant] = { bucket: name, objects: objects.length, copied: written.size, bytes };
  }
  return { buckets, copied };
}

/** An object's listing (with headers) and its bytes, read so that the two belong together. */
async function readObject(
  bucket: ObjectBucket,
  name: string,
): Promise<{ info: NonNullable<Awaited<ReturnType<ObjectBucket['info']>>>; data: Uint8Array } | null> {
  for (let attempt = 1; ; attempt++) {
    const info = await bucket.info(name);
    if (!info) return null;
    const data = await bucket.get(name);
    if (!data) return null;
    if (sha256Hex(data) === info.sha256 && data.length === info.size) return { info, data };
    // Replaced between the two reads (the same evidence stored again, now encrypted): read both again.
    if (attempt >= READ_ATTEMPTS)
      throw new StkError('STK_ERR_LOG_UNAVAILABLE', `object ${name} of ${bucket.name} kept changing while it was read`, { bucket: bucket.name, object: name });
  }
}

/** Where the bytes of `o` are: this folder or the latest earlier folder of the chain that copied them. */
function locate(parts: Part[], upTo: number, bucket: string, o: ObjectEntry): string {
  for (let i = upTo; i >= 0; i--) {
    const p = parts[i]!;
    const hit = p.buckets?.[bucket]?.objects.find((x) => x.sha256 === o.sha256 && x.file !== null);
    if (hit?.file) return join(p.dir, hit.file);
  }
  throw new StkError('STK_ERR_BACKUP_CORRUPT', `the bytes of object ${o.name} of ${bucket} are in no folder of the chain`, { bucket, object: o.name });
}

/** Every object file of every folder must have the size and SHA-256 its manifest gives. */
export async function checkObjectFiles(parts: Part[]): Promise<void> {
  for (const p of parts) {
    for (const [bucket, b] of Object.entries(p.buckets ?? {})) {
      for (const o of b.objects) {
        if (o.file === null) continue;
        let data: Buffer;
        try {
          data = await readFile(join(p.dir, o.file));
        } catch (err) {
          throw new StkError(
            'STK_ERR_BACKUP_CORRUPT',
            `cannot read ${o.file} in ${p.dir}: ${(err as Error).message}`,
            { bucket, file: o.file },
            { cause: err },
          );
        }
        if (data.length !== o.size || sha256Hex(data) !== o.sha256)
          throw new StkError('STK_ERR_BACKUP_CORRUPT', `${o.file} in ${p.dir} does not have the size and SHA-256 the manifest gives`, { bucket, file: o.file });
      }
    }
  }
}

/** The evidence buckets a chain restores: those of its last folder, as they were when it was taken. */
export function finalBuckets(parts: Part[]): Record<string, BucketEntry> {
  return parts.at(-1)?.buckets ?? {};
}

/**
 * Puts every object of the chain's final listing into a new bucket of its tenant, its stored bytes
 * and headers as they were; the store time becomes the restore's (the original stays in the manifest).
 */
export async function restoreBuckets(
  streams: Streams,
  parts: Part[],
  replicas: number,
  onProgress?: (p: { stream: string; messages: number; of: number }) => void,
): Promise<Record<string, { bucket: string; objects: number; bytes: number }>> {
  const out: Record<string, { bucket: string; objects: number; bytes: number }> = {};
  for (const [name, b] of Object.entries(finalBuckets(parts))) {
    // The options EvidenceStore opens the bucket with, so that it finds it as it would have made it.
    const bucket = await streams.objectBucket(name, { replicas, description: `evidence of tenant ${b.tenant}` });
    let bytes = 0;
    for (const [i, o] of b.objects.entries()) {
      const data = await readFile(locate(parts, parts.length - 1, name, o));
      const stored = await bucket.put(o.name, data, { headers: o.headers });
      if (stored.sha256 !== o.sha256)
        throw new StkError('STK_ERR_RESTORE_MISMATCH', `object ${o.name} of ${name} was stored with SHA-256 ${stored.sha256}, the backup has ${o.sha256}`, {
          bucket: name,
          object: o.name,
        });
      bytes += data.length;
      onProgress?.({ stream: name, messages: i + 1, of: b.objects.length });
    }
    out[bucketTenant(name)] = { bucket: name, objects: b.objects.length, bytes };
  }
  return out;
}

/** Reads each restored bucket back: the same listing (names, sizes, digests, headers) and bytes that hash to the listed digests. */
export async function readBackBuckets(streams: Streams, parts: Part[]): Promise<void> {
  for (const [name, want] of Object.entries(finalBuckets(parts))) {
    const bucket = await streams.objectBucket(name, { existing: true });
    const got: Array<Pick<ObjectEntry, 'name' | 'size' | 'sha256' | 'headers'>> = [];
    for (const listing of await bucket.list()) {
      const info = await bucket.info(listing.name);
      const data = info ? await bucket.get(listing.name) : null;
      if (!info || !data) continue;
      got.push({ name: info.name, size: data.length, sha256: sha256Hex(data), headers: info.headers });
    }
    const digest = bucketDigest(got);
    if (got.length !== want.objects.length || digest !== want.digest) {
      throw new StkError(
        'STK_ERR_RESTORE_MISMATCH',
        `restored bucket ${name} reads back ${got.length} object(s) with listing digest ${digest}; the backup has ${want.objects.length} with ${want.digest}`,
        { bucket: name },
      );
    }
  }
}

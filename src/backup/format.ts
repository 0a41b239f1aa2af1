import { createHash, type Hash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StkError } from '../errors.ts';
import { isValidId } from '../ids.ts';
import { LEDGER_STREAM } from '../ledger/format.ts';
import { EVENTS_STREAM } from '../log/stream.ts';
import { PACKAGES_STREAM } from '../patch/packages.ts';
import { REFUSALS_STREAM } from '../people/refusals.ts';
import { SCANS_STREAM } from '../scan/runs/stream.ts';
import { TELEMETRY_STREAM } from '../telemetry/stream.ts';

/**
 * The backup folder: `manifest.json`, one `<STREAM>.jsonl` per stream (one JSON line per stored
 * message) and `objects/<bucket>/<sha256>` per evidence object copied. docs/operations.md ("Backup
 * and restore") describes the same layout. Format 1 held EVENTS and LEDGER only; a restore still
 * reads it.
 */
export const BACKUP_FORMAT = 2;
export const READABLE_FORMATS: readonly number[] = [1, 2];
export const MANIFEST_FILE = 'manifest.json';
export const OBJECTS_DIR = 'objects';

/**
 * Streams in the order a backup reads them: whatever references a stream is read before it, so
 * the copy of what is referenced is sure to hold it. LEDGER first (its blocks point at records);
 * then EVENTS, whose records seal telemetry batches (by their TELEMETRY sequences and Merkle
 * root), scan runs (SCANS), package lists (PACKAGES, by sequence) and evidence (by SHA-256);
 * REFUSALS stands alone. Evidence buckets are read after every stream. An online backup is then
 * never a ledger ahead of its events nor an event ahead of its items (only records not yet
 * sealed, which the sealer seals after a restore, and items whose event came later).
 */
export const BACKUP_STREAMS = [LEDGER_STREAM, EVENTS_STREAM, TELEMETRY_STREAM, SCANS_STREAM, PACKAGES_STREAM, REFUSALS_STREAM] as const;
/** The streams of a format-1 backup. */
export const FORMAT1_STREAMS = [LEDGER_STREAM, EVENTS_STREAM] as const;
/**
 * Restore writes what is referenced before what references it (evidence buckets go after
 * TELEMETRY, before EVENTS), so an interrupted restore never leaves a block without its record or
 * a record without its items.
 */
export const RESTORE_ORDER = [REFUSALS_STREAM, PACKAGES_STREAM, SCANS_STREAM, TELEMETRY_STREAM, EVENTS_STREAM, LEDGER_STREAM] as const;
export type BackupStream = (typeof BACKUP_STREAMS)[number];

/** One stored message as a line of `<STREAM>.jsonl`. */
export interface BackupLine {
  /** Sequence in the stream the backup was taken from; a restore stores the message at the same one. */
  seq: number;
  /** Time the original server stored it (ISO-8601); a restore cannot set it, so it is kept here. */
  time: string;
  subject: string;
  /** Headers to publish again: `Nats-Msg-Id`, `Stk-Version`, …; never the `Nats-Expected-*` conditions. */
  headers: Record<string, string>;
  /** The stored body, base64: the ledger hashes these bytes, so they travel verbatim. */
  data: string;
}

export interface StreamEntry {
  file: string;
  messages: number;
  /** The backup holds the messages after this sequence: 0 for a full backup, the base's `lastSeq` for an increment. */
  afterSeq: number;
  /** Sequence of the first message read (0 when none was). */
  firstSeq: number;
  /** Last sequence covered: that of the last message read, or `afterSeq` when none was. */
  lastSeq: number;
  /**
   * (Format 2.) The stream's last sequence when the read started, at or past `lastSeq` (messages
   * after the last one read were removed): a restore numbers the stream up to it.
   */
  endSeq?: number;
  /** `Nats-Msg-Id` of the message at `lastSeq`, so an increment can check it continues the same stream. */
  lastMsgId: string | null;
  /** SHA-256 (hex) of the file's bytes. */
  sha256: string;
  bytes: number;
  /**
   * SHA-256 (hex) over subject, headers and body of every message in order, without sequences or
   * times: what a restored stream must reproduce, checked by reading it back.
   */
  contentDigest: string;
}

/** One object of an evidence bucket as the backup found it. */
export interface ObjectEntry {
  /** The object's name (the evidence id). */
  name: string;
  /** Stored bytes (ciphertext for encrypted evidence). */
  size: number;
  /** Hex SHA-256 of the stored bytes, as the object store computed it. */
  sha256: string;
  /** When it was stored (the object store's time; a restore cannot set it, so it is kept here). */
  modifiedAt: string;
  /** Its headers, as stored (`Stk-Format`, `Stk-Key`, `Stk-Salt`, `Stk-Sha256`, …). */
  headers: Record<string, string>;
  /** `objects/<bucket>/<sha256>` when this folder holds the bytes; null when an earlier folder of the chain does. */
  file: string | null;
}

/** One evidence bucket: every object it held when the backup read it (an increment lists them all too). */
export interface BucketEntry {
  tenant: string;
  objects: ObjectEntry[];
  /** Objects whose bytes this folder holds, and their total size. */
  copied: number;
  bytes: number;
  /** SHA-256 (hex) over the listing (names, digests, sizes, headers): what a restored bucket must reproduce. */
  digest: string;
}

export interface Manifest {
  format: number;
  tool: string;
  version: string;
  createdAt: string;
  /** For an increment (`stockade backup --since BASE`): the backup it continues, by its manifest's SHA-256. */
  base: { manifestSha256: string; createdAt: string } | null;
  /** Format 1: EVENTS and LEDGER only. */
  streams: Partial<Record<BackupStream, StreamEntry>>;
  /** (Format 2.) Evidence object store buckets, by bucket name. */
  buckets?: Record<string, BucketEntry>;
  /** (Format 2.) Every tenant with records in EVENTS up to this backup, over the whole chain. */
  tenants?: string[];
}

/** The streams a manifest holds, in backup order. */
export function streamsOf(m: Pick<Manifest, 'format'>): readonly BackupStream[] {
  return m.format === 1 ? FORMAT1_STREAMS : BACKUP_STREAMS;
}

/** Headers a backup keeps: publish-time conditions would refuse the republish, so they are left out. */
export function keptHeader(name: string): boolean {
  return !name.toLowerCase().startsWith('nats-expected-');
}

/** Order-sensitive digest of a stream's content, the same whether fed from a backup file or a live stream. */
export class ContentDigest {
  readonly #h: Hash = createHash('sha256');
  count = 0;

  add(subject: string, headers: Record<string, string>, body: Uint8Array): void {
    const names = Object.keys(headers).sort();
    this.#h.update(`${subject}\n${names.map((n) => `${n}:${headers[n]}`).join('\n')}\n${body.length}\n`);
    this.#h.update(body);
    this.count++;
  }

  hex(): string {
    return this.#h.digest('hex');
  }
}

/** Parses and checks one backup line; a line of another shape is a corrupt backup. */
export function parseLine(text: string, where: { file: string; line: number }): BackupLine {
  let v: BackupLine;
  try {
    v = JSON.parse(text) as BackupLine;
  } catch (err) {
    throw new StkError('STK_ERR_BACKUP_CORRUPT', `${where.file} line ${where.line} is not JSON`, where, { cause: err });
  }
  const ok =
    v !== null &&
    typeof v === 'object' &&
    Number.isSafeInteger(v.seq) &&
    v.seq > 0 &&
    typeof v.time === 'string' &&
    typeof v.subject === 'string' &&
    v.subject.length > 0 &&
    typeof v.data === 'string' &&
    v.headers !== null &&
    typeof v.headers === 'object' &&
    Object.entries(v.headers).every(([k, h]) => typeof h === 'string' && keptHeader(k)) &&
    // Every message Stockade stores carries one; the restore republishes it for idempotence.
    typeof v.headers['Nats-Msg-Id'] === 'string';
  if (!ok) throw new StkError('STK_ERR_BACKUP_CORRUPT', `${where.file} line ${where.line} is not a backup line`, where);
  return v;
}

const HEX64 = /^[0-9a-f]{64}$/;
const BUCKET_PREFIX = 'stk-evidence-';

/** Reads and checks `manifest.json` of a backup folder; `sha256` is that of the manifest file itself. */
export function readManifest(dir: string): Manifest & { sha256: string } {
  const path = join(dir, MANIFEST_FILE);
  let m: Manifest;
  let sha256: string;
  try {
    const bytes = readFileSync(path);
    sha256 = createHash('sha256').update(bytes).digest('hex');
    m = JSON.parse(bytes.toString('utf8')) as Manifest;
  } catch (err) {
    throw new StkError('STK_ERR_BACKUP_CORRUPT', `no readable ${MANIFEST_FILE} in ${dir}`, { dir }, { cause: err });
  }
  if (!READABLE_FORMATS.includes(m?.format) || m.tool !== 'stockade' || !m.streams || m.base === undefined) {
    throw new StkError('STK_ERR_BACKUP_CORRUPT', `${path} is not a Stockade backup manifest of format ${READABLE_FORMATS.join(' or ')}`, { dir });
  }
  for (const name of streamsOf(m)) {
    const s = m.streams[name];
    const ok =
      s &&
      s.file === fileOf(name) &&
      Number.isSafeInteger(s.messages) &&
      s.messages >= 0 &&
      Number.isSafeInteger(s.afterSeq) &&
      Number.isSafeInteger(s.lastSeq) &&
      s.lastSeq >= s.afterSeq &&
      (m.format === 1 || (Number.isSafeInteger(s.endSeq) && s.endSeq! >= s.lastSeq)) &&
      HEX64.test(s.sha256) &&
      HEX64.test(s.contentDigest);
    if (!ok) throw new StkError('STK_ERR_BACKUP_CORRUPT', `${path} has no valid entry for stream ${name}`, { dir, stream: name });
  }
  if (m.format !== 1) {
    if (!Array.isArray(m.tenants) || !m.tenants.every((t) => isValidId('tenant', t)) || !m.buckets || typeof m.buckets !== 'object')
      throw new StkError('STK_ERR_BACKUP_CORRUPT', `${path} has no valid tenants or buckets`, { dir });
    for (const [bucket, b] of Object.entries(m.buckets)) checkBucket(path, bucket, b);
  }
  return { ...m, sha256 };
}

/** A bucket entry names only files of its own folder, by the digest of their bytes: a manifest cannot point a restore elsewhere. */
function checkBucket(path: string, bucket: string, b: BucketEntry): void {
  const fail = (what: string): never => {
    throw new StkError('STK_ERR_BACKUP_CORRUPT', `${path}: bucket ${bucket} ${what}`, { bucket });
  };
  if (!b || typeof b !== 'object' || bucket !== `${BUCKET_PREFIX}${b.tenant}` || !isValidId('tenant', b.tenant)) fail('is not an evidence bucket');
  if (!Array.isArray(b.objects) || !HEX64.test(b.digest) || !Number.isSafeInteger(b.copied) || !Number.isSafeInteger(b.bytes)) fail('has no valid listing');
  const names = new Set<string>();
  for (const o of b.objects) {
    const ok =
      o &&
      isValidId('token', o.name) &&
      !names.has(o.name) &&
      Number.isSafeInteger(o.size) &&
      o.size >= 0 &&
      HEX64.test(o.sha256) &&
      typeof o.modifiedAt === 'string' &&
      o.headers !== null &&
      typeof o.headers === 'object' &&
      Object.values(o.headers).every((h) => typeof h === 'string') &&
      (o.file === null || o.file === objectFileOf(bucket, o.sha256));
    if (!ok) fail(`has an invalid object entry ${JSON.stringify(o?.name ?? null)}`);
    names.add(o.name);
  }
  if (bucketDigest(b.objects) !== b.digest) fail('has a listing that does not match its digest');
}

export function fileOf(stream: BackupStream): string {
  return `${stream}.jsonl`;
}

/** Where the bytes of an object are kept in a backup folder: by bucket and the SHA-256 of the stored bytes. */
export function objectFileOf(bucket: string, sha256: string): string {
  return `${OBJECTS_DIR}/${bucket}/${sha256}`;
}

/** Digest of a bucket's listing, in name order; the same whether from a manifest or a restored bucket. */
export function bucketDigest(objects: Array<Pick<ObjectEntry, 'name' | 'size' | 'sha256' | 'headers'>>): string {
  const h = createHash('sha256');
  for (const o of [...objects].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const names = Object.keys(o.headers).sort();
    h.update(`${o.name}\n${o.size}\n${o.sha256}\n${names.map((n) => `${n}:${o.headers[n]}`).join('\n')}\n\n`);
  }
  return h.digest('hex');
}

/** Tenants named by evidence bucket names: `stk-evidence-<tenant>`. */
export function bucketTenant(bucket: string): string {
  return bucket.slice(BUCKET_PREFIX.length);
}

/**
 * Checks that `dirs` are a full backup followed by its increments, each continuing the one before
 * (its base is the previous manifest, its streams start where the previous ones ended), and that
 * every object an increment lists without bytes has them in an earlier folder.
 */
export function readChain(dirs: string[]): Array<Manifest & { sha256: string; dir: string }> {
  const chain = dirs.map((dir) => ({ ...readManifest(dir), dir }));
  chain.forEach((m, i) => {
    const prev = chain[i - 1];
    if (!prev) {
      if (m.base)
        throw new StkError('STK_ERR_BACKUP_CORRUPT', `${m.dir} is an increment; restore its full backup first (--from FULL --from ${m.dir})`, { dir: m.dir });
    } else {
      if (m.base?.manifestSha256 !== prev.sha256)
        throw new StkError('STK_ERR_BACKUP_CORRUPT', `${m.dir} does not continue ${prev.dir}`, { dir: m.dir, base: prev.dir });
      if (m.format !== prev.format)
        throw new StkError('STK_ERR_BACKUP_CORRUPT', `${m.dir} is of format ${m.format}, ${prev.dir} of format ${prev.format}`, { dir: m.dir });
      for (const s of streamsOf(m)) {
        const at = m.streams[s]!.afterSeq;
        const ended = prev.streams[s]!.lastSeq;
        if (at !== ended)
          throw new StkError('STK_ERR_BACKUP_CORRUPT', `${m.dir}: ${s} starts after ${at}, ${prev.dir} ends at ${ended}`, { dir: m.dir, stream: s });
      }
    }
    for (const [bucket, b] of Object.entries(m.buckets ?? {}))
      for (const o of b.objects)
        if (o.file === null && !chain.slice(0, i).some((p) => p.buckets?.[bucket]?.objects.some((x) => x.sha256 === o.sha256 && x.file !== null)))
          throw new StkError('STK_ERR_BACKUP_CORRUPT', `${m.dir}: object ${o.name} of ${bucket} has its bytes in no earlier folder`, { dir: m.dir, bucket });
  });
  return chain;
}

/** Version of this build, from the nearest package.json (src/ and dist/src/ sit at different depths). */
export function toolVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'stockade' && pkg.version) return pkg.version;
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

import { createHash, type Hash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StkError } from '../errors.ts';
import { LEDGER_STREAM } from '../ledger/format.ts';
import { EVENTS_STREAM } from '../log/stream.ts';

/**
 * The backup folder: `manifest.json` and one `<STREAM>.jsonl` per stream, one JSON line per
 * stored message. docs/operations.md ("Backup and restore") describes the same layout.
 */
export const BACKUP_FORMAT = 1;
export const MANIFEST_FILE = 'manifest.json';

/**
 * Streams in the order a backup reads them. LEDGER first: every block it holds then points at a
 * record the later EVENTS read is sure to contain, so an online backup is never a ledger ahead
 * of its events (only events not yet sealed, which the sealer seals after a restore).
 */
export const BACKUP_STREAMS = [LEDGER_STREAM, EVENTS_STREAM] as const;
/** Restore writes EVENTS first, so an interrupted restore never leaves blocks without their events. */
export const RESTORE_ORDER = [EVENTS_STREAM, LEDGER_STREAM] as const;
export type BackupStream = (typeof BACKUP_STREAMS)[number];

/** One stored message as a line of `<STREAM>.jsonl`. */
export interface BackupLine {
  /** Sequence in the stream the backup was taken from (a restored stream may number differently). */
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

export interface Manifest {
  format: number;
  tool: string;
  version: string;
  createdAt: string;
  /** For an increment (`stockade backup --since BASE`): the backup it continues, by its manifest's SHA-256. */
  base: { manifestSha256: string; createdAt: string } | null;
  streams: Record<BackupStream, StreamEntry>;
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
  if (m?.format !== BACKUP_FORMAT || m.tool !== 'stockade' || !m.streams || m.base === undefined) {
    throw new StkError('STK_ERR_BACKUP_CORRUPT', `${path} is not a Stockade backup manifest of format ${BACKUP_FORMAT}`, { dir });
  }
  for (const name of BACKUP_STREAMS) {
    const s = m.streams[name];
    const ok =
      s &&
      s.file === fileOf(name) &&
      Number.isSafeInteger(s.messages) &&
      s.messages >= 0 &&
      Number.isSafeInteger(s.afterSeq) &&
      Number.isSafeInteger(s.lastSeq) &&
      s.lastSeq >= s.afterSeq &&
      /^[0-9a-f]{64}$/.test(s.sha256) &&
      /^[0-9a-f]{64}$/.test(s.contentDigest);
    if (!ok) throw new StkError('STK_ERR_BACKUP_CORRUPT', `${path} has no valid entry for stream ${name}`, { dir, stream: name });
  }
  return { ...m, sha256 };
}

export function fileOf(stream: BackupStream): string {
  return `${stream}.jsonl`;
}

/**
 * Checks that `dirs` are a full backup followed by its increments, each continuing the one before
 * (its base is the previous manifest, its streams start where the previous ones ended).
 */
export function readChain(dirs: string[]): Array<Manifest & { sha256: string; dir: string }> {
  const chain = dirs.map((dir) => ({ ...readManifest(dir), dir }));
  chain.forEach((m, i) => {
    const prev = chain[i - 1];
    if (!prev) {
      if (m.base)
        throw new StkError('STK_ERR_BACKUP_CORRUPT', `${m.dir} is an increment; restore its full backup first (--from FULL --from ${m.dir})`, { dir: m.dir });
      return;
    }
    if (m.base?.manifestSha256 !== prev.sha256)
      throw new StkError('STK_ERR_BACKUP_CORRUPT', `${m.dir} does not continue ${prev.dir}`, { dir: m.dir, base: prev.dir });
    for (const s of BACKUP_STREAMS) {
      if (m.streams[s].afterSeq !== prev.streams[s].lastSeq)
        throw new StkError('STK_ERR_BACKUP_CORRUPT', `${m.dir}: ${s} starts after ${m.streams[s].afterSeq}, ${prev.dir} ends at ${prev.streams[s].lastSeq}`, {
          dir: m.dir,
          stream: s,
        });
    }
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

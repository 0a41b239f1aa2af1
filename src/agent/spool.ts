import { createHash } from 'node:crypto';
import { chmod, mkdir, open, readdir, readFile, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { StkError } from '../errors.ts';
import { writeFileAtomic } from './state.ts';

const SEGMENT = /^seg-(\d{16})\.log$/;
const META = 'spool-meta.json';

/** Options of a disk spool. */
export interface SpoolOptions {
  /** Its own folder (created 0700). */
  dir: string;
  /** Bound on the bytes of all segment files together; the oldest batches make room. */
  maxBytes: number;
  /** A segment is closed past this size; whole segments are what gets dropped. @defaultValue maxBytes / 8, at least 4 KiB */
  segmentBytes?: number;
  /** fsync each append (a batch in the spool survives a power cut). @defaultValue true */
  fsync?: boolean;
}

/** One spooled batch. */
export interface SpoolEntry<T> {
  seq: number;
  items: number;
  batch: T;
}

/** What the spool holds and what it had to drop (agent health reports these). */
export interface SpoolStats {
  pendingBatches: number;
  pendingItems: number;
  /** Bytes of all segment files on disk. */
  diskBytes: number;
  droppedBatches: number;
  droppedItems: number;
  /** Records found damaged when the spool was opened (skipped; counted in droppedBatches too). */
  corruptRecords: number;
}

interface Meta {
  version: 1;
  /** Every batch up to here was delivered or dropped. */
  ackedSeq: number;
  droppedBatches: number;
  droppedItems: number;
  /** Segments whose damaged lines are already counted, so reopening does not count them again. */
  corruptCounted: string[];
}

interface RecordRef {
  seq: number;
  items: number;
  offset: number;
  length: number;
}

interface Segment {
  name: string;
  bytes: number;
  records: RecordRef[];
}

/** A record is one line: 8 hex digits of SHA-256 over the JSON, a space, the JSON, a newline. */
function frame(json: string): Buffer {
  return Buffer.from(`${createHash('sha256').update(json).digest('hex').slice(0, 8)} ${json}\n`);
}

function unframe(line: string): { s: number; n: number; b: unknown } | null {
  const json = line.slice(9);
  if (line[8] !== ' ' || createHash('sha256').update(json).digest('hex').slice(0, 8) !== line.slice(0, 8)) return null;
  try {
    const r = JSON.parse(json) as { s: number; n: number; b: unknown };
    return Number.isSafeInteger(r.s) && Number.isSafeInteger(r.n) ? r : null;
  } catch {
    return null;
  }
}

/**
 * A bounded disk spool for report batches the ingress could not take: append-only segment files
 * of checksummed JSON lines, replayed oldest first, acknowledged in order. When an append would
 * pass `maxBytes`, whole oldest segments (so whole oldest batches) are dropped and counted; a
 * batch larger than the bound is refused and counted. A torn last line (a crash mid-append) is cut
 * off when the spool is opened; a damaged line elsewhere is skipped and counted.
 */
export class Spool<T = unknown> {
  readonly dir: string;
  readonly maxBytes: number;
  readonly segmentBytes: number;
  readonly fsync: boolean;
  #segments: Segment[] = [];
  #meta: Meta = { version: 1, ackedSeq: 0, droppedBatches: 0, droppedItems: 0, corruptCounted: [] };
  #nextSeq = 1;
  #corrupt = 0;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(o: SpoolOptions) {
    if (!Number.isSafeInteger(o.maxBytes) || o.maxBytes < 1024)
      throw new StkError('STK_ERR_CONFIG', 'spool maxBytes must be an integer of at least 1024', { field: 'maxBytes', value: o.maxBytes });
    this.dir = o.dir;
    this.maxBytes = o.maxBytes;
    this.segmentBytes = Math.min(o.maxBytes, o.segmentBytes ?? Math.max(4096, Math.floor(o.maxBytes / 8)));
    this.fsync = o.fsync ?? true;
  }

  /** Opens (or creates) the spool in `o.dir`, reading what a previous run left there. */
  static async open<T = unknown>(o: SpoolOptions): Promise<Spool<T>> {
    const spool = new Spool<T>(o);
    await spool.#io(spool.dir, () => spool.#load());
    return spool;
  }

  /** Appends a batch of `items` items; returns its sequence number (null when refused as too large) and what was dropped to make room. */
  append(batch: T, items: number): Promise<{ seq: number | null; droppedBatches: number; droppedItems: number }> {
    return this.#serial(() => this.#io(this.dir, () => this.#append(batch, items)));
  }

  /** The oldest batch not yet acknowledged, or null when the spool is empty. */
  peek(): Promise<SpoolEntry<T> | null> {
    return this.#serial(() => this.#io(this.dir, () => this.#peek()));
  }

  /** Acknowledges the oldest batch (it was delivered); a seq already dropped is ignored. */
  ack(seq: number): Promise<void> {
    return this.#serial(() => this.#io(this.dir, () => this.#ack(seq)));
  }

  /**
   * Sends pending batches oldest first; each is acknowledged when `send` resolves true. Stops at
   * the first false (or rejection, which propagates). Returns how many were delivered.
   */
  async replay(send: (entry: SpoolEntry<T>) => Promise<boolean>): Promise<number> {
    let sent = 0;
    for (;;) {
      const e = await this.peek();
      if (e === null || !(await send(e))) return sent;
      await this.ack(e.seq);
      sent++;
    }
  }

  /** Counts for agent health. */
  stats(): SpoolStats {
    const pending = this.#segments.flatMap((s) => s.records).filter((r) => r.seq > this.#meta.ackedSeq);
    return {
      pendingBatches: pending.length,
      pendingItems: pending.reduce((n, r) => n + r.items, 0),
      diskBytes: this.#segments.reduce((n, s) => n + s.bytes, 0),
      droppedBatches: this.#meta.droppedBatches,
      droppedItems: this.#meta.droppedItems,
      corruptRecords: this.#corrupt,
    };
  }

  #serial<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #io<R>(path: string, fn: () => Promise<R>): Promise<R> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof StkError) throw err;
      throw new StkError('STK_ERR_AGENT_STATE_IO', `spool ${path}: ${(err as Error).message}`, { path }, { cause: err });
    }
  }

  async #load(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await chmod(this.dir, 0o700);
    const metaText = await readFile(join(this.dir, META), 'utf8').catch(() => null);
    if (metaText !== null) {
      try {
        const m = JSON.parse(metaText) as Meta;
        if (m.version === 1) this.#meta = { ...m, corruptCounted: Array.isArray(m.corruptCounted) ? m.corruptCounted : [] };
      } catch (err) {
        throw new StkError('STK_ERR_AGENT_STATE_CORRUPT', `${join(this.dir, META)} is not JSON`, { file: join(this.dir, META) }, { cause: err });
      }
    }
    const names = (await readdir(this.dir)).filter((n) => SEGMENT.test(n)).sort();
    let maxSeq = this.#meta.ackedSeq;
    let newlyCorrupt = 0;
    for (const [i, name] of names.entries()) {
      const path = join(this.dir, name);
      const buf = await readFile(path);
      const seg: Segment = { name, bytes: buf.length, records: [] };
      let corrupt = 0;
      let offset = 0;
      while (offset < buf.length) {
        const nl = buf.indexOf(0x0a, offset);
        if (nl < 0) {
          // Torn tail of the segment a crash interrupted: only the last segment can have one.
          if (i === names.length - 1) {
            await truncate(path, offset);
            seg.bytes = offset;
          } else corrupt++;
          break;
        }
        const r = unframe(buf.subarray(offset, nl).toString('utf8'));
        if (r === null) corrupt++;
        else {
          seg.records.push({ seq: r.s, items: r.n, offset, length: nl + 1 - offset });
          maxSeq = Math.max(maxSeq, r.s);
        }
        offset = nl + 1;
      }
      this.#corrupt += corrupt;
      if (corrupt > 0 && !this.#meta.corruptCounted.includes(name)) {
        this.#meta.corruptCounted.push(name);
        newlyCorrupt += corrupt;
      }
      this.#segments.push(seg);
    }
    this.#nextSeq = maxSeq + 1;
    if (newlyCorrupt > 0) {
      this.#meta.droppedBatches += newlyCorrupt;
      await this.#saveMeta();
    }
    await this.#deleteDone();
  }

  async #append(batch: T, items: number): Promise<{ seq: number | null; droppedBatches: number; droppedItems: number }> {
    const seq = this.#nextSeq;
    const bytes = frame(JSON.stringify({ s: seq, n: items, b: batch }));
    if (bytes.length > this.maxBytes) {
      this.#meta.droppedBatches++;
      this.#meta.droppedItems += items;
      await this.#saveMeta();
      return { seq: null, droppedBatches: 1, droppedItems: items };
    }
    let droppedBatches = 0;
    let droppedItems = 0;
    let last = this.#segments.at(-1);
    if (!last || (last.bytes > 0 && last.bytes + bytes.length > this.segmentBytes)) {
      last = { name: `seg-${String(seq).padStart(16, '0')}.log`, bytes: 0, records: [] };
      this.#segments.push(last);
    }
    let dropped = false;
    while (this.#segments.reduce((n, s) => n + s.bytes, 0) + bytes.length > this.maxBytes) {
      const oldest = this.#segments[0]!;
      const lost = oldest.records.filter((r) => r.seq > this.#meta.ackedSeq);
      droppedBatches += lost.length;
      droppedItems += lost.reduce((n, r) => n + r.items, 0);
      // Segments hold ascending seqs: everything through the dropped one's last is gone.
      this.#meta.ackedSeq = Math.max(this.#meta.ackedSeq, ...oldest.records.map((r) => r.seq));
      this.#meta.corruptCounted = this.#meta.corruptCounted.filter((n) => n !== oldest.name);
      await rm(join(this.dir, oldest.name), { force: true });
      this.#segments.shift();
      dropped = true;
      if (oldest === last) {
        last = { name: `seg-${String(seq).padStart(16, '0')}.log`, bytes: 0, records: [] };
        this.#segments.push(last);
      }
    }
    if (dropped) {
      this.#meta.droppedBatches += droppedBatches;
      this.#meta.droppedItems += droppedItems;
      await this.#saveMeta();
    }
    const fh = await open(join(this.dir, last.name), 'a', 0o600);
    try {
      await fh.write(bytes);
      if (this.fsync) await fh.sync();
    } finally {
      await fh.close();
    }
    last.records.push({ seq, items, offset: last.bytes, length: bytes.length });
    last.bytes += bytes.length;
    this.#nextSeq = seq + 1;
    return { seq, droppedBatches, droppedItems };
  }

  async #peek(): Promise<SpoolEntry<T> | null> {
    for (const seg of this.#segments) {
      const r = seg.records.find((x) => x.seq > this.#meta.ackedSeq);
      if (!r) continue;
      const fh = await open(join(this.dir, seg.name), 'r');
      try {
        const buf = Buffer.alloc(r.length);
        await fh.read(buf, 0, r.length, r.offset);
        const rec = unframe(buf.toString('utf8', 0, r.length - 1));
        if (rec === null || rec.s !== r.seq)
          throw new StkError('STK_ERR_AGENT_STATE_CORRUPT', `spool record ${r.seq} in ${seg.name} changed on disk`, { file: seg.name });
        return { seq: r.seq, items: r.items, batch: rec.b as T };
      } finally {
        await fh.close();
      }
    }
    return null;
  }

  async #ack(seq: number): Promise<void> {
    if (seq <= this.#meta.ackedSeq) return;
    const oldest = this.#segments.flatMap((s) => s.records).find((r) => r.seq > this.#meta.ackedSeq);
    if (oldest?.seq !== seq)
      throw new StkError('STK_ERR_VALIDATION', `spool batches are acknowledged in order: expected ${oldest?.seq ?? 'none'}, got ${seq}`, {
        expected: oldest?.seq ?? null,
        actual: seq,
      });
    this.#meta.ackedSeq = seq;
    await this.#saveMeta();
    await this.#deleteDone();
  }

  /** Deletes segments whose every batch is acknowledged. */
  async #deleteDone(): Promise<void> {
    while (this.#segments.length > 0 && this.#segments[0]!.records.every((r) => r.seq <= this.#meta.ackedSeq)) {
      const done = this.#segments.shift()!;
      await rm(join(this.dir, done.name), { force: true });
      this.#meta.corruptCounted = this.#meta.corruptCounted.filter((n) => n !== done.name);
    }
  }

  async #saveMeta(): Promise<void> {
    await writeFileAtomic(join(this.dir, META), JSON.stringify(this.#meta));
  }

  /** Bytes of segment files on disk as the file system counts them (tests compare with the bound). */
  async diskUsage(): Promise<number> {
    let n = 0;
    for (const name of (await readdir(this.dir)).filter((x) => SEGMENT.test(x))) n += (await stat(join(this.dir, name))).size;
    return n;
  }
}

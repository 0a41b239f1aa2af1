import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { StkError } from '../errors.ts';
import { HASH_BYTES } from './hash.ts';

/**
 * Where a MerkleTree keeps its leaf hashes (level 0): append-only, read by position. Reads of an
 * aligned run of up to 2^cacheFromLevel leaves are what a proof costs in I/O (see docs/ledger-format.md, Part II).
 */
export interface LeafStore {
  /** Number of leaf hashes held. */
  readonly size: number;
  /** Appends one 32-byte leaf hash. */
  append(hash: Uint8Array): void;
  /** `count` consecutive leaf hashes from `start`, concatenated (32·count bytes); callers must not modify the result. */
  read(start: number, count: number): Uint8Array;
}

// 32,768 hashes = 1 MiB per chunk: growing never copies what is stored, and an aligned run of up
// to 2^15 leaves never straddles two chunks, so most reads are views without a copy.
const CHUNK_HASHES = 1 << 15;
const CHUNK_BYTES = CHUNK_HASHES * HASH_BYTES;

/** An append-only array of 32-byte hashes in 1 MiB chunks. */
export class HashArray {
  readonly #chunks: Uint8Array[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  append(hash: Uint8Array): void {
    const offset = (this.#size % CHUNK_HASHES) * HASH_BYTES;
    if (offset === 0) this.#chunks.push(new Uint8Array(CHUNK_BYTES));
    this.#chunks[this.#chunks.length - 1]!.set(hash, offset);
    this.#size++;
  }

  /** The hash at `index`, as a view into the array. */
  get(index: number): Uint8Array {
    const chunk = this.#chunks[Math.floor(index / CHUNK_HASHES)]!;
    const offset = (index % CHUNK_HASHES) * HASH_BYTES;
    return chunk.subarray(offset, offset + HASH_BYTES);
  }

  read(start: number, count: number): Uint8Array {
    const first = Math.floor(start / CHUNK_HASHES);
    const offset = (start % CHUNK_HASHES) * HASH_BYTES;
    if (offset + count * HASH_BYTES <= CHUNK_BYTES) return this.#chunks[first]!.subarray(offset, offset + count * HASH_BYTES);
    const out = new Uint8Array(count * HASH_BYTES);
    for (let i = 0; i < count; i++) out.set(this.get(start + i), i * HASH_BYTES);
    return out;
  }
}

/** Leaf hashes in memory: 32 bytes per leaf, nothing survives the process. */
export class MemoryLeafStore extends HashArray implements LeafStore {}

/** A read-only view of leaf hashes the caller already holds in an array. */
export class ArrayLeafStore implements LeafStore {
  readonly #leaves: readonly Uint8Array[];

  constructor(leaves: readonly Uint8Array[]) {
    this.#leaves = leaves;
  }

  get size(): number {
    return this.#leaves.length;
  }

  append(): void {
    throw new StkError('STK_ERR_VALIDATION', 'an ArrayLeafStore is read-only');
  }

  read(start: number, count: number): Uint8Array {
    if (count === 1) return this.#leaves[start]!;
    const out = new Uint8Array(count * HASH_BYTES);
    for (let i = 0; i < count; i++) out.set(this.#leaves[start + i]!, i * HASH_BYTES);
    return out;
  }
}

/**
 * Leaf hashes in an append-only file of 32-byte records, so a tenant's leaves cost disk rather
 * than memory. Appends are buffered until `flush()`/`sync()` (or 1,024 of them); a torn record
 * at the end (a crash mid-write) is cut off when the file is opened. Reads are synchronous
 * `pread`s, a few per proof. One process per file: nothing here locks it.
 */
export class FileLeafStore implements LeafStore {
  readonly path: string;
  #fd: number;
  #durable: number;
  #pending: Uint8Array[] = [];

  private constructor(path: string, fd: number, durable: number) {
    this.path = path;
    this.#fd = fd;
    this.#durable = durable;
  }

  /** Opens (creating, mode 0600) the file at `path`. */
  static open(path: string): FileLeafStore {
    const fd = openSync(path, 'a+', 0o600);
    try {
      const bytes = fstatSync(fd).size;
      const whole = Math.floor(bytes / HASH_BYTES);
      if (whole * HASH_BYTES !== bytes) ftruncateSync(fd, whole * HASH_BYTES);
      return new FileLeafStore(path, fd, whole);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  get size(): number {
    return this.#durable + this.#pending.length;
  }

  append(hash: Uint8Array): void {
    this.#pending.push(Uint8Array.from(hash));
    if (this.#pending.length >= 1024) this.flush();
  }

  /** Writes buffered appends to the file (no fsync). */
  flush(): void {
    if (this.#pending.length === 0) return;
    const buf = new Uint8Array(this.#pending.length * HASH_BYTES);
    for (let i = 0; i < this.#pending.length; i++) buf.set(this.#pending[i]!, i * HASH_BYTES);
    let written = 0;
    while (written < buf.length) written += writeSync(this.#fd, buf, written, buf.length - written);
    this.#durable += this.#pending.length;
    this.#pending = [];
  }

  /** Flushes and fsyncs: every appended leaf is on disk when this returns. */
  sync(): void {
    this.flush();
    fsyncSync(this.#fd);
  }

  read(start: number, count: number): Uint8Array {
    if (start + count > this.#durable) this.flush();
    const out = new Uint8Array(count * HASH_BYTES);
    let got = 0;
    while (got < out.length) {
      const n = readSync(this.#fd, out, got, out.length - got, start * HASH_BYTES + got);
      if (n === 0) throw new StkError('STK_ERR_MERKLE_STORE', `leaf file ${this.path} ends before leaf ${start + count - 1}`, { path: this.path });
      got += n;
    }
    return out;
  }

  /** Flushes, fsyncs and closes the file. */
  close(): void {
    if (this.#fd < 0) return;
    this.sync();
    closeSync(this.#fd);
    this.#fd = -1;
  }
}

import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { open } from 'node:fs/promises';

/** Counters of an ExeHasher, for agent health and the benchmark. */
export interface HashStats {
  hashed: number;
  cacheHits: number;
  tooLarge: number;
  unreadable: number;
}

/** How many (file identity → hash) entries a hasher keeps by default. */
export const DEFAULT_HASH_CACHE_ENTRIES = 4096;

/**
 * SHA-256 of executables, keyed by the file's identity (device, inode, size, mtime) so a binary
 * that a hundred processes run is read once, and a binary replaced or rewritten in place (new
 * inode, or new mtime/size) is read again. The file is opened through the path given — for a
 * process that is `/proc/<pid>/exe`, which reaches the very file the process runs, even deleted
 * or in another mount namespace — and fstat'ed on the same descriptor, so identity and bytes match.
 */
export class ExeHasher {
  readonly maxBytes: number;
  readonly maxEntries: number;
  readonly stats: HashStats = { hashed: 0, cacheHits: 0, tooLarge: 0, unreadable: 0 };
  // Insertion order doubles as recency: a hit is moved to the end, the front is evicted first.
  readonly #cache = new Map<string, string | null>();

  constructor(o: { maxBytes?: number; maxEntries?: number } = {}) {
    this.maxBytes = o.maxBytes ?? 256 * 1024 * 1024;
    this.maxEntries = o.maxEntries ?? DEFAULT_HASH_CACHE_ENTRIES;
  }

  /** Hex SHA-256 of the file at `path`; null when it cannot be read or is over `maxBytes`. */
  async hash(path: string): Promise<string | null> {
    // Fast path: one stat syscall answers a cache hit, which is nearly every process of a scan.
    // A miss is decided again on the opened descriptor, so the bytes hashed match the key kept.
    try {
      const st = statSync(path, { bigint: true });
      const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
      if (st.isFile() && this.#cache.has(key)) return this.#hit(key);
    } catch {
      // gone or unreadable: the slow path says which
    }
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await open(path, 'r');
    } catch {
      this.stats.unreadable++;
      return null;
    }
    try {
      const st = await fh.stat({ bigint: true });
      if (!st.isFile()) {
        this.stats.unreadable++;
        return null;
      }
      const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
      if (this.#cache.has(key)) return this.#hit(key);
      let digest: string | null = null;
      if (st.size > BigInt(this.maxBytes)) this.stats.tooLarge++;
      else {
        const h = createHash('sha256');
        const buf = Buffer.allocUnsafe(1024 * 1024);
        for (;;) {
          const { bytesRead } = await fh.read(buf, 0, buf.length, null);
          if (bytesRead === 0) break;
          h.update(buf.subarray(0, bytesRead));
        }
        digest = h.digest('hex');
        this.stats.hashed++;
      }
      this.#remember(key, digest);
      return digest;
    } catch {
      this.stats.unreadable++;
      return null;
    } finally {
      await fh.close();
    }
  }

  /** The cache as pairs, oldest first, for the agent's state folder. */
  exportEntries(): Array<[string, string | null]> {
    return [...this.#cache];
  }

  /** Loads pairs saved by `exportEntries` (a restarted agent does not hash everything again). */
  importEntries(entries: ReadonlyArray<readonly [string, string | null]>): void {
    for (const [k, v] of entries) if (typeof k === 'string' && (v === null || /^[0-9a-f]{64}$/.test(v))) this.#remember(k, v);
  }

  #hit(key: string): string | null {
    const hit = this.#cache.get(key)!;
    this.#cache.delete(key);
    this.#cache.set(key, hit);
    this.stats.cacheHits++;
    return hit;
  }

  #remember(key: string, digest: string | null): void {
    this.#cache.set(key, digest);
    while (this.#cache.size > this.maxEntries) this.#cache.delete(this.#cache.keys().next().value!);
  }
}

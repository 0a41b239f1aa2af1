import type { Bucket, Streams } from '../log/mod.ts';

/** KV bucket of API tokens' last-used times: key `t.<tokenId>` → ISO time. */
export const TOKEN_USAGE_BUCKET = 'stk-token-usage';
/** How often a process writes the last-used times it saw. */
export const USAGE_FLUSH_MS = 30_000;

/**
 * Last-used times of API tokens without a write per request: each process notes uses in memory
 * and writes one KV entry per token used since its last flush, every `USAGE_FLUSH_MS` (and when it
 * stops). A list of tokens reads the entries back. Several processes may write the same token;
 * a later time never gets replaced by an earlier one within a process, and across processes the
 * newest write wins, which is at most one flush interval off.
 */
export class TokenUsage {
  readonly #pending = new Map<string, string>();
  #timer: NodeJS.Timeout | null = null;
  /** KV writes done so far (the bench and tests read it). */
  writes = 0;

  constructor(private readonly kv: Bucket) {}

  static async open(streams: Streams, o: { replicas?: number; flushMs?: number } = {}): Promise<TokenUsage> {
    const u = new TokenUsage(await streams.bucket(TOKEN_USAGE_BUCKET, { history: 1, replicas: o.replicas ?? 1 }));
    u.#timer = setInterval(() => void u.flush().catch(() => undefined), o.flushMs ?? USAGE_FLUSH_MS);
    u.#timer.unref();
    return u;
  }

  /** Notes a use (no I/O). */
  used(tokenId: string, at: Date = new Date()): void {
    this.#pending.set(tokenId, at.toISOString());
  }

  /** Writes what was noted since the last flush: one put per token. */
  async flush(): Promise<void> {
    const batch = [...this.#pending];
    this.#pending.clear();
    await Promise.all(
      batch.map(async ([id, at]) => {
        await this.kv.put(`t.${id}`, at);
        this.writes++;
      }),
    );
  }

  /** The last-used time of each token (null when never seen), this process's unflushed uses included. */
  async lastUsed(tokenIds: string[]): Promise<Map<string, string | null>> {
    const out = new Map<string, string | null>();
    await Promise.all(
      tokenIds.map(async (id) => {
        const e = await this.kv.get(`t.${id}`).catch(() => null);
        const stored = e && e.operation === 'PUT' && e.length > 0 ? e.string() : null;
        const pending = this.#pending.get(id) ?? null;
        out.set(id, pending && (!stored || pending > stored) ? pending : stored);
      }),
    );
    return out;
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.flush().catch(() => undefined);
  }
}

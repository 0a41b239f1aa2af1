/**
 * One check of how far a stream goes, shared by every caller and rate-limited.
 *
 * A view that must show everything stored before a request arrived needs the stream's last
 * sequence as it stood *after* that arrival: a check already in flight was sent too early for a
 * newcomer. Every caller that arrives while one is in flight waits for the next, and the next is
 * sent once the one in flight is answered and at least `minIntervalMs` after the one before — so
 * however many requests arrive, at most one check per interval goes to the server, and a caller
 * waits at most an interval and a round trip for it.
 */
export class Freshness {
  readonly #read: () => Promise<number>;
  readonly #minIntervalMs: number;
  #inflight: Promise<number> | null = null;
  #next: Promise<number> | null = null;
  #lastSentMs = Number.NEGATIVE_INFINITY;
  #sent = 0;

  constructor(read: () => Promise<number>, minIntervalMs: number) {
    this.#read = read;
    this.#minIntervalMs = minIntervalMs;
  }

  /** Checks sent so far. */
  get sent(): number {
    return this.#sent;
  }

  /** The stream's last sequence, from a check sent after this call. */
  latest(): Promise<number> {
    if (!this.#inflight && !this.#next && performance.now() - this.#lastSentMs >= this.#minIntervalMs) return this.#send();
    this.#next ??= (async () => {
      await this.#inflight?.catch(() => undefined);
      const wait = this.#lastSentMs + this.#minIntervalMs - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      this.#next = null;
      return this.#send();
    })();
    return this.#next;
  }

  #send(): Promise<number> {
    this.#lastSentMs = performance.now();
    this.#sent++;
    const p = this.#read();
    this.#inflight = p;
    const clear = (): void => {
      if (this.#inflight === p) this.#inflight = null;
    };
    p.then(clear, clear);
    return p;
  }
}

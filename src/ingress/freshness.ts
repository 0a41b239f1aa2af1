/**
 * One check of how far a stream goes, shared by every caller and rate-limited.
 *
 * A view that must show everything stored before a request arrived needs the stream's last
 * sequence as it stood *after* that arrival: a check already in flight was sent too early for a
 * newcomer. Every caller that arrives while one is in flight waits for the next, and the next is
 * sent once the one in flight is answered (or has gone unanswered for `stuckMs`: lost with a
 * connection) and at least `minIntervalMs` after the one before — so
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

  readonly #stuckMs: number;

  /**
   * @param stuckMs how long newcomers wait for a check in flight before sending the next one anyway:
   * a check lost with a dropped connection is answered only by its timeout, and everyone behind it
   * would wait that long after the connection is back. @defaultValue 500
   */
  constructor(read: () => Promise<number>, minIntervalMs: number, stuckMs = 500) {
    this.#read = read;
    this.#minIntervalMs = minIntervalMs;
    this.#stuckMs = stuckMs;
  }

  /** Checks sent so far. */
  get sent(): number {
    return this.#sent;
  }

  /** The stream's last sequence, from a check sent after this call. */
  latest(): Promise<number> {
    if (!this.#inflight && !this.#next && performance.now() - this.#lastSentMs >= this.#minIntervalMs) return this.#send();
    this.#next ??= (async () => {
      if (this.#inflight) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([this.#inflight.catch(() => undefined), new Promise((r) => (timer = setTimeout(r, this.#stuckMs)))]);
        clearTimeout(timer);
      }
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

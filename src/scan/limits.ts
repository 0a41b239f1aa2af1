import { StkError } from '../errors.ts';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A token bucket for connections started per second: `burst` tokens at most, refilled at
 * `ratePerSecond`. A reservation that finds the bucket empty drives it below zero and waits for
 * its turn, so waiters are served in order and, over any window of T seconds, at most
 * `burst + ratePerSecond × T` connections start. The clock comes in as a function so the
 * arithmetic can be checked with chosen instants.
 */
export class TokenBucket {
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;

  constructor(ratePerSecond: number, burst: number, now: () => number = () => performance.now()) {
    if (!(ratePerSecond > 0) || !(burst >= 1)) throw new StkError('STK_ERR_VALIDATION', 'ratePerSecond must be > 0 and burst ≥ 1', { field: 'ratePerSecond' });
    this.ratePerSecond = ratePerSecond;
    this.burst = burst;
    this.#now = now;
    this.#tokens = burst;
    this.#last = now();
  }

  /** Takes one token; returns the milliseconds to wait before using it (0 = now). */
  reserve(): number {
    const t = this.#now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((t - this.#last) * this.ratePerSecond) / 1000);
    this.#last = t;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : (-this.#tokens * 1000) / this.ratePerSecond;
  }

  /** Resolves when a token is available (taken). */
  async take(signal?: AbortSignal): Promise<void> {
    const waitMs = this.reserve();
    if (waitMs > 0) await sleep(waitMs, undefined, signal ? { signal } : undefined);
  }
}

/**
 * Runs `work` over `jobs` with at most `concurrency` running at once. Once `signal` aborts (or a
 * job fails) no new job starts; it resolves only after every started job settled, so nothing of
 * the run is still on the network when it returns. A failure other than the abort is rethrown.
 */
export async function runPool<T>(jobs: Iterator<T>, concurrency: number, work: (job: T) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let failure: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (!failure && !signal?.aborted) {
      const next = jobs.next();
      if (next.done) return;
      try {
        await work(next.value);
      } catch (err) {
        if (!signal?.aborted) failure ??= { err };
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (failure) throw failure.err;
}

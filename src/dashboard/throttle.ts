import { StkError } from '../errors.ts';

/**
 * Failed sign-ins per client address within a sliding window, in this process. Credentials carry
 * 256 random bits, so this is not what keeps them from being guessed; it keeps a guessing client
 * from costing verification work and filling the log. Per process on purpose: behind a load
 * balancer each process allows its share, which bounds the total just as well.
 */
export class SignInThrottle {
  readonly #failures = new Map<string, number[]>();

  constructor(
    readonly maxFailures = 10,
    readonly windowMs = 60_000,
    readonly maxAddresses = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Refuses with STK_ERR_RATE_LIMITED while `address` has used up its failures. */
  check(address: string): void {
    const recent = this.#recent(address);
    if (recent.length >= this.maxFailures) {
      const retryAfterSeconds = Math.max(1, Math.ceil((recent[0]! + this.windowMs - this.now()) / 1000));
      throw new StkError('STK_ERR_RATE_LIMITED', 'too many failed sign-ins from this address; wait and try again', { retryAfterSeconds });
    }
  }

  failed(address: string): void {
    const recent = this.#recent(address);
    recent.push(this.now());
    this.#failures.delete(address);
    this.#failures.set(address, recent);
    // The oldest addresses go first when a scan of many addresses would grow the map without end.
    while (this.#failures.size > this.maxAddresses) this.#failures.delete(this.#failures.keys().next().value!);
  }

  succeeded(address: string): void {
    this.#failures.delete(address);
  }

  #recent(address: string): number[] {
    const since = this.now() - this.windowMs;
    return (this.#failures.get(address) ?? []).filter((t) => t > since);
  }
}

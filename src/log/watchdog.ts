import { StkError } from '../errors.ts';

/** Closes a read that received nothing for `idleMs`; `check()` then turns the silence into an error. */
export class Watchdog {
  #last = Date.now();
  #fired = false;
  readonly #timer: NodeJS.Timeout;
  readonly #idleMs: number;

  constructor(idleMs: number, onIdle: () => void) {
    this.#idleMs = idleMs;
    // One timer for the whole read, not one per message: progress() is a plain assignment.
    this.#timer = setInterval(
      () => {
        if (Date.now() - this.#last < idleMs) return;
        this.#fired = true;
        onIdle();
      },
      Math.max(100, Math.min(1000, idleMs / 4)),
    );
    this.#timer.unref();
  }

  progress(): void {
    this.#last = Date.now();
  }

  check(stream: string): void {
    if (this.#fired) throw new StkError('STK_ERR_LOG_UNAVAILABLE', `${stream} delivered nothing for ${this.#idleMs} ms`, { stream });
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

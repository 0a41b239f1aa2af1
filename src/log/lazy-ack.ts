import type { Delivery } from './streams.ts';

/**
 * Acknowledgements of an ack-all consumer whose reader keeps its real place elsewhere (the
 * detector's checkpoints): the newest delivery handled is acked at most once per `everyMs`, not
 * once per delivery. A reader that is caught up with a steady trickle of records otherwise acks
 * each one — the detector's acks were a third of the JetStream calls per agent request in the fleet
 * bench. Ack-all makes one ack cover every delivery before it; what a crash leaves unacked is
 * delivered again and skipped by position. Never for a consumer whose ack floor is its place.
 */
export class LazyAcks {
  readonly #everyMs: number;
  #owed: Delivery | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(everyMs: number) {
    this.#everyMs = everyMs;
  }

  /** `d` and everything delivered before it are handled: acked now when `now`, else within `everyMs`. */
  handled(d: Delivery, now = false): void {
    this.#owed = d;
    if (now || this.#everyMs <= 0) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), this.#everyMs).unref();
  }

  /** Acks what is owed at once (before the consumption closes). */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const d = this.#owed;
    this.#owed = null;
    try {
      d?.ack();
    } catch {
      // The connection is gone: the deliveries come again to whoever reads next, and are skipped by position.
    }
  }
}

import type { Product } from '../../domain/products.ts';
import { Backoff } from '../backoff.ts';
import { Spool, type SpoolStats } from '../spool.ts';
import type { StateDir } from '../state.ts';
import type { IngressClient, ReportBatch, TelemetryBatchOut } from './client.ts';

/** One batch waiting to go out; `product` null = the core (heartbeats, agent health). */
export type OutEntry = { kind: 'report'; product: Product | null; batch: ReportBatch } | { kind: 'telemetry'; product: Product; batch: TelemetryBatchOut };

/** What a collector keeps in the state folder: its own state, and the batches it made but may not have spooled yet. */
interface Saved<S> {
  version: 1;
  state: S;
  pending: OutEntry[];
}

/** What the sender tells the runner about. */
export interface OutboxEvents {
  sent(e: OutEntry, answer: { status: number; body: unknown }): void;
  /** The batch was refused for good (a 4xx other than 429): dropped, never sent again. */
  refused(e: OutEntry, answer: { status: number; body: unknown }): void;
  /** The ingress did not take the batch now (no answer, 429, 503): it is sent again after `delayMs`. */
  deferred(e: OutEntry, status: number, delayMs: number): void;
  revoked(): void;
}

const itemsOf = (e: OutEntry): number => (e.kind === 'report' ? e.batch.events.length : e.batch.items.length);

/**
 * Every batch the agent sends goes through a disk spool, oldest first: when the ingress is
 * unreachable or busy, batches wait on disk (up to the spool's bound, the oldest dropped first)
 * and go out in order once it answers again. A batch is removed only when the ingress accepted
 * it, or refused it for good. Retries reuse the batch id, which makes them no-ops on the server.
 *
 * Collectors hand their batches over with `commit`, which saves the collector's new state together
 * with the batches first and clears them once spooled: a crash in between spools them again on
 * the next start under the same batch ids, so the server still stores each item once, and a
 * restart never reports again what was already reported.
 */
export class Outbox {
  readonly spool: Spool<OutEntry>;
  readonly #state: StateDir;
  readonly #client: IngressClient;
  readonly #events: OutboxEvents;
  readonly #backoff: Backoff;
  #products: ReadonlySet<Product> = new Set();
  #wake: (() => void) | null = null;
  /** False while backing off: a new batch must not cut short a wait the ingress asked for. */
  #wakeOnAdd = true;
  /** A batch was added since the sender last found the spool empty. */
  #added = false;
  #stopped = false;
  #running: Promise<void> | null = null;

  private constructor(spool: Spool<OutEntry>, state: StateDir, client: IngressClient, events: OutboxEvents, backoff: Backoff) {
    this.spool = spool;
    this.#state = state;
    this.#client = client;
    this.#events = events;
    this.#backoff = backoff;
  }

  /** Opens the spool in `dir` (bounded by `maxBytes`). */
  static async open(o: { dir: string; maxBytes: number; state: StateDir; client: IngressClient; events: OutboxEvents; backoff?: Backoff }): Promise<Outbox> {
    const spool = await Spool.open<OutEntry>({ dir: o.dir, maxBytes: o.maxBytes });
    return new Outbox(spool, o.state, o.client, o.events, o.backoff ?? new Backoff());
  }

  /** The products on now: a spooled batch of a product switched off meanwhile is dropped, never sent. */
  setProducts(products: readonly Product[]): void {
    this.#products = new Set(products);
  }

  stats(): SpoolStats {
    return this.spool.stats();
  }

  /** Appends batches to the spool and wakes the sender. */
  async add(entries: readonly OutEntry[]): Promise<void> {
    for (const e of entries) await this.spool.append(e, itemsOf(e));
    this.#added = true;
    if (this.#wakeOnAdd) this.#wake?.();
  }

  /** Saves a collector's new state with its batches, spools them, then clears them from the state (see the class comment). */
  async commit<S>(name: string, state: S, entries: readonly OutEntry[]): Promise<void> {
    if (entries.length > 0) await this.#state.write(name, { version: 1, state, pending: [...entries] } satisfies Saved<S>);
    await this.add(entries);
    await this.#state.write(name, { version: 1, state, pending: [] } satisfies Saved<S>);
  }

  /** A collector's saved state; batches a crash left unspooled are spooled now. */
  async recover<S>(name: string): Promise<S | null> {
    const saved = await this.#state.read<Saved<S>>(name);
    if (saved?.version !== 1) return null;
    if (saved.pending?.length) {
      await this.add(saved.pending);
      await this.#state.write(name, { ...saved, pending: [] });
    }
    return saved.state;
  }

  /** Starts sending in the background. */
  start(): void {
    this.#running ??= this.#loop();
  }

  /** Stops sending (a request in flight finishes) and waits for the loop to end. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    this.#wakeOnAdd = true;
    await this.#running;
  }

  /** Resolves once the spool is empty (or the outbox stopped). */
  async flushed(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.spool.stats().pendingBatches > 0) {
      if (this.#stopped || Date.now() > deadline) return false;
      // Polled: the spool has no completion signal, and this is for shutdown and tests only.
      await new Promise((r) => setTimeout(r, 50));
    }
    return true;
  }

  /** Sleeps `ms`; a stop always ends it, a new batch only when `wakeOnAdd`. */
  #pause(ms: number, wakeOnAdd = false): Promise<void> {
    this.#wakeOnAdd = wakeOnAdd;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = null;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
    });
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      this.#added = false;
      const e = await this.spool.peek();
      if (!e) {
        // Nothing to send: sleep until a batch is added (or a minute), unless one came meanwhile.
        if (!this.#added) await this.#pause(60_000, true);
        continue;
      }
      const entry = e.batch;
      if (entry.product && !this.#products.has(entry.product)) {
        await this.spool.ack(e.seq);
        this.#events.refused(entry, { status: 0, body: { reason: `product ${entry.product} is off` } });
        continue;
      }
      let answer: { status: number; body: unknown; headers: Record<string, string | string[] | undefined> };
      try {
        answer = entry.kind === 'report' ? await this.#client.report(entry.batch) : await this.#client.telemetry(entry.batch);
      } catch {
        const delay = this.#backoff.fail({ status: 0 });
        this.#events.deferred(entry, 0, delay);
        await this.#pause(delay);
        continue;
      }
      if (answer.status === 202 || answer.status === 200) {
        this.#backoff.succeed();
        await this.spool.ack(e.seq);
        this.#events.sent(entry, answer);
        continue;
      }
      const code = (answer.body as { error?: { code?: string } } | null)?.error?.code;
      if (code === 'STK_ERR_AGENT_REVOKED') {
        this.#events.revoked();
        return;
      }
      // Busy, or a certificate the ingress no longer takes (it may be renewed meanwhile): try again later.
      if (answer.status === 429 || answer.status >= 500 || answer.status === 401) {
        const retryAfter = answer.headers['retry-after'];
        const delay = this.#backoff.fail({ status: answer.status, retryAfter: (Array.isArray(retryAfter) ? retryAfter[0] : retryAfter) ?? null });
        this.#events.deferred(entry, answer.status, delay);
        await this.#pause(delay);
        continue;
      }
      await this.spool.ack(e.seq);
      this.#events.refused(entry, answer);
    }
  }
}

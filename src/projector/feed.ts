import type { EventEnvelope } from '../domain/events.ts';
import { caughtUp, type Delivery, type Streams } from '../log/mod.ts';
import type { Logger } from '../logger.ts';
import type { ModelWriter } from '../store/batch.ts';
import { positionKey, prefetchModels, putJson, RawBatch } from '../store/batch.ts';
import type { ReadStore } from '../store/store.ts';

/** Longest a read may ask to wait for the projection (read-your-writes). */
export const MAX_WAIT_MS = 10_000;

export interface ModelFeedOptions<T> {
  streams: Streams;
  stream: string;
  /** Subject filter of the durable consumer. */
  filter: string;
  /** Durable consumer name; one per LevelDB, since each process keeps its own read models. */
  durableName: string;
  /** Most deliveries applied in one LevelDB batch. */
  batchMax: number;
  logger: Logger;
  /** What the log calls this reader ("projector", "stream projector"). */
  label: string;
  /** The stream sequence up to which every model is applied (from LevelDB, never the consumer). */
  position(): number;
  /** A delivery as `apply` takes it; null for one that is none of the models' (its position still counts). */
  decode(d: Delivery): T | null;
  /** Applies a batch whose last delivery is at `last`, models and positions in one LevelDB batch. */
  apply(items: T[], last: number): Promise<void>;
  /**
   * Caught up within this long of the last batch written, a batch waits for more until then: under
   * a steady stream of small commits the models are written in fewer, larger LevelDB batches (each
   * also writes every model's position), for at most this much more lag. A delivery after a quiet
   * spell is applied at once. @defaultValue 0 (each caught-up delivery at once)
   */
  lingerMs?: number;
}

const LINGER_OVER = Symbol('linger over');

/** `p`, or LINGER_OVER once `ms` pass first (`p` is left to settle; the caller awaits it later). */
function raceTimer<V>(p: Promise<V>, ms: number): Promise<V | typeof LINGER_OVER> {
  let timer: NodeJS.Timeout | undefined;
  const over = new Promise<typeof LINGER_OVER>((resolve) => {
    timer = setTimeout(() => resolve(LINGER_OVER), ms);
  });
  return Promise.race([p, over]).finally(() => clearTimeout(timer));
}

/**
 * The read side of the projectors: one durable consumer of a stream, read in order, acked only
 * after a batch is written. The consumer is re-pointed at the stored position whenever it does not
 * stand there (a crash, a delivery lost in flight), so LevelDB, not the consumer, decides where to
 * resume: nothing is applied twice, nothing skipped. Readers waiting for a position (read-your-writes)
 * are told once it is applied.
 */
export class ModelFeed<T> {
  readonly #o: ModelFeedOptions<T>;
  #waiters: Array<{ position: number; resolve: (ok: boolean) => void }> = [];
  #stopped = false;
  #running: Promise<void> | null = null;
  #close: (() => Promise<void>) | null = null;
  #lastError: string | null = null;

  constructor(o: ModelFeedOptions<T>) {
    this.#o = o;
  }

  get lastError(): string | null {
    return this.#lastError;
  }

  /** Starts consuming in the background; returns once the consumer is in place. */
  async start(): Promise<void> {
    const first = await this.#consume();
    this.#running = (async () => {
      let next: (() => Promise<void>) | null = first;
      while (!this.#stopped) {
        try {
          await (next ?? (await this.#consume()))();
          this.#lastError = null;
        } catch (err) {
          // A closed or draining connection means the process is shutting down: nothing to retry.
          if (this.#stopped || !this.#o.streams.connected) break;
          this.#lastError = (err as Error).message;
          this.#o.logger.error({ err, position: this.#o.position(), stream: this.#o.stream }, `${this.#o.label} failed; restarting from its stored position`);
          // A pause before the restart, so a persistent fault does not spin.
          await new Promise((r) => setTimeout(r, 500));
        }
        next = null;
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#close?.();
    await this.#running;
    for (const w of this.#waiters) w.resolve(false);
    this.#waiters = [];
  }

  /** Resolves true once every model reflects `position`, false after `timeoutMs`. */
  waitFor(position: number, timeoutMs: number): Promise<boolean> {
    if (this.#o.position() >= position) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const w: { position: number; resolve: (ok: boolean) => void } = { position, resolve };
      const timer = setTimeout(
        () => {
          this.#waiters = this.#waiters.filter((x) => x !== w);
          resolve(false);
        },
        Math.min(timeoutMs, MAX_WAIT_MS),
      );
      w.resolve = (ok: boolean) => {
        clearTimeout(timer);
        resolve(ok);
      };
      this.#waiters.push(w);
    });
  }

  /** Tells the readers waiting for a position now applied. */
  #release(): void {
    const pos = this.#o.position();
    const ready = this.#waiters.filter((w) => w.position <= pos);
    if (!ready.length) return;
    this.#waiters = this.#waiters.filter((w) => w.position > pos);
    for (const w of ready) w.resolve(true);
  }

  /** Points the durable consumer at the stored position and returns the loop that drains it. */
  async #consume(): Promise<() => Promise<void>> {
    const { streams, stream, durableName: name, filter } = this.#o;
    const from = this.#o.position();
    const state = await streams.consumer(stream, name);
    if (!state || state.ackFloor !== from || state.ackPending > 0) {
      await streams.resetConsumer(stream, { name, filter, ackPolicy: 'all', ackWaitMs: 30_000, maxAckPending: 20_000, inactiveMs: 7 * 24 * 3600 * 1000 }, from);
    }
    // In order: a delivery lost in flight ends the read, and the next one starts from the stored position.
    const work = await streams.consume(stream, name, { max: 2048, inOrder: true });
    this.#close = () => work.close();
    if (this.#stopped) await this.#close();
    const lingerMs = this.#o.lingerMs ?? 0;
    return async () => {
      let buf: T[] = [];
      // Caught up soon after the last batch was written: the newest delivery read, applied (with
      // `buf`) once the linger is over or more come.
      let lingering: Delivery | null = null;
      let appliedAt = Number.NEGATIVE_INFINITY;
      const flush = async (d: Delivery): Promise<void> => {
        await this.#o.apply(buf, d.seq);
        d.ack();
        buf = [];
        lingering = null;
        appliedAt = performance.now();
        this.#release();
      };
      const it = work[Symbol.asyncIterator]();
      let next: Promise<IteratorResult<Delivery>> | null = null;
      try {
        while (!this.#stopped) {
          next ??= it.next();
          let r: IteratorResult<Delivery> | typeof LINGER_OVER;
          if (lingering) {
            const wait = appliedAt + lingerMs - performance.now();
            r = wait > 0 ? await raceTimer(next, wait) : LINGER_OVER;
            if (r === LINGER_OVER) {
              await flush(lingering);
              continue;
            }
          } else r = await next;
          next = null;
          if (r.done) break;
          const d = r.value;
          if (d.seq <= this.#o.position()) {
            d.ack();
            continue;
          }
          const item = this.#o.decode(d);
          if (item !== null) buf.push(item);
          lingering = null;
          if (buf.length >= this.#o.batchMax) await flush(d);
          else if (caughtUp(d, work)) {
            if (performance.now() - appliedAt >= lingerMs) await flush(d);
            else lingering = d;
          }
        }
      } finally {
        await work.close();
      }
    };
  }
}

/**
 * Applies `items` (each an event at a position) to every writer's model and writes the documents
 * and each model's new position `last` in one LevelDB batch; the writers advance only once it is
 * written.
 */
export async function applyToModels(
  store: ReadStore,
  writers: readonly ModelWriter[],
  items: Array<{ e: EventEnvelope; position: number }>,
  last: number,
): Promise<void> {
  const batch = new RawBatch(store.db);
  try {
    await prefetchModels(store.db, writers, items);
    for (const w of writers) {
      w.into(batch);
      for (const { e, position } of items) {
        const pending = w.apply(e, position);
        if (pending) await pending;
      }
    }
    for (const w of writers) w.settle();
    for (const w of writers) if (last > w.position) putJson(batch, store.meta, positionKey(w.projection.model, w.gen), last);
    await batch.write();
  } catch (err) {
    await batch.discard();
    throw err;
  } finally {
    for (const w of writers) w.flushed();
  }
  for (const w of writers) w.advance(last);
}

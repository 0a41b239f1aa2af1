import type { Level } from 'level';
import type { EventEnvelope } from '../domain/events.ts';
import type { Delivery, StoredMessage, Streams } from '../log/mod.ts';
import type { Logger } from '../logger.ts';
import { ModelWriter, positionKey, putJson, RawBatch } from '../store/batch.ts';
import type { Projection } from '../store/model.ts';
import { ReadStore } from '../store/store.ts';
import { MAX_WAIT_MS } from './projector.ts';

/** How a stream other than EVENTS feeds read models. */
export interface StreamProjectorOptions {
  stream: string;
  /** Subject filter of the durable consumer. */
  filter: string;
  /** One per LevelDB, like the main projector's. */
  durableName: string;
  logger: Logger;
  /** A stored message as the projections see it; null for a message that is none of theirs. */
  envelope(m: StoredMessage): EventEnvelope | null;
  /** Most messages applied in one LevelDB batch. @defaultValue 500 */
  batchMax?: number;
}

/**
 * Builds read models from a stream other than EVENTS (SCANS) exactly the way the main projector
 * builds the others: a durable consumer acked per batch, and every model's documents and position
 * written in one LevelDB batch, so a crash neither applies a message twice nor skips one. The
 * models live in the process's LevelDB beside the others, under their own names; their positions
 * are sequences of that stream, and `envelope` turns each message into an event-shaped record so
 * projections are written the usual way (`defineProjection`).
 */
export class StreamProjector {
  readonly store: ReadStore;
  readonly #streams: Streams;
  readonly #o: Required<StreamProjectorOptions>;
  readonly #writers: ModelWriter[] = [];
  #waiters: Array<{ position: number; resolve: (ok: boolean) => void }> = [];
  #stopped = false;
  #running: Promise<void> | null = null;
  #close: (() => Promise<void>) | null = null;
  #lastError: string | null = null;

  private constructor(store: ReadStore, streams: Streams, o: StreamProjectorOptions) {
    this.store = store;
    this.#streams = streams;
    this.#o = { batchMax: 500, ...o };
  }

  /** Opens the models' store in `db` and their stored positions. */
  static async open(db: Level<string, unknown>, streams: Streams, projections: readonly Projection[], o: StreamProjectorOptions): Promise<StreamProjector> {
    const store = await ReadStore.open(db, projections);
    const p = new StreamProjector(store, streams, o);
    for (const proj of projections) {
      const gen = store.activeGen(proj.model);
      const pos = ((await store.meta.get(positionKey(proj.model, gen))) as number | undefined) ?? 0;
      p.#writers.push(new ModelWriter(store, proj, gen, pos));
    }
    return p;
  }

  /** Stream sequence up to which every model is applied. */
  get position(): number {
    const min = this.#writers.reduce((m, w) => Math.min(m, w.position), Number.POSITIVE_INFINITY);
    return Number.isFinite(min) ? min : 0;
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
          if (this.#stopped || !this.#streams.connected) break;
          this.#lastError = (err as Error).message;
          this.#o.logger.error({ err, position: this.position, stream: this.#o.stream }, 'stream projector failed; restarting from its stored position');
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

  /** Resolves true once every model reflects stream sequence `position`, false after `timeoutMs`. */
  waitFor(position: number, timeoutMs: number): Promise<boolean> {
    if (this.position >= position) return Promise.resolve(true);
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

  async #apply(batch: Array<{ e: EventEnvelope; position: number }>, last: number): Promise<void> {
    const raw = new RawBatch(this.store.db);
    try {
      for (const w of this.#writers) {
        w.into(raw);
        await w.prefetch(batch);
        for (const { e, position } of batch) {
          const pending = w.apply(e, position);
          if (pending) await pending;
        }
      }
      for (const w of this.#writers) if (last > w.position) putJson(raw, this.store.meta, positionKey(w.projection.model, w.gen), last);
      await raw.write();
    } catch (err) {
      await raw.discard();
      throw err;
    } finally {
      for (const w of this.#writers) w.flushed();
    }
    for (const w of this.#writers) w.advance(last);
    const pos = this.position;
    const ready = this.#waiters.filter((w) => w.position <= pos);
    if (ready.length) {
      this.#waiters = this.#waiters.filter((w) => w.position > pos);
      for (const w of ready) w.resolve(true);
    }
  }

  /** Points the durable consumer at the stored position and returns the loop that drains it. */
  async #consume(): Promise<() => Promise<void>> {
    const { stream, durableName: name, filter } = this.#o;
    const from = this.position;
    const state = await this.#streams.consumer(stream, name);
    if (!state || state.ackFloor !== from || state.ackPending > 0) {
      await this.#streams.resetConsumer(
        stream,
        { name, filter, ackPolicy: 'all', ackWaitMs: 30_000, maxAckPending: 20_000, inactiveMs: 7 * 24 * 3600 * 1000 },
        from,
      );
    }
    const work = await this.#streams.consume(stream, name, { max: 2048, inOrder: true });
    this.#close = () => work.close();
    if (this.#stopped) await this.#close();
    return async () => {
      let buf: Array<{ e: EventEnvelope; position: number }> = [];
      let last: Delivery | null = null;
      try {
        for await (const d of work) {
          if (d.seq <= this.position) {
            d.ack();
            continue;
          }
          const e = this.#o.envelope(d);
          if (e) buf.push({ e, position: d.seq });
          last = d;
          if (buf.length >= this.#o.batchMax || d.info.pending === 0) {
            await this.#apply(buf, d.seq);
            last.ack();
            buf = [];
          }
          if (this.#stopped) break;
        }
      } finally {
        await work.close();
      }
    };
  }
}

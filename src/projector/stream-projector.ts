import type { Level } from 'level';
import type { EventEnvelope } from '../domain/events.ts';
import type { StoredMessage, Streams } from '../log/mod.ts';
import type { Logger } from '../logger.ts';
import { ModelWriter, positionKey } from '../store/batch.ts';
import type { Projection } from '../store/model.ts';
import { ReadStore } from '../store/store.ts';
import { applyToModels, ModelFeed } from './feed.ts';

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
  readonly #writers: ModelWriter[] = [];
  readonly #feed: ModelFeed<{ e: EventEnvelope; position: number }>;

  private constructor(store: ReadStore, streams: Streams, o: StreamProjectorOptions) {
    this.store = store;
    this.#feed = new ModelFeed({
      streams,
      stream: o.stream,
      filter: o.filter,
      durableName: o.durableName,
      batchMax: o.batchMax ?? 500,
      logger: o.logger,
      label: 'stream projector',
      position: () => this.position,
      decode: (d) => {
        const e = o.envelope(d);
        return e ? { e, position: d.seq } : null;
      },
      apply: (items, last) => applyToModels(this.store, this.#writers, items, last),
    });
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
    return this.#feed.lastError;
  }

  /** Starts consuming in the background; returns once the consumer is in place. */
  start(): Promise<void> {
    return this.#feed.start();
  }

  stop(): Promise<void> {
    return this.#feed.stop();
  }

  /** Resolves true once every model reflects stream sequence `position`, false after `timeoutMs`. */
  waitFor(position: number, timeoutMs: number): Promise<boolean> {
    return this.#feed.waitFor(position, timeoutMs);
  }
}

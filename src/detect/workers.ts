/**
 * The detector split across processes, like the sealer: a worker leases partitions
 * (`src/partitions/leases.ts`, bucket `stk-leases-detector`) and runs one PartitionWorker per
 * partition it holds. A worker that dies has its partitions lapse to the others, whose new
 * PartitionWorker resumes from the partition's checkpoint and consumers.
 *
 * EVENTS reach every PartitionWorker of a process through **one** durable consumer of the whole
 * stream (`stk-detector-ev-w-<workerId>`, no filter: on nats-server 2.9 sixteen filtered consumers
 * would each evaluate every record), dispatched by the partition token of each subject. A
 * partition's place in EVENTS is its checkpoint (`ck.<p>`); the consumer starts at the lowest place
 * of the partitions held, and goes back when a partition is taken over behind it (records a worker
 * has handled already are skipped by it). TELEMETRY keeps one consumer per partition.
 */
import { EventEmitter } from 'node:events';
import { newId } from '../ids.ts';
import {
  type Bucket,
  caughtUp as isCaughtUp,
  type Consumption,
  EVENT_PARTITIONS,
  EVENTS_STREAM,
  type EventLog,
  type Streams,
  type WorkItem,
} from '../log/mod.ts';
import type { Logger } from '../logger.ts';
import type { TransportOptions } from '../notify/deliver.ts';
import type { RetryPolicy } from '../notify/retry.ts';
import type { SecretBox } from '../notify/secrets.ts';
import { PartitionLeases } from '../partitions/leases.ts';
import { ensureTelemetryStream } from '../telemetry/ensure.ts';
import { AlertWriter, DETECTOR_BUCKET } from './alert-writer.ts';
import { type DetectorCounters, PartitionWorker } from './partition.ts';
import type { Rule } from './types.ts';
import { LazyAcks } from '../log/lazy-ack.ts';

export interface DetectorOptions {
  log: EventLog;
  streams: Streams;
  /** The rules every tenant starts from (the built-in pack). */
  pack: readonly Rule[];
  box: SecretBox;
  transport: TransportOptions;
  retryPolicy?: RetryPolicy;
  logger: Logger;
  /** @defaultValue Date.now */
  clock?: () => number;
  /** @defaultValue 10 minutes */
  silenceMs?: number;
  /** Ticks on a timer every tickMs; 0: the owner calls `tick()`. @defaultValue 1000 */
  tickMs?: number;
  /** @defaultValue 5000 */
  checkpointMs?: number;
  /** Checkpoint text a partition writes per second on average, at most. @defaultValue CHECKPOINT_CHARS_PER_S */
  checkpointCharsPerS?: number;
  replicas?: number;
  /** @defaultValue a new random id */
  workerId?: string;
  /** @defaultValue EVENT_PARTITIONS */
  partitions?: number;
  /** @defaultValue 5000 */
  leaseMs?: number;
  telemetryBatch?: number;
}

/** How long the EVENTS consumer's newest handled delivery may wait for its ack while caught up (`LazyAcks`). */
export const DETECTOR_ACK_MS = 1000;

/** Default silence after which an agent is reported silent. */
export const DEFAULT_SILENCE_MS = 10 * 60_000;

/** The one EVENTS consumer of detector worker `workerId`. */
export const detectorEventsConsumerName = (workerId: string): string => `stk-detector-ev-w-${workerId}`;

/** See the module comment. */
export class Detector extends EventEmitter<{ partitions: [number[]] }> {
  readonly #o: DetectorOptions;
  readonly #workerId: string;
  readonly #workers = new Map<number, PartitionWorker>();
  readonly #leases: PartitionLeases;
  /** The EVENTS consumer's run and the last record handed to the workers. */
  #feed: Consumption<WorkItem> | null = null;
  #loop: Promise<void> | null = null;
  #taken = 0;
  /** The consumer's acks: a measure of progress only (each partition's place is its checkpoint). */
  readonly #acks = new LazyAcks(DETECTOR_ACK_MS);
  #kv: Bucket | null = null;
  #writer: AlertWriter | null = null;
  #changing: Promise<void> = Promise.resolve();
  #closed = false;
  #reconcile: NodeJS.Timeout | null = null;

  private constructor(o: DetectorOptions) {
    super();
    this.#o = o;
    this.#workerId = o.workerId ?? newId();
    this.#leases = new PartitionLeases(o.streams, {
      bucket: 'stk-leases-detector',
      workerId: this.#workerId,
      partitions: o.partitions ?? EVENT_PARTITIONS,
      leaseMs: o.leaseMs ?? 5000,
      replicas: o.replicas ?? 1,
      logger: o.logger,
      onChange: (owned) => this.#apply(owned),
    });
  }

  /** Joins the detector group: leases partitions and starts a worker for each. */
  static async start(o: DetectorOptions): Promise<Detector> {
    const d = new Detector(o);
    // The ingress creates TELEMETRY too; the detector may start first.
    // Created if missing, never updated: its retention is the configuration's, set by serve and the ingress.
    await ensureTelemetryStream(o.streams, { replicas: o.replicas ?? 1 }, o.logger, { createOnly: true });
    d.#kv = await o.streams.bucket(DETECTOR_BUCKET, { history: 1, replicas: o.replicas ?? 1 });
    d.#writer = new AlertWriter(o.log, d.#kv);
    await d.#leases.start();
    await d.#changing;
    // A partition whose worker failed (NATS trouble, a loop that stopped) is started again here.
    d.#reconcile = setInterval(() => void d.#apply(d.#leases.owned), o.leaseMs ?? 5000);
    d.#reconcile.unref();
    return d;
  }

  /** Partitions this process detects on now. */
  get partitions(): number[] {
    return [...this.#workers.keys()].sort((a, b) => a - b);
  }

  /** The worker of partition p, if this process holds it. */
  worker(p: number): PartitionWorker | undefined {
    return this.#workers.get(p);
  }

  /** Ticks every worker at `nowMs` (the clock's by default). */
  async tick(nowMs?: number): Promise<void> {
    await Promise.all([...this.#workers.values()].map((w) => w.tick(nowMs)));
  }

  /** Sums of every worker's counters. */
  get counters(): DetectorCounters & { delivered: number; deadLettered: number; attempts: number } {
    const c = { items: 0, matches: 0, raised: 0, counted: 0, records: 0, delivered: 0, deadLettered: 0, attempts: 0 };
    for (const w of this.#workers.values()) {
      for (const k of ['items', 'matches', 'raised', 'counted', 'records'] as const) c[k] += w.counters[k];
      c.delivered += w.outbox.counters.delivered;
      c.deadLettered += w.outbox.counters.deadLettered;
      c.attempts += w.outbox.counters.attempts;
    }
    return c;
  }

  /** Partitions whose worker stopped on an error (restarted on the next lease round). */
  get failed(): number[] {
    return [...this.#workers].filter(([, w]) => w.failure !== null).map(([p]) => p);
  }

  /** Stops every worker and writes their checkpoints, then releases every lease (others take over at once). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#reconcile) clearInterval(this.#reconcile);
    await this.#changing;
    await this.#stopFeed();
    // Checkpoints first, leases after: no one takes a partition over before its checkpoint is written.
    await Promise.all([...this.#workers.values()].map((w) => w.stop()));
    this.#workers.clear();
    await this.#leases.stop();
  }

  /** Stops without releasing leases or writing checkpoints: what a killed process leaves (tests). */
  async halt(): Promise<void> {
    this.#closed = true;
    if (this.#reconcile) clearInterval(this.#reconcile);
    this.#leases.pause();
    await this.#changing;
    await this.#stopFeed();
    await Promise.all([...this.#workers.values()].map((w) => w.halt()));
    this.#workers.clear();
  }

  #apply(owned: ReadonlySet<number>): Promise<void> {
    this.#changing = this.#changing
      .then(async () => {
        let changed = false;
        for (const [p, w] of [...this.#workers]) {
          if (owned.has(p) && w.failure === null) continue;
          changed = true;
          this.#workers.delete(p);
          // Halted, never checkpointed: a worker that failed may have half-applied a record, and a
          // partition that moved away may already be checkpointed by its new owner. Either way the
          // next worker reads again from the last checkpoint, which writes nothing twice.
          await w.halt();
        }
        let from = Number.POSITIVE_INFINITY;
        for (const p of owned) {
          if (this.#workers.has(p) || this.#closed) continue;
          changed = true;
          const w = await PartitionWorker.start({
            partition: p,
            log: this.#o.log,
            streams: this.#o.streams,
            kv: this.#kv!,
            pack: this.#o.pack,
            writer: this.#writer!,
            box: this.#o.box,
            transport: this.#o.transport,
            ...(this.#o.retryPolicy ? { retryPolicy: this.#o.retryPolicy } : {}),
            clock: this.#o.clock ?? Date.now,
            silenceMs: this.#o.silenceMs ?? DEFAULT_SILENCE_MS,
            tickMs: this.#o.tickMs ?? 1000,
            checkpointMs: this.#o.checkpointMs ?? 5000,
            ...(this.#o.checkpointCharsPerS !== undefined ? { checkpointCharsPerS: this.#o.checkpointCharsPerS } : {}),
            ...(this.#o.telemetryBatch ? { telemetryBatch: this.#o.telemetryBatch } : {}),
            sharedEvents: true,
            logger: this.#o.logger,
          });
          this.#workers.set(p, w);
          from = Math.min(from, w.positions.events);
        }
        if (!this.#closed && this.#workers.size > 0) {
          // First start, a consumer lost, or a partition taken over behind the consumer's place.
          if (!this.#loop) await this.#restartFeed(Math.min(...[...this.#workers.values()].map((w) => w.positions.events)));
          else if (from < this.#taken) await this.#restartFeed(from);
        }
        if (!changed) return;
        this.#o.logger.info({ partitions: this.partitions }, 'detector partitions');
        this.emit('partitions', this.partitions);
      })
      .catch((err: unknown) => {
        this.#o.logger.error({ err }, 'cannot apply detector partition change; the next lease round retries');
      });
    return this.#changing;
  }

  /** (Re)creates this process's EVENTS consumer just after `after` and hands its records to the workers. */
  async #restartFeed(after: number): Promise<void> {
    await this.#stopFeed();
    const name = detectorEventsConsumerName(this.#workerId);
    await this.#o.streams.resetConsumer(
      EVENTS_STREAM,
      // Acked only as a measure of progress: where to start is each partition's checkpoint.
      { name, ackPolicy: 'all', ackWaitMs: 60_000, maxAckPending: 20_000, inactiveMs: 86_400_000 },
      after,
    );
    this.#taken = after;
    // Nothing to read: the workers are at the stream's end already (silence can be decided).
    if (((await this.#o.streams.consumer(EVENTS_STREAM, name))?.pending ?? 0) === 0) {
      await Promise.all([...this.#workers.values()].map((w) => w.advanceTo(after, true)));
    }
    const feed = await this.#o.log.work(name, { max: 1024, inOrder: true });
    this.#feed = feed;
    this.#loop = this.#run(feed);
  }

  async #stopFeed(): Promise<void> {
    this.#acks.flush();
    await this.#feed?.close();
    await this.#loop;
    this.#feed = null;
    this.#loop = null;
  }

  async #run(feed: Consumption<WorkItem>): Promise<void> {
    let unacked = 0;
    try {
      for await (const { delivery, record } of feed) {
        const caughtUp = isCaughtUp(delivery, feed);
        // ev.<p>.…: the partition is the second token.
        const p = Number(record.subject.slice(3, record.subject.indexOf('.', 3)));
        const w = this.#workers.get(p);
        if (w && w.failure === null) {
          try {
            await w.takeEvent(record, caughtUp);
          } catch (err) {
            // Halted and started again from its checkpoint by the next lease round.
            w.failure ??= err;
            this.#o.logger.error({ err, partition: p, position: record.position }, 'detector worker failed on a record; it is restarted');
          }
        }
        this.#taken = record.position;
        if (caughtUp || ++unacked >= 256) {
          // Every worker has handled the stream up to here: its place (and next checkpoint) moves on.
          await Promise.all([...this.#workers.values()].map((x) => (x.failure === null ? x.advanceTo(this.#taken, caughtUp) : undefined)));
          // Caught up with a trickle, a record at a time: acked once a second, not once a record.
          this.#acks.handled(delivery, unacked >= 256);
          unacked = 0;
        }
        if (this.#closed) return;
      }
    } catch (err) {
      if (this.#closed) return;
      this.#o.logger.error({ err }, 'detector EVENTS consumer failed; the next lease round starts it again');
      this.#loop = null;
    }
  }
}

import { EventEmitter } from 'node:events';
import { newId } from '../ids.ts';
import { type Bucket, type Consumption, type Delivery, EVENT_PARTITIONS, EVENTS_STREAM, partitionFilter, type Streams } from '../log/mod.ts';
import type { Logger } from '../logger.ts';
import { PartitionLeases } from '../partitions/leases.ts';
import type { LedgerConfig } from '../config/mod.ts';
import type { Keyring } from './keys.ts';
import { Sealer, takeThrough, type ChainStatus } from './sealer.ts';
import { LedgerTrees } from './trees.ts';
import { WitnessPusher } from './witnesses.ts';

/**
 * The consumer named after partition `p`: a worker's one consumer is named after the lowest
 * partition it holds, so every sealer consumer has one of sixteen fixed names, which the NATS
 * permissions of separate-sealer mode keep from the application user (infra/nats/ledger-auth.conf).
 * (Before one consumer per worker, each partition had its own under that name, filtered.)
 */
export const sealerConsumerName = (p: number): string => `stk-sealer-p${p}`;
/** What a sealer worker writes into its consumer's description: the worker's id, then a mark of this run. */
export const SEALER_WORKER_MARK = 'stk-sealer-worker';
/** KV bucket of the sealer workers: `floor.p<p>`, the sequence below which partition p is sealed. */
export const SEALER_BUCKET = 'stk-sealer';
/** The lease bucket of the sealer workers (`w.<workerId>` says a worker is alive). */
export const SEALER_LEASES_BUCKET = 'stk-leases-sealer';

export interface SealerGroupOptions {
  /** The door to JetStream the sealers publish through. */
  streams: Streams;
  keyring: Keyring;
  logger: Logger;
  ledger: LedgerConfig;
  replicas?: number;
  /** @defaultValue a new random id */
  workerId?: string;
  /** @defaultValue EVENT_PARTITIONS */
  partitions?: number;
  /** @defaultValue 5000 */
  leaseMs?: number;
  /** Passed to every partition's sealer. */
  onSealed?: (lagSeconds: number) => void;
}

/**
 * Sealing split across processes: this worker leases partitions (`src/partitions/leases.ts`) and
 * runs one Sealer per partition it holds — all fed by **one** durable consumer of the whole
 * stream (no filter, named after the lowest partition held: `stk-sealer-p<lowest>`), dispatched by
 * the partition token of each subject.
 * On nats-server 2.9 every filtered consumer evaluates every message, so sixteen per-partition
 * consumers cost the server sixteen evaluations per record; this costs one delivery
 * (`npm run bench -- consumers`).
 *
 * Positions: the consumer is acked (ack-all) up to the lowest floor of the partitions held, and
 * each partition's floor — the sequence below which every record of it is in a stored block — is
 * written to KV (`floor.p<p>` in `stk-sealer`) every second and on close. A worker that takes a
 * partition over starts it at that floor: if its consumer is already past it, the consumer is
 * recreated there, and records the other partitions already sealed are skipped (a chain never
 * seals a sequence twice). A floor is written only once sealed, so a stale one costs a re-read,
 * never a gap. Two workers briefly believing they own one partition cannot fork a chain: every
 * block is appended with the expected last subject sequence, and a sealer extends only a head
 * signed by its own keyring (so every sealer process must hold the same keyring).
 */
export class SealerGroup extends EventEmitter<{ partitions: [number[]] }> {
  readonly #o: SealerGroupOptions;
  readonly #workerId: string;
  readonly #sealers = new Map<number, Sealer>();
  readonly #leases: PartitionLeases;
  /** One pusher for every partition: it remembers each witness's size per tenant. */
  readonly #witnesses: WitnessPusher | null;
  readonly #trees: LedgerTrees | null;
  readonly #log: Logger;
  #kv: Bucket | null = null;
  #changing: Promise<void> = Promise.resolve();
  #closed = false;
  #reconcile: NodeJS.Timeout | null = null;
  #floorTimer: NodeJS.Timeout | null = null;
  /** The consumer's run: its deliveries, the loop taking them, and where it was (re)started. */
  #feed: Consumption<Delivery> | null = null;
  #feedName: string | null = null;
  #loop: Promise<void> | null = null;
  /** Sequence of the last record handed to the sealers (or skipped): every record up to it is taken. */
  #taken = 0;
  /** Taken deliveries not yet acked, in order; acking the last one at or below the floor acks all before it. */
  readonly #unacked: Delivery[] = [];
  /** Floors last written to KV, by partition. */
  readonly #written = new Map<number, number>();
  readonly #consumerMark: string;
  #superseded = false;

  private constructor(o: SealerGroupOptions) {
    super();
    this.#o = o;
    this.#trees = o.ledger.witnessUrls.length ? new LedgerTrees({ streams: o.streams, dir: o.ledger.treesDir }) : null;
    this.#witnesses = this.#trees ? new WitnessPusher({ urls: o.ledger.witnessUrls, trees: this.#trees, logger: o.logger }) : null;
    this.#workerId = o.workerId ?? newId();
    this.#consumerMark = `${SEALER_WORKER_MARK} ${this.#workerId} ${newId()}`;
    this.#log = o.logger.child({ component: 'sealer-group' });
    this.#leases = new PartitionLeases(o.streams, {
      bucket: SEALER_LEASES_BUCKET,
      workerId: this.#workerId,
      partitions: o.partitions ?? EVENT_PARTITIONS,
      leaseMs: o.leaseMs ?? 5000,
      replicas: o.replicas ?? 1,
      logger: o.logger,
      onChange: (owned) => this.#apply(owned),
    });
  }

  static async start(o: SealerGroupOptions): Promise<SealerGroup> {
    const g = new SealerGroup(o);
    g.#kv = await o.streams.bucket(SEALER_BUCKET, { history: 1, replicas: o.replicas ?? 1 });
    await g.#leases.start();
    await g.#changing;
    // A partition whose sealer failed to start (NATS trouble) is started again here: lease
    // changes alone would never retry it while the lease stays ours.
    g.#reconcile = setInterval(() => void g.#apply(g.#leases.owned), o.leaseMs ?? 5000);
    g.#reconcile.unref();
    g.#floorTimer = setInterval(() => {
      g.#advance();
      void g.#writeFloors().catch((err: unknown) => g.#log.warn({ err }, 'cannot write the sealed floors; retrying'));
    }, 1000);
    g.#floorTimer.unref();
    return g;
  }

  /** Partitions this worker seals now. */
  get partitions(): number[] {
    return [...this.#sealers.keys()].sort((a, b) => a - b);
  }

  get keyId(): string {
    return this.#o.keyring.keyId;
  }

  /** True once another process took this worker's consumer over (a second process with the same worker id). */
  get superseded(): boolean {
    return this.#superseded;
  }

  lag(): { events: number; seconds: number } {
    let events = 0;
    let seconds = 0;
    for (const s of this.#sealers.values()) {
      const l = s.lag();
      events += l.events;
      seconds = Math.max(seconds, l.seconds);
    }
    return { events, seconds };
  }

  /** Records not yet delivered to this worker (of every partition: its consumer reads the whole stream). */
  async backlog(): Promise<number> {
    if (!this.#feedName) return 0;
    return (await this.#o.streams.consumer(EVENTS_STREAM, this.#feedName))?.pending ?? 0;
  }

  get counters(): { entries: number; blocks: number } {
    let entries = 0;
    let blocks = 0;
    for (const s of this.#sealers.values()) {
      entries += s.counters.entries;
      blocks += s.counters.blocks;
    }
    return { entries, blocks };
  }

  /** The oldest write failure of this worker's sealers, if any is failing now. */
  get writeFailure(): { sinceMs: number; message: string } | null {
    let worst: { sinceMs: number; message: string } | null = null;
    for (const s of this.#sealers.values()) {
      const f = s.writeFailure;
      if (f && (!worst || f.sinceMs < worst.sinceMs)) worst = f;
    }
    return worst;
  }

  chains(): ChainStatus[] {
    return [...this.#sealers.values()].flatMap((s) => s.chains());
  }

  /**
   * Resolves once every record with sequence ≤ seq of the partitions held now is sealed. A
   * partition's sealer sees only its own records, so it cannot know on its own that none of
   * them lies between its last record and `seq`: the partition's last record tells.
   */
  async waitSealed(seq: number): Promise<void> {
    await Promise.all(
      [...this.#sealers].map(async ([p, s]) => {
        const last = await this.#o.streams.last(EVENTS_STREAM, partitionFilter(p));
        if (last) await s.waitSealed(Math.min(seq, last.seq));
      }),
    );
  }

  /** Writes the floors, releases every lease (others take over at once) and stops every sealer. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#stopTimers();
    await this.#leases.stop();
    await this.#changing;
    await this.#stopFeed();
    await Promise.all([...this.#sealers.values()].map((s) => s.close()));
    await this.#writeFloors().catch((err: unknown) => this.#log.warn({ err }, 'cannot write the sealed floors on close'));
    await this.#dropOwn(this.#feedName).catch(() => {});
    this.#sealers.clear();
    this.#trees?.close();
  }

  /**
   * Stops sealing and renewing without releasing or writing anything: what a killed or frozen
   * process looks like to the others, who take its partitions over when the leases lapse.
   */
  async halt(): Promise<void> {
    this.#closed = true;
    this.#stopTimers();
    this.#leases.pause();
    await this.#changing;
    await this.#stopFeed();
    await Promise.all([...this.#sealers.values()].map((s) => s.close()));
    this.#sealers.clear();
  }

  #stopTimers(): void {
    if (this.#reconcile) clearInterval(this.#reconcile);
    if (this.#floorTimer) clearInterval(this.#floorTimer);
  }

  #apply(owned: ReadonlySet<number>): Promise<void> {
    // Changes are applied one at a time, in the order the leases changed.
    this.#changing = this.#changing
      .then(async () => {
        let changed = false;
        for (const [p, s] of [...this.#sealers]) {
          if (owned.has(p)) continue;
          changed = true;
          this.#sealers.delete(p);
          await s.close();
        }
        let from = Number.POSITIVE_INFINITY;
        for (const p of owned) {
          if (this.#sealers.has(p) || this.#closed) continue;
          changed = true;
          const floor = await this.#floorOf(p);
          const sealer = await Sealer.start({
            ...this.#o.ledger,
            streams: this.#o.streams,
            keyring: this.#o.keyring,
            logger: this.#o.logger.child({ partition: p }),
            replicas: this.#o.replicas ?? 1,
            consumerName: sealerConsumerName(p),
            filter: partitionFilter(p),
            witnesses: this.#witnesses,
            shared: true,
            onFloor: () => this.#advance(),
            ...(this.#o.onSealed ? { onSealed: this.#o.onSealed } : {}),
          });
          this.#sealers.set(p, sealer);
          this.#written.set(p, floor);
          from = Math.min(from, floor);
        }
        if (!this.#closed && this.#sealers.size > 0) {
          if (!this.#loop) {
            // First start (or a consumer lost for good): from the lowest floor of the partitions held.
            await this.#restartFeed(Math.min(...[...this.#sealers.keys()].map((p) => this.#written.get(p) ?? 0)));
          } else if (from < this.#taken || this.#feedName !== this.#nameNow()) {
            // A partition taken over behind the consumer's place: read again from its floor. Or the
            // lowest partition held changed: the consumer takes that one's name.
            await this.#restartFeed(Math.min(from, this.#floor()));
          }
        } else if (this.#sealers.size === 0 && this.#loop) {
          await this.#stopFeed();
          await this.#dropOwn(this.#feedName);
          this.#feedName = null;
        }
        if (!changed) return;
        this.#log.info({ partitions: this.partitions }, 'sealer partitions');
        this.emit('partitions', this.partitions);
      })
      .catch((err: unknown) => {
        this.#o.logger.error({ err }, 'cannot apply sealer partition change; the next lease round retries');
      });
    return this.#changing;
  }

  /**
   * Where partition p's sealing stands: its floor in KV; for an install that sealed with one
   * consumer per partition, that consumer's ack floor (then the consumer is deleted: left alone it
   * would count as a growing backlog); else the start of the stream.
   */
  async #floorOf(p: number): Promise<number> {
    const entry = await this.#kv!.get(`floor.p${p}`);
    if (entry && entry.operation === 'PUT') {
      const n = Number(entry.string());
      if (Number.isInteger(n) && n >= 0) return n;
    }
    const found = await this.#o.streams.consumer(EVENTS_STREAM, sealerConsumerName(p));
    // Another worker's one consumer may carry this name (p was its lowest partition): not a place of p's.
    const old = found && !found.description.startsWith(SEALER_WORKER_MARK) ? found : null;
    const floor = old?.ackFloor ?? 0;
    await this.#kv!.put(`floor.p${p}`, String(floor));
    if (old) await this.#o.streams.deleteConsumer(EVENTS_STREAM, sealerConsumerName(p));
    return floor;
  }

  /** The name this worker's consumer has now: after its lowest partition. */
  #nameNow(): string {
    return sealerConsumerName(Math.min(...this.#sealers.keys()));
  }

  /** Deletes consumer `name` if it is this worker's (another may have taken the name over meanwhile). */
  async #dropOwn(name: string | null): Promise<void> {
    if (!name) return;
    const c = await this.#o.streams.consumer(EVENTS_STREAM, name);
    if (c?.description === this.#consumerMark) await this.#o.streams.deleteConsumer(EVENTS_STREAM, name);
  }

  /** The lowest sealed floor of the partitions held: the consumer is acked up to it. */
  #floor(): number {
    let floor = this.#taken;
    for (const s of this.#sealers.values()) floor = Math.min(floor, s.sealedBelow(this.#taken));
    return floor;
  }

  #advance(): void {
    // Acking a record acks every record before it: one ack per floor advance.
    takeThrough(this.#unacked, this.#floor())?.ack();
  }

  async #writeFloors(): Promise<void> {
    const kv = this.#kv;
    if (!kv) return;
    for (const [p, s] of [...this.#sealers]) {
      const floor = s.sealedBelow(this.#taken);
      // Never backwards: a partition taken over starts at the floor read, the consumer may not be there yet.
      if (floor <= (this.#written.get(p) ?? 0)) continue;
      await kv.put(`floor.p${p}`, String(floor));
      this.#written.set(p, floor);
    }
  }

  /** (Re)creates this worker's consumer just after `after` and takes its deliveries from there. */
  async #restartFeed(after: number): Promise<void> {
    await this.#stopFeed();
    const name = this.#nameNow();
    if (this.#feedName !== name) await this.#dropOwn(this.#feedName);
    this.#feedName = name;
    await this.#o.streams.resetConsumer(
      EVENTS_STREAM,
      {
        name,
        description: this.#consumerMark,
        // Acking a record acks every record before it: one ack per floor advance.
        ackPolicy: 'all',
        ackWaitMs: 300_000,
        maxAckPending: 100_000,
        // A worker gone for good leaves no consumer behind for long.
        inactiveMs: 3_600_000,
      },
      after,
    );
    this.#taken = after;
    this.#unacked.length = 0;
    const feed = await this.#o.streams.consume(EVENTS_STREAM, name, { max: 4096, inOrder: true });
    this.#feed = feed;
    this.#loop = this.#run(feed);
  }

  async #stopFeed(): Promise<void> {
    await this.#feed?.close();
    await this.#loop;
    this.#feed = null;
    this.#loop = null;
  }

  async #run(feed: Consumption<Delivery>): Promise<void> {
    try {
      // A delivery that went missing (reconnect, server restart) or came back late ends the read
      // (below): it reads again from what is sealed rather than hand records out of order.
      for await (const m of feed) {
        this.#unacked.push(m);
        // ev.<p>.…: the partition is the second token.
        const p = Number(m.subject.slice(3, m.subject.indexOf('.', 3)));
        const sealer = this.#sealers.get(p);
        if (sealer) {
          const pending = sealer.take(m);
          if (pending) await pending;
        }
        this.#taken = m.seq;
        if (this.#closed) return;
      }
    } catch (err) {
      if (this.#closed) return;
      this.#log.error({ err }, 'sealer consumer failed; resuming from the sealed floor');
      void this.#resume();
    }
  }

  /** Reads again from the lowest sealed floor, unless another process took the consumer over. */
  #resume(): Promise<void> {
    this.#changing = this.#changing
      .then(async () => {
        if (this.#closed) return;
        const now = this.#feedName ? await this.#o.streams.consumer(EVENTS_STREAM, this.#feedName).catch(() => null) : null;
        if (now && now.description !== this.#consumerMark && now.description.startsWith(`${SEALER_WORKER_MARK} ${this.#workerId} `)) {
          this.#log.warn({ workerId: this.#workerId }, 'another sealer process runs with this worker id; this one stops sealing');
          this.#superseded = true;
          return;
        }
        // Another worker holds the partition this consumer was named after: go on under our own lowest.
        if (now && now.description !== this.#consumerMark) this.#feedName = null;
        await new Promise((r) => setTimeout(r, 500));
        await this.#restartFeed(this.#floor());
      })
      .catch((err: unknown) => {
        this.#log.error({ err }, 'cannot resume the sealer consumer; the next lease round retries');
        this.#loop = null;
      });
    return this.#changing;
  }
}

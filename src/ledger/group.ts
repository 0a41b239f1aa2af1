import { EventEmitter } from 'node:events';
import { newId } from '../ids.ts';
import { EVENT_PARTITIONS, EVENTS_STREAM, partitionFilter, type Streams } from '../log/mod.ts';
import type { Logger } from '../logger.ts';
import { PartitionLeases } from '../partitions/leases.ts';
import type { LedgerConfig } from '../config/mod.ts';
import type { Keyring } from './keys.ts';
import { Sealer, type ChainStatus } from './sealer.ts';
import { LedgerTrees } from './trees.ts';
import { WitnessPusher } from './witnesses.ts';

/** The sealer consumer of partition `p`. Every worker that ever owns `p` continues this one. */
export const sealerConsumerName = (p: number): string => `stk-sealer-p${p}`;

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
 * runs one Sealer per partition it holds, on that partition's durable consumer. When a worker
 * dies its partitions lapse to the others, whose new Sealer resumes from what LEDGER says is
 * sealed. Two workers briefly believing they own one partition cannot fork a chain: every block
 * is appended with the expected last subject sequence, and a sealer extends only a head signed by
 * its own keyring (so every sealer process must hold the same keyring).
 */
export class SealerGroup extends EventEmitter<{ partitions: [number[]] }> {
  readonly #o: SealerGroupOptions;
  readonly #sealers = new Map<number, Sealer>();
  readonly #leases: PartitionLeases;
  /** One pusher for every partition: it remembers each witness's size per tenant. */
  readonly #witnesses: WitnessPusher | null;
  readonly #trees: LedgerTrees | null;
  #changing: Promise<void> = Promise.resolve();
  #closed = false;
  #reconcile: NodeJS.Timeout | null = null;

  private constructor(o: SealerGroupOptions) {
    super();
    this.#o = o;
    this.#trees = o.ledger.witnessUrls.length ? new LedgerTrees({ streams: o.streams, dir: o.ledger.treesDir }) : null;
    this.#witnesses = this.#trees ? new WitnessPusher({ urls: o.ledger.witnessUrls, trees: this.#trees, logger: o.logger }) : null;
    this.#leases = new PartitionLeases(o.streams, {
      bucket: 'stk-leases-sealer',
      workerId: o.workerId ?? newId(),
      partitions: o.partitions ?? EVENT_PARTITIONS,
      leaseMs: o.leaseMs ?? 5000,
      replicas: o.replicas ?? 1,
      logger: o.logger,
      onChange: (owned) => this.#apply(owned),
    });
  }

  static async start(o: SealerGroupOptions): Promise<SealerGroup> {
    const g = new SealerGroup(o);
    await g.#leases.start();
    await g.#changing;
    // A partition whose sealer failed to start (NATS trouble) is started again here: lease
    // changes alone would never retry it while the lease stays ours.
    g.#reconcile = setInterval(() => void g.#apply(g.#leases.owned), o.leaseMs ?? 5000);
    g.#reconcile.unref();
    return g;
  }

  /** Partitions this worker seals now. */
  get partitions(): number[] {
    return [...this.#sealers.keys()].sort((a, b) => a - b);
  }

  get keyId(): string {
    return this.#o.keyring.keyId;
  }

  /** A group is never superseded as a whole: a partition that moved away is closed here. */
  get superseded(): boolean {
    return false;
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

  async backlog(): Promise<number> {
    const all = await Promise.all([...this.#sealers.values()].map((s) => s.backlog().catch(() => 0)));
    return all.reduce((a, b) => a + b, 0);
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

  /** Releases every lease (others take over at once) and stops every sealer. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#reconcile) clearInterval(this.#reconcile);
    await this.#leases.stop();
    await this.#changing;
    await Promise.all([...this.#sealers.values()].map((s) => s.close()));
    this.#sealers.clear();
    this.#trees?.close();
  }

  /**
   * Stops sealing and renewing without releasing anything: what a killed or frozen process looks
   * like to the others, who take its partitions over when the leases lapse.
   */
  async halt(): Promise<void> {
    this.#closed = true;
    if (this.#reconcile) clearInterval(this.#reconcile);
    this.#leases.pause();
    await this.#changing;
    await Promise.all([...this.#sealers.values()].map((s) => s.close()));
    this.#sealers.clear();
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
        for (const p of owned) {
          if (this.#sealers.has(p) || this.#closed) continue;
          changed = true;
          const sealer = await Sealer.start({
            ...this.#o.ledger,
            streams: this.#o.streams,
            keyring: this.#o.keyring,
            logger: this.#o.logger.child({ partition: p }),
            replicas: this.#o.replicas ?? 1,
            consumerName: sealerConsumerName(p),
            filter: partitionFilter(p),
            witnesses: this.#witnesses,
            ...(this.#o.onSealed ? { onSealed: this.#o.onSealed } : {}),
          });
          this.#sealers.set(p, sealer);
        }
        if (!changed) return;
        this.#o.logger.info({ partitions: this.partitions }, 'sealer partitions');
        this.emit('partitions', this.partitions);
      })
      .catch((err: unknown) => {
        this.#o.logger.error({ err }, 'cannot apply sealer partition change; the next lease round retries');
      });
    return this.#changing;
  }
}

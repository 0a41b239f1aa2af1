import { StkError } from '../errors.ts';
import { assertId } from '../ids.ts';
import type { Bucket, Streams } from '../log/mod.ts';
import type { Logger } from '../logger.ts';

/** Options of a partition-lease member. */
export interface LeaseOptions {
  /** KV bucket shared by every worker of one kind (`stk-leases-projector`, `stk-leases-sealer`). */
  bucket: string;
  /** This worker's id (token-safe, unique per process). */
  workerId: string;
  /** Number of partitions P. Every worker of the bucket must use the same P. */
  partitions: number;
  /** A lease not renewed for this long lapses and may be taken over. @defaultValue 5000 */
  leaseMs?: number;
  /** Renewal and rebalancing period; must be well under leaseMs. @defaultValue leaseMs / 3 */
  tickMs?: number;
  /** Bucket replicas (3 on a cluster). @defaultValue 1 */
  replicas?: number;
  logger?: Logger;
  /** Called whenever the set of partitions this worker owns changes. */
  onChange: (owned: ReadonlySet<number>) => void | Promise<void>;
}

/** Token of a held lease: the KV revision. A write fenced with an older revision is refused. */
export interface Lease {
  partition: number;
  revision: number;
}

/**
 * Partition ownership through leases in a NATS KV bucket (keys `p.<i>` and `w.<workerId>`).
 * Claims are KV creates and renewals are KV updates at the held revision, so two workers can
 * never both hold a partition: a worker that stalled past its lease finds its renewal refused
 * (fenced) and drops the partition. Assignment is deterministic — partition i goes to the
 * (i mod W)-th live worker in id order — so every worker computes the same plan; a worker releases
 * what the plan gives to another, and claims what the plan gives it once free or lapsed.
 */
export class PartitionLeases {
  readonly #o: Required<Omit<LeaseOptions, 'logger' | 'onChange'>> & Pick<LeaseOptions, 'logger' | 'onChange'>;
  #kv: Bucket | null = null;
  readonly #held = new Map<number, number>();
  #timer: NodeJS.Timeout | null = null;
  #ticking: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(
    readonly streams: Streams,
    o: LeaseOptions,
  ) {
    assertId('token', o.workerId, 'worker id');
    if (!Number.isInteger(o.partitions) || o.partitions < 1 || o.partitions > 1024) {
      throw new StkError('STK_ERR_CONFIG', 'partitions must be an integer from 1 to 1024', { partitions: o.partitions });
    }
    const leaseMs = o.leaseMs ?? 5000;
    this.#o = { ...o, leaseMs, tickMs: o.tickMs ?? Math.floor(leaseMs / 3), replicas: o.replicas ?? 1 };
  }

  /** Partitions held right now. */
  get owned(): ReadonlySet<number> {
    return new Set(this.#held.keys());
  }

  /** The fencing token of a partition held now, or null. */
  lease(partition: number): Lease | null {
    const revision = this.#held.get(partition);
    return revision === undefined ? null : { partition, revision };
  }

  /** Joins the group and starts renewing and rebalancing. */
  async start(): Promise<void> {
    this.#kv = await this.streams.bucket(this.#o.bucket, { ttlMs: this.#o.leaseMs, history: 1, replicas: this.#o.replicas });
    await this.tick();
    this.#timer = setInterval(() => {
      this.#ticking = this.#ticking.then(() => this.tick()).catch((err) => this.#o.logger?.warn({ err }, 'partition lease tick failed'));
    }, this.#o.tickMs);
    this.#timer.unref();
  }

  /** Leaves the group, releasing every lease so others take over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#ticking.catch(() => {});
    const kv = this.#kv;
    if (!kv) return;
    for (const [p, rev] of this.#held) await kv.delete(`p.${p}`, { previousSeq: rev }).catch(() => {});
    await kv.delete(`w.${this.#o.workerId}`).catch(() => {});
    const had = this.#held.size;
    this.#held.clear();
    if (had) await this.#o.onChange(this.owned);
  }

  /**
   * Stops renewing without releasing anything: what a process that hangs (a long GC pause, a
   * stopped VM) or dies looks like to the others. Its partitions are taken over when the leases
   * lapse; a later `tick()` finds its renewals fenced.
   */
  pause(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** One round: heartbeat, renew what is held, release what the plan gives away, claim what it gives us. */
  async tick(): Promise<void> {
    const kv = this.#kv;
    if (!kv || this.#stopped) return;
    const before = [...this.#held.keys()].sort().join(',');
    await kv.put(`w.${this.#o.workerId}`, String(Date.now()));

    for (const [p, rev] of [...this.#held]) {
      try {
        this.#held.set(p, await kv.update(`p.${p}`, this.#o.workerId, rev));
      } catch {
        // Fenced: the lease lapsed and someone else may hold it now. Drop it at once.
        this.#held.delete(p);
        this.#o.logger?.warn({ partition: p }, 'partition lease lost');
      }
    }

    // A key rewritten while the listing runs is listed twice: count each worker once.
    const seen = new Set<string>();
    for await (const k of await kv.keys('w.*')) seen.add(k.slice(2));
    const workers = [...seen].sort();
    const me = workers.indexOf(this.#o.workerId);
    for (let p = 0; p < this.#o.partitions; p++) {
      const mine = me >= 0 && p % workers.length === me;
      const rev = this.#held.get(p);
      if (!mine && rev !== undefined) {
        await kv.delete(`p.${p}`, { previousSeq: this.#held.get(p)! }).catch(() => {});
        this.#held.delete(p);
      } else if (mine && rev === undefined) {
        try {
          this.#held.set(p, await kv.create(`p.${p}`, this.#o.workerId));
        } catch {
          // Held. By an earlier life of this very worker (the id is the data folder's, which one
          // process at a time can hold), it is ours to take back at once; by another worker, it is
          // released on that worker's next tick or lapses.
          const entry = await kv.get(`p.${p}`).catch(() => null);
          if (entry && entry.operation === 'PUT' && entry.string() === this.#o.workerId) {
            this.#held.set(p, await kv.update(`p.${p}`, this.#o.workerId, entry.revision).catch(() => -1));
            if (this.#held.get(p) === -1) this.#held.delete(p);
          }
        }
      }
    }
    const after = [...this.#held.keys()].sort().join(',');
    if (after !== before) await this.#o.onChange(this.owned);
  }
}

export { partitionOf } from '../log/envelope.ts';

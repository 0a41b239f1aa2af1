import { StkError } from '../errors.ts';
import { newId } from '../ids.ts';
import { ALL_EVENTS, EVENTS_STREAM, isWrongLastSequence, parseEventSubject, type Consumption, type Delivery, type Streams } from '../log/mod.ts';
import type { Logger } from '../logger.ts';
import { CheckpointWriter, type CheckpointTargets, type NoteCheckpoint, type TreeHead } from './checkpoint.ts';
import {
  BLOCK_FORMAT,
  GENESIS_HEAD,
  LEDGER_STREAM,
  VERSION_HEADER,
  blockSignedText,
  entryHashes,
  eventHash,
  firstEventId,
  ledgerSubject,
  parseBlock,
  type Block,
  type BlockEntry,
} from './format.ts';
import { publishKeyRecords } from './keyrecords.ts';
import { verifyText, type Keyring } from './keys.ts';
import { ledgerStreamSpec, ledgerUnavailable } from './stream.ts';
import { replayChain } from './replay.ts';
import { Frontier } from './tree.ts';
import type { WitnessPusher } from './witnesses.ts';

export interface SealerOptions extends CheckpointTargets {
  /** The door to JetStream; the sealer publishes blocks through it (give it a long acknowledgement timeout). */
  streams: Streams;
  keyring: Keyring;
  logger: Logger;
  /** Most entries in one block; 1 signs every event on its own. @defaultValue 1000 */
  blockMaxEntries?: number;
  /** Longest an entry waits for its block (the sealing window). @defaultValue 250 */
  blockMaxMs?: number;
  /** Tenants this sealer seals; the rest are skipped (partitions plug in here). @defaultValue all */
  owns?: (tenant: string) => boolean;
  /** Durable consumer on EVENTS; one per partition. @defaultValue stk-sealer */
  consumerName?: string;
  /** Server-side filter of that consumer (e.g. `partitionFilter(p)`), fixed when it is created. @defaultValue ev.> */
  filter?: string;
  replicas?: number;
  now?: () => Date;
  /** Witnesses each checkpoint is sent to for cosigning. */
  witnesses?: WitnessPusher | null;
  /** Told, for every block stored, how long its oldest entry waited since it was stored in EVENTS. */
  onSealed?: (lagSeconds: number) => void;
  /**
   * Fed by a `SealerGroup`'s one consumer (`take`) instead of a consumer of its own: this sealer
   * acks nothing and never restarts a consumer; the group does both, from `sealedBelow`.
   */
  shared?: boolean;
  /** With `shared`: told whenever the sealed floor may have moved (a block was stored). */
  onFloor?: () => void;
}

interface Pending {
  seq: number;
  id: string;
  hash: string;
  storedAtMs: number;
}

/** Every this many seconds the sealer checks that LEDGER still exists. */
const LEDGER_CHECK_TICKS = 5;

/** What the sealer holds for one tenant chain. */
interface Chain {
  tenant: string;
  height: number;
  head: string;
  index: number;
  /** Stream sequence of the last sealed record. */
  lastSeq: number;
  /** LEDGER sequence of the last block: the expected last subject sequence of the next. */
  ledgerSeq: number;
  /** The right edge of the tenant's Merkle tree at `height`: the next block's root is computed from it. */
  frontier: Frontier;
  pending: Pending[];
  inflight: { block: Block; bytes: Uint8Array; count: number; frontier: Frontier } | null;
  timer: NodeJS.Timeout | null;
  /** Set when the chain's stored head is not one this sealer can extend; the tenant is not sealed. */
  refused: StkError | null;
  sealedAtMs: number;
}

/** A chain head as the sealer last stored it. */
export interface ChainStatus {
  tenant: string;
  height: number;
  head: string;
  blocks: number;
  lastSeq: number;
  pendingEntries: number;
  oldestPendingMs: number | null;
  refused: string | null;
}

/**
 * The sealer: consumes EVENTS in stream order and gives every stored record of an owned tenant
 * the next entry of that tenant's chain, then publishes blocks of entries to `ledger.<tenant>`,
 * each signed over the head it ends on, with the expected last subject sequence.
 *
 * What is sealed is read back from LEDGER itself (the last block per tenant), never from local
 * state, so a crash at any point resumes with no gap (the consumer is acked only up to the
 * oldest record not yet in a stored block) and no duplicate (records at or below a chain's last
 * sealed sequence are skipped).
 */
export class Sealer {
  readonly #o: Required<Pick<SealerOptions, 'blockMaxEntries' | 'blockMaxMs' | 'consumerName'>> & SealerOptions;
  readonly #streams: Streams;
  readonly #chains = new Map<string, Chain>();
  readonly #loading = new Map<string, Promise<Chain>>();
  readonly #owns: (tenant: string) => boolean;
  readonly #log: Logger;
  readonly #now: () => Date;
  /** Delivered messages not yet acked, in delivery order; acking the last one covered acks all before it. */
  readonly #unacked: Delivery[] = [];
  readonly #checkpoints: CheckpointWriter;
  #highestSeen = 0;
  #sealedWaiters: Array<{ seq: number; resolve: () => void }> = [];
  #stopped = false;
  #loop: Promise<void> | null = null;
  #closeMessages: (() => Promise<void>) | null = null;
  #floorTimer: NodeJS.Timeout | null = null;
  /** Delivery sequence of the last record taken; a jump means a delivery was lost. */
  /** Set while restarting: no new block is started. */
  #pausing = false;
  /**
   * Written into the description of the consumer this sealer made; another value there means it
   * was taken over. (Not `created`: nats-server rewrites that timestamp when it restarts.)
   */
  readonly #consumerMark = `stk-sealer ${newId()}`;
  /** Set when another sealer took the consumer over; nothing more is sealed here. */
  #superseded = false;
  /** The last record read said the consumer holds more: a backlog is being read. */
  #behind = false;
  #sealedEntries = 0;
  #blocks = 0;
  /** Set while block publishes fail (LEDGER gone, refused, unreachable); cleared by the next block stored. */
  #writeFailure: { sinceMs: number; message: string } | null = null;

  private constructor(o: SealerOptions) {
    this.#o = { blockMaxEntries: 1000, blockMaxMs: 250, consumerName: 'stk-sealer', ...o };
    if (!(this.#o.blockMaxEntries >= 1))
      throw new StkError('STK_ERR_CONFIG', 'blockMaxEntries must be at least 1', { blockMaxEntries: this.#o.blockMaxEntries });
    this.#streams = o.streams;
    this.#owns = o.owns ?? (() => true);
    this.#log = o.logger.child({ component: 'sealer' });
    this.#now = o.now ?? (() => new Date());
    this.#checkpoints = new CheckpointWriter({ ...o, heads: () => this.#treeHeads(), logger: this.#log });
  }

  /** Starts sealing: makes sure LEDGER exists and the keyring's key records are in it, then consumes. */
  static async start(o: SealerOptions): Promise<Sealer> {
    await o.streams.ensureStream(ledgerStreamSpec({ replicas: o.replicas ?? 1 }));
    const sealer = new Sealer(o);
    await publishKeyRecords(o.streams, o.keyring, sealer.#log);
    if (!o.shared) {
      await sealer.#openConsumer();
      sealer.#loop = sealer.#run();
    }
    let tick = 0;
    sealer.#floorTimer = setInterval(() => {
      sealer.#advanceFloor();
      if (++tick % LEDGER_CHECK_TICKS === 0) void sealer.#checkLedger();
    }, 1000);
    sealer.#floorTimer.unref();
    sealer.#checkpoints.startTimer();
    sealer.#log.info({ keyId: o.keyring.keyId, blockMaxEntries: sealer.#o.blockMaxEntries, blockMaxMs: sealer.#o.blockMaxMs }, 'sealer started');
    return sealer;
  }

  get keyId(): string {
    return this.#o.keyring.keyId;
  }

  /** True once another sealer took this sealer's consumer over; it seals nothing more. */
  get superseded(): boolean {
    return this.#superseded;
  }

  /** Status of every chain this sealer has touched since it started. */
  chains(): ChainStatus[] {
    return [...this.#chains.values()].map((c) => this.#status(c));
  }

  chain(tenant: string): ChainStatus | null {
    const c = this.#chains.get(tenant);
    return c ? this.#status(c) : null;
  }

  /** Records read but not yet in a stored block, and the age of the oldest of them. */
  lag(): { events: number; seconds: number } {
    let events = 0;
    let oldest = Infinity;
    for (const c of this.#chains.values()) {
      if (c.refused) continue;
      events += c.pending.length;
      if (c.pending.length) oldest = Math.min(oldest, c.pending[0]!.storedAtMs);
    }
    return { events, seconds: oldest === Infinity ? 0 : Math.max(0, (Date.now() - oldest) / 1000) };
  }

  /** Undelivered records on the sealer's consumer (the part of the lag not yet read). */
  async backlog(): Promise<number> {
    if (this.#o.shared) return 0;
    return (await this.#streams.consumer(EVENTS_STREAM, this.#o.consumerName))?.pending ?? 0;
  }

  /**
   * With `shared`: takes one delivery of the group's consumer, in stream order. Synchronous when
   * the record's chain is held; otherwise resolves once the chain is read from LEDGER (retried,
   * never skipped), and the group must wait for it before handing the next record.
   */
  take(m: Delivery): void | Promise<void> {
    const chain = this.#ready(m);
    if (chain) this.#append(chain, m);
    else if (chain === null) return this.#takeRetrying(m);
  }

  /**
   * With `shared`: the highest sequence ≤ `upTo` such that every record this sealer was given
   * at or below it is in a stored block (`upTo`: the last record the group has handed out).
   */
  sealedBelow(upTo: number): number {
    let floor = upTo;
    for (const c of this.#chains.values()) if (c.pending.length && !c.refused) floor = Math.min(floor, c.pending[0]!.seq - 1);
    if (this.#loading.size) {
      const oldestUnacked = this.#unacked[0];
      if (oldestUnacked) floor = Math.min(floor, oldestUnacked.seq - 1);
    }
    return floor;
  }

  get counters(): { entries: number; blocks: number } {
    return { entries: this.#sealedEntries, blocks: this.#blocks };
  }

  /**
   * A LEDGER deleted under a sealer with nothing to store would go unnoticed until the next block
   * is refused: it is looked for every few seconds, and its absence is a write failure. The sealer
   * does not create it again while running (that would hide the deletion); a restart does, and
   * verify then names every record sealed before as a break.
   */
  async #checkLedger(): Promise<void> {
    const present = await this.#streams.state(LEDGER_STREAM).then(
      (s) => s !== null,
      () => true, // unreachable is not absent: the publishes say whether they fail
    );
    if (!present && !this.#stopped) {
      this.#writeFailure ??= { sinceMs: Date.now(), message: `the ${LEDGER_STREAM} stream does not exist: it was deleted` };
      this.#log.error({ stream: LEDGER_STREAM }, 'the LEDGER stream is gone; nothing can be sealed');
    } else if (present && this.#writeFailure?.message.includes('does not exist')) this.#writeFailure = null;
  }

  /** Since when blocks cannot be stored, and the last refusal; null while they can. */
  get writeFailure(): { sinceMs: number; message: string } | null {
    return this.#writeFailure;
  }

  /** Resolves once every owned record with a sequence ≤ `seq` is in a stored block. */
  waitSealed(seq: number): Promise<void> {
    if (this.#sealedThrough() >= seq) return Promise.resolve();
    return new Promise((resolve) => this.#sealedWaiters.push({ seq, resolve }));
  }

  /** Writes the checkpoint of every held chain whose tree grew (to LEDGER, witnesses and the checkpoint folder where configured). */
  checkpoint(): Promise<NoteCheckpoint[]> {
    return this.#checkpoints.write();
  }

  /** The install origin the checkpoints name (`<origin>/tenant/<tenant>`). */
  get installOrigin(): string {
    return this.#checkpoints.installOrigin;
  }

  /** Stops consuming; blocks in flight finish or are left for the next start to redo. */
  async close(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#floorTimer) clearInterval(this.#floorTimer);
    this.#checkpoints.stop();
    for (const c of this.#chains.values()) if (c.timer) clearTimeout(c.timer);
    await this.#closeMessages?.();
    await this.#loop?.catch(() => {});
  }

  /**
   * (Re)creates the durable consumer so that it delivers, in stream order and for the first time,
   * every record after `after` (default: the consumer's own ack floor). A durable consumer would
   * otherwise hand records delivered to a crashed sealer back only after ack_wait, behind newer
   * ones, and a chain must take records in stream order.
   */
  async #openConsumer(after?: number): Promise<boolean> {
    const name = this.#o.consumerName;
    try {
      // A separate sealer may start before the application has created EVENTS: wait for it.
      const exists = await this.#streams.waitForStream(
        EVENTS_STREAM,
        () => !this.#stopped,
        () => this.#log.warn({ stream: EVENTS_STREAM }, 'waiting for the EVENTS stream to exist'),
      );
      if (!exists) return false;
      const from = after ?? (await this.#streams.consumer(EVENTS_STREAM, name))?.ackFloor ?? 0;
      await this.#streams.resetConsumer(
        EVENTS_STREAM,
        {
          name,
          description: this.#consumerMark,
          filter: this.#o.filter ?? ALL_EVENTS,
          // Acking a record acks every record before it: one ack per block instead of per event.
          ackPolicy: 'all',
          ackWaitMs: 300_000,
          maxAckPending: 100_000,
        },
        from,
      );
      this.#highestSeen = from;
      return true;
    } catch (err) {
      throw ledgerUnavailable(err, `cannot open the sealer's consumer ${name}`);
    }
  }

  async #run(): Promise<void> {
    let open = true;
    while (!this.#stopped) {
      try {
        if (!open && !(await this.#restart())) break;
        open = false;
        // A delivery that went missing (reconnect, server restart) or came back late ends the
        // read: it starts again from what is known to be sealed rather than take records out of order.
        const messages: Consumption<Delivery> = await this.#streams.consume(EVENTS_STREAM, this.#o.consumerName, { max: 4096, inOrder: true });
        this.#closeMessages = () => messages.close();
        if (this.#stopped) break;
        for await (const m of messages) {
          // The common case (a chain already held) is synchronous: no promise per record.
          const chain = this.#ready(m);
          if (chain) this.#append(chain, m);
          else if (chain === undefined) continue;
          else await this.#takeRetrying(m);
          if (this.#stopped) break;
        }
        await messages.close();
      } catch (err) {
        if (this.#stopped) break;
        this.#log.error({ err }, 'sealer consumer failed; resuming from the sealed floor');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** A record whose chain cannot be read now (NATS trouble) is retried, never skipped. */
  async #takeRetrying(m: Delivery): Promise<void> {
    for (;;) {
      try {
        return await this.#take(m);
      } catch (err) {
        if (this.#stopped) return;
        this.#log.error({ err, seq: m.seq }, 'cannot seal a record yet; retrying');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /**
   * Drops everything held in memory once the blocks in flight have landed, and reopens the
   * consumer just after the highest sequence below which every owned record is sealed.
   */
  async #restart(): Promise<boolean> {
    this.#pausing = true;
    try {
      for (const c of this.#chains.values()) if (c.timer) clearTimeout(c.timer);
      while (!this.#stopped && [...this.#chains.values()].some((c) => c.inflight)) await new Promise((r) => setTimeout(r, 20));
      const floor = this.#sealedThrough();
      this.#chains.clear();
      this.#unacked.length = 0;
      // A consumer recreated by someone else means another sealer took this work over (a partition
      // moved to another worker): fighting over it would only make both start again and again.
      const now = await this.#streams.consumer(EVENTS_STREAM, this.#o.consumerName).catch(() => null);
      if (now && now.description !== this.#consumerMark) {
        this.#log.warn({ consumer: this.#o.consumerName }, 'another sealer took over this consumer; this one stops sealing');
        this.#superseded = true;
        return false;
      }
      return await this.#openConsumer(floor);
    } finally {
      this.#pausing = false;
    }
  }

  /**
   * Queues `m` for its ack and returns the chain it extends when that chain is already held,
   * `undefined` when there is nothing to seal, and null when the chain must be loaded first.
   */
  #ready(m: Delivery): Chain | undefined | null {
    const last = this.#unacked[this.#unacked.length - 1];
    // The ack queue stays in sequence order even if a retried record is taken twice.
    if (!last || m.seq > last.seq) this.#unacked.push(m);
    this.#highestSeen = Math.max(this.#highestSeen, m.seq);
    let tenant: string;
    try {
      tenant = parseEventSubject(m.subject).tenant;
    } catch {
      return undefined; // not a record subject: nothing to seal
    }
    if (!this.#owns(tenant)) return undefined;
    return this.#chains.get(tenant) ?? null;
  }

  async #take(m: Delivery): Promise<void> {
    const held = this.#ready(m);
    if (held === undefined) return;
    this.#append(held ?? (await this.#chainOf(parseEventSubject(m.subject).tenant)), m);
  }

  #append(chain: Chain, m: Delivery): void {
    if (chain.refused) return;
    const lastPending = chain.pending[chain.pending.length - 1];
    if (m.seq <= chain.lastSeq || (lastPending && m.seq <= lastPending.seq)) return;
    const version = m.headers?.get(VERSION_HEADER) ?? '';
    this.#behind = m.info.pending > 0;
    chain.pending.push({
      seq: m.seq,
      id: m.headers?.get('Nats-Msg-Id') || firstEventId(m.data),
      hash: eventHash(m.subject, version, m.data),
      storedAtMs: m.time.getTime(),
    });
    if (chain.pending.length - (chain.inflight?.count ?? 0) >= this.#o.blockMaxEntries) this.#flush(chain);
    else if (!chain.inflight) this.#schedule(chain);
  }

  /**
   * Flushes the chain's pending entries when the oldest has waited `blockMaxMs` since it was stored,
   * now if it already has. The wait counts from the entry's stored time, not from when a timer
   * could be set: entries that queued behind a block in flight, or reached this sealer late, would
   * otherwise wait a whole period more.
   */
  #schedule(chain: Chain): void {
    const oldest = chain.pending[0];
    if (!oldest || chain.timer) return;
    // The stored time is the server's clock: a skewed one can neither skip the wait nor stretch it.
    const leftMs = Math.min(this.#o.blockMaxMs, Math.max(0, this.#o.blockMaxMs - (Date.now() - oldest.storedAtMs)));
    // Reading a backlog (the consumer holds more): every record is older than the wait, and sealing
    // at once would make a block of each delivery's few records of the chain. The block fills from
    // the records on their way instead, for at most one more wait.
    if (leftMs === 0 && !this.#behind) this.#flush(chain);
    else chain.timer = setTimeout(() => this.#flush(chain), leftMs || this.#o.blockMaxMs);
  }

  #chainOf(tenant: string): Chain | Promise<Chain> {
    const known = this.#chains.get(tenant);
    if (known) return known;
    let loading = this.#loading.get(tenant);
    if (!loading) {
      loading = this.#loadChain(tenant).finally(() => this.#loading.delete(tenant));
      this.#loading.set(tenant, loading);
    }
    return loading;
  }

  /** Reads the chain's stored head from LEDGER: the truth about what is sealed. */
  async #loadChain(tenant: string, previous?: Chain): Promise<Chain> {
    const chain: Chain = previous ?? {
      tenant,
      height: 0,
      head: GENESIS_HEAD,
      index: 0,
      lastSeq: 0,
      ledgerSeq: 0,
      frontier: Frontier.empty(),
      pending: [],
      inflight: null,
      timer: null,
      refused: null,
      sealedAtMs: 0,
    };
    const m = await this.#streams.last(LEDGER_STREAM, ledgerSubject(tenant));
    if (m) {
      try {
        const b = parseBlock(m.data, { tenant, ledgerSeq: m.seq });
        const key = this.#o.keyring.publicKey(b.keyId);
        // Extending a head we cannot authenticate would lend our signature to whoever wrote it.
        if (b.tenant !== tenant || !key || !verifyText(key, blockSignedText(b), b.sig)) {
          throw new StkError('STK_ERR_LEDGER_FOREIGN_HEAD', `the last block of ${tenant} is not signed by this sealer's keys; refusing to extend it`, {
            tenant,
            ledgerSeq: m.seq,
            keyId: b.keyId,
          });
        }
        Object.assign(chain, {
          height: b.lastHeight,
          head: b.head,
          index: b.index,
          lastSeq: b.lastSeq,
          ledgerSeq: m.seq,
          sealedAtMs: Date.parse(b.sealedAt),
          frontier: await this.#frontierOf(tenant, b, m.seq),
        });
      } catch (err) {
        if (!(err instanceof StkError) || (err.code !== 'STK_ERR_LEDGER_FOREIGN_HEAD' && err.code !== 'STK_ERR_LEDGER_CORRUPT')) throw err;
        chain.refused =
          err.code === 'STK_ERR_LEDGER_FOREIGN_HEAD'
            ? err
            : new StkError(
                'STK_ERR_LEDGER_FOREIGN_HEAD',
                `the last block of ${tenant} is malformed; refusing to extend it`,
                { tenant, ledgerSeq: m.seq },
                { cause: err },
              );
        chain.pending = [];
        this.#log.error({ tenant, err: chain.refused }, 'chain refused; this tenant is not being sealed');
      }
    }
    chain.pending = chain.pending.filter((p) => p.seq > chain.lastSeq);
    // A re-read after a conflict updates its chain in place; only a first load registers one.
    if (!previous) this.#chains.set(tenant, chain);
    return chain;
  }

  /**
   * The tree edge after block `b`: from the block itself (format 2 carries it; it must fold to the
   * root the block signs), else rebuilt from the tenant's blocks in LEDGER (format 1, once).
   */
  async #frontierOf(tenant: string, b: Block, ledgerSeq: number): Promise<Frontier> {
    if (b.format === 2) {
      const f = Frontier.fromEdge(b.lastHeight, b.edge ?? []);
      if (f && f.root() === b.root) return f;
    }
    this.#log.info({ tenant, height: b.lastHeight }, 'rebuilding the tree edge of a chain from its blocks');
    const r = await replayChain(this.#streams, tenant, () => {}, { toSeq: ledgerSeq });
    if (r.head !== b.head) throw new StkError('STK_ERR_LEDGER_CORRUPT', `the blocks of ${tenant} do not lead to its last head`, { tenant, ledgerSeq });
    return r.frontier;
  }

  #flush(chain: Chain): void {
    if (chain.timer) {
      clearTimeout(chain.timer);
      chain.timer = null;
    }
    if (chain.inflight || chain.refused || chain.pending.length === 0 || this.#stopped || this.#pausing) return;
    // A chain dropped by a restart is re-read from LEDGER; the dropped copy must never publish.
    if (this.#chains.get(chain.tenant) !== chain) return;
    const take = chain.pending.slice(0, this.#o.blockMaxEntries);
    const entries: BlockEntry[] = [];
    const frontier = chain.frontier.clone();
    let head = chain.head;
    const step = { head, leaf: '' };
    for (let i = 0; i < take.length; i++) {
      const p = take[i]!;
      entryHashes(chain.tenant, chain.height + i + 1, step.head, p.hash, step);
      frontier.append(step.leaf);
      entries.push([p.seq, p.id, p.hash]);
    }
    head = step.head;
    const unsigned = {
      format: BLOCK_FORMAT,
      tenant: chain.tenant,
      index: chain.index + 1,
      firstHeight: chain.height + 1,
      lastHeight: chain.height + take.length,
      prevHead: chain.head,
      head,
      root: frontier.root(),
      lastSeq: take[take.length - 1]!.seq,
      keyId: this.#o.keyring.keyId,
      sealedAt: this.#now().toISOString(),
    };
    const block: Block = { ...unsigned, entries, edge: frontier.edge(), sig: this.#o.keyring.sign(blockSignedText(unsigned)) };
    chain.inflight = { block, bytes: new TextEncoder().encode(JSON.stringify(block)), count: take.length, frontier };
    void this.#publish(chain);
  }

  async #publish(chain: Chain): Promise<void> {
    const f = chain.inflight!;
    try {
      const ack = await this.#streams.publish(ledgerSubject(chain.tenant), f.bytes, {
        // The same bytes under the same id on a retry: a block that landed but whose ack was lost
        // is reported as a duplicate instead of being stored twice.
        msgId: `${chain.tenant}:${f.block.index}:${f.block.head}`,
        expectedLastSubjectSequence: chain.ledgerSeq,
      });
      const b = f.block;
      Object.assign(chain, {
        height: b.lastHeight,
        head: b.head,
        index: b.index,
        lastSeq: b.lastSeq,
        ledgerSeq: ack.seq,
        frontier: f.frontier,
        sealedAtMs: Date.now(),
        inflight: null,
      });
      const oldestMs = chain.pending[0]?.storedAtMs;
      chain.pending.splice(0, f.count);
      this.#writeFailure = null;
      if (oldestMs !== undefined) this.#o.onSealed?.((Date.now() - oldestMs) / 1000);
      this.#sealedEntries += f.count;
      this.#blocks++;
    } catch (err) {
      if (this.#stopped) return;
      if (isWrongLastSequence(err)) {
        // Someone else wrote to this chain. Re-read the stored head: it is extended only if it is
        // ours (signed by our keys); pending records it already covers are dropped, not resealed.
        this.#log.warn({ tenant: chain.tenant, index: f.block.index }, 'ledger head moved under the sealer; re-reading it');
        try {
          await this.#loadChain(chain.tenant, chain);
        } catch (loadErr) {
          this.#log.error({ err: loadErr, tenant: chain.tenant }, 'cannot re-read the ledger head; retrying');
          await new Promise((r) => setTimeout(r, 500));
        }
        // Cleared only now, so a restart waiting for blocks in flight also waits for this re-read.
        chain.inflight = null;
      } else {
        const message = (err as Error)?.message ?? String(err);
        this.#writeFailure = { sinceMs: this.#writeFailure?.sinceMs ?? Date.now(), message };
        this.#log.error({ err, tenant: chain.tenant, index: f.block.index }, 'block publish failed; retrying the same block');
        await new Promise((r) => setTimeout(r, 500));
        if (!this.#stopped) return this.#publish(chain);
        return;
      }
    }
    this.#advanceFloor();
    if (chain.pending.length >= this.#o.blockMaxEntries) this.#flush(chain);
    else this.#schedule(chain);
  }

  /** Highest sequence S such that every owned record ≤ S is in a stored block. */
  #sealedThrough(): number {
    let floor = this.#highestSeen;
    for (const c of this.#chains.values()) if (c.pending.length && !c.refused) floor = Math.min(floor, c.pending[0]!.seq - 1);
    // A record whose chain is still loading is in no chain's pending list yet.
    if (this.#loading.size) {
      const oldestUnacked = this.#unacked[0];
      if (oldestUnacked) floor = Math.min(floor, oldestUnacked.seq - 1);
    }
    return floor;
  }

  #advanceFloor(): void {
    // A refused chain does not hold the floor: one tenant's foreign head must not stall every
    // other tenant's sealing. Its records stay unsealed, which verify and /healthz report.
    const floor = this.#sealedThrough();
    const last = takeThrough(this.#unacked, floor);
    if (last && !this.#o.shared) last.ack();
    if (last) this.#o.onFloor?.();
    if (this.#sealedWaiters.length) {
      const through = this.#sealedThrough();
      const due = this.#sealedWaiters.filter((w) => w.seq <= through);
      this.#sealedWaiters = this.#sealedWaiters.filter((w) => w.seq > through);
      for (const w of due) w.resolve();
    }
  }

  #treeHeads(): TreeHead[] {
    return [...this.#chains.values()]
      .filter((c) => c.height > 0 && !c.refused && c.frontier.size === c.height)
      .map((c) => ({ tenant: c.tenant, size: c.height, rootHash: c.frontier.root() }));
  }

  #status(c: Chain): ChainStatus {
    return {
      tenant: c.tenant,
      height: c.height,
      head: c.head,
      blocks: c.index,
      lastSeq: c.lastSeq,
      pendingEntries: c.pending.length,
      oldestPendingMs: c.pending.length ? c.pending[0]!.storedAtMs : null,
      refused: c.refused?.message ?? null,
    };
  }
}

/**
 * Takes the deliveries at or below `floor` off the front of `unacked` (in stream order) in one
 * splice, and returns the last of them (acking it acks them all); null when none. One `shift` per
 * delivery would move the whole backlog each time: quadratic in a backlog of tens of thousands.
 */
export function takeThrough(unacked: Delivery[], floor: number): Delivery | null {
  let n = 0;
  while (n < unacked.length && unacked[n]!.seq <= floor) n++;
  if (n === 0) return null;
  const last = unacked[n - 1]!;
  unacked.splice(0, n);
  return last;
}

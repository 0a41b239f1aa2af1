import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type ConsumerConfig,
  type ConsumerInfo,
  type JetStreamClient,
  type JetStreamManager,
  type StoredMsg,
  type StreamConfig,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { Objm, type ObjectStore } from '@nats-io/obj';
import { headers, nuid, type NatsConnection } from '@nats-io/transport-node';
import { StkError } from '../errors.ts';
import { CallCounts } from './calls.ts';
import { AckPublisher, type Ack, type PublishOptions } from './publisher.ts';
import { isTransient, retryTransient } from './retry.ts';
import { Watchdog } from './watchdog.ts';
import { eachArriving } from './arriving.ts';
import { pool } from '../pool.ts';
import { PullFeed } from './pull.ts';

/** Lifetime of a pull request: a reader with nothing to read asks again this often. */
export const PULL_EXPIRES_MS = 30_000;
/**
 * How often the server tells a waiting pull request it is alive. A reader notices a consumer lost
 * with its server (a stream leader that died takes its ordered consumers along) after two missed
 * heartbeats and asks again (an ordered read recreates its consumer): 5 s bounds how long it stalls.
 */
export const PULL_HEARTBEAT_MS = 2_500;

/**
 * Bytes one pull request may bring (with its count of messages: both bound it). nats-server buffers
 * at most 64 MiB for a connection (`max_pending`) and cuts a connection that falls further behind
 * as a slow consumer, taking every subscription of the process with it; a count of messages alone
 * does not bound that — 4,096 agent reports of 100 alerts are 266 MB. Eight readers this size fit
 * one connection's buffer, and a request always has room for one message of the largest size
 * nats-server's `max_payload` allows as our configs keep it (1 MiB).
 */
export const PULL_MAX_BYTES = 8 * 1024 * 1024;

/** An ordered read's consumer is removed by the server after this long without a pull (its reader died). */
const ORDERED_INACTIVE_MS = 60_000;

/**
 * How long one request that creates or looks up a consumer may take, and how long such requests
 * are retried. nats-server 2.9 places a new consumer (ordered, durable, or a KV listing's) on a
 * random peer of its stream, an offline one included, and a request placed there never answers:
 * after a node dies, about one create in three times out until the node is back. Short attempts
 * retried through a long budget make that a few seconds' delay instead of a stalled worker (the
 * sealer stalled for minutes after a failover on a loaded machine, its lease ticks and its scans
 * each waiting out full timeouts).
 */
export const CONSUMER_REQUEST_TIMEOUT_MS = 2000;
export const CONSUMER_RETRY_MS = 30_000;

/** Headers of a stored message, as the JetStream client gives them. */
export interface Headers {
  get(name: string): string;
  keys(): string[];
}

/** One stored message of a stream, whoever read it (a point read, a scan, a consumer). */
export interface StoredMessage {
  readonly seq: number;
  readonly subject: string;
  readonly data: Uint8Array;
  readonly time: Date;
  readonly headers?: Headers | undefined;
}

/** A message handed out by a durable consumer: it stays owed until acked. */
export interface Delivery extends StoredMessage {
  readonly redelivered: boolean;
  readonly info: { readonly deliverySequence: number; readonly pending: number };
  ack(): void;
  nak(delayMs?: number): void;
}

/** A stream as Stockade declares it; `ensureStream` creates it or brings its mutable settings up to date. */
export interface StreamSpec {
  name: string;
  subjects: string[];
  /** @defaultValue 1 */
  replicas?: number;
  /** How long a `Nats-Msg-Id` is remembered. @defaultValue the server's (2 min) */
  duplicateWindowMs?: number;
  /** -1 = unbounded. */
  maxBytes?: number;
  /** 0 = forever. */
  maxAgeMs?: number;
  /** New messages refused when full (never lose an acknowledged one) or oldest dropped (telemetry). @defaultValue new */
  discard?: 'new' | 'old';
  denyDelete?: boolean;
  denyPurge?: boolean;
  /** Settings that may change after creation are updated on an existing stream. @defaultValue false */
  updateMutable?: boolean;
}

/** A stream's position and size. */
export interface StreamState {
  firstSeq: number;
  lastSeq: number;
  messages: number;
  bytes: number;
}

/** A durable consumer as Stockade's workers configure it. */
export interface ConsumerSpec {
  name: string;
  /** Server-side subject filter; none (`''` or absent): every message, which the server need not evaluate. */
  filter?: string;
  /** `all`: acking a message acks every one before it (one ack per batch). */
  ackPolicy: 'all' | 'explicit';
  ackWaitMs: number;
  maxAckPending: number;
  /** Free text stored with the consumer (the sealer marks its own consumer with it). */
  description?: string;
  /** The server removes the consumer after this long without a reader. */
  inactiveMs?: number;
}

/** What a durable consumer's owner needs to know about it. */
export interface ConsumerState {
  name: string;
  description: string;
  /** Highest sequence below which every message is acknowledged. */
  ackFloor: number;
  /** Messages matching the filter not yet delivered. */
  pending: number;
  /** Delivered, not yet acknowledged. */
  ackPending: number;
  /** Pull requests waiting: a live reader. */
  waiting: number;
}

/** A batch of deliveries being consumed; `close()` ends the iteration. */
export interface Consumption<T> extends AsyncIterable<T> {
  close(): Promise<void>;
  /**
   * Messages this process has received and not yet handed out. A delivery's `info.pending` is what
   * the server still held when it sent it: under a steady trickle each one says 0 while a reader
   * that fell behind has many waiting here. Caught up is both at 0 (`caughtUp`).
   */
  buffered(): number;
}

/** True when nothing is left to read right now: the server held nothing newer and nothing waits in this process. */
export function caughtUp(d: { info: { pending: number } }, feed: Pick<Consumption<unknown>, 'buffered'>): boolean {
  return d.info.pending === 0 && feed.buffered() === 0;
}

/**
 * Whether a filtered purge on this nats-server moves consumers past messages it left: before
 * 2.9.12, every consumer whose filter takes in the purged subject (one reading all of a stream, or
 * a partition's `tm.3.>` when one machine's telemetry goes) is moved to the purge's end, and never
 * gets the other subjects' messages it had not read yet (nats-server#3838; Debian 12 ships 2.9.10).
 */
export function purgeMovesConsumers(version: string | undefined): boolean {
  const [major = 0, minor = 0, patch = 0] = (version ?? '').split(/[.-]/).map((p) => Number.parseInt(p, 10) || 0);
  return major < 2 || (major === 2 && (minor < 9 || (minor === 9 && patch < 12)));
}

/** An open KV bucket (dashboard sessions, partition leases, install keys). */
export type Bucket = KV;

/** What the object store knows of one stored object. */
export interface StoredObject {
  name: string;
  size: number;
  /** Hex SHA-256 of the bytes, as the store computed it on put. */
  sha256: string;
  modifiedAt: string;
  /** The headers stored with the object. */
  headers: Record<string, string>;
}

/**
 * An object store bucket (evidence bytes): whole objects put and read by name. Objects are
 * chunked by the store and carry its SHA-256 digest, so a read can be checked against it.
 */
export interface ObjectBucket {
  readonly name: string;
  /** Stores `data` under `name` (replacing an object of that name) and resolves once it is acknowledged. */
  put(name: string, data: Uint8Array, o?: { headers?: Record<string, string> }): Promise<StoredObject>;
  /** The bytes of `name`; null when there is no such object. */
  get(name: string): Promise<Uint8Array | null>;
  /** What the store knows of `name`; null when there is no such object. */
  info(name: string): Promise<StoredObject | null>;
  /** Every object of the bucket (retention, offboarding export). */
  list(): Promise<StoredObject[]>;
  /** Removes `name` and its chunks; false when there was no such object. */
  delete(name: string): Promise<boolean>;
}

/**
 * The one door to JetStream. Everything Stockade does with streams — declaring them, point reads,
 * bounded scans, live ordered reads, durable work queues, publishing with acknowledgement, KV
 * buckets — goes through these operations, so the client's quirks (retries through a leader
 * election, ordered consumers that restart themselves, pending counts that cannot be trusted)
 * are handled once. Nothing outside `src/log` imports the JetStream client.
 */
export class Streams {
  readonly #nc: NatsConnection;
  readonly #jsm: JetStreamManager;
  /** Clients for consumer requests (and KV buckets, whose listings are consumers): short attempts, retried. */
  readonly #cjs: JetStreamClient;
  readonly #cjsm: JetStreamManager;
  readonly #publisher: AckPublisher;
  readonly #retryMs: number;
  readonly #consumerRetryMs: number;
  /** Every call this door (and the doors made from it) has made to JetStream, by kind. */
  readonly calls: CallCounts;

  private constructor(nc: NatsConnection, jsm: JetStreamManager, cjsm: JetStreamManager, o: { timeoutMs: number; retryMs: number; calls?: CallCounts }) {
    this.#nc = nc;
    this.#jsm = jsm;
    this.#cjsm = cjsm;
    this.#cjs = jetstream(nc, { timeout: CONSUMER_REQUEST_TIMEOUT_MS });
    this.#publisher = new AckPublisher(nc, o.timeoutMs);
    this.#retryMs = o.retryMs;
    this.#consumerRetryMs = Math.max(o.retryMs, CONSUMER_RETRY_MS);
    this.calls = o.calls ?? new CallCounts();
  }

  /**
   * Opens the door on a connection. `timeoutMs` bounds one request and one publish acknowledgement
   * (@defaultValue 5000); `retryMs` is how long reads ride out a leader election (@defaultValue 5000).
   */
  static async open(nc: NatsConnection, o: { timeoutMs?: number; retryMs?: number } = {}): Promise<Streams> {
    let jsm: JetStreamManager;
    let cjsm: JetStreamManager;
    try {
      jsm = await jetstreamManager(nc, { timeout: o.timeoutMs ?? 5000 });
      cjsm = await jetstreamManager(nc, { timeout: CONSUMER_REQUEST_TIMEOUT_MS, checkAPI: false });
    } catch (err) {
      throw new StkError('STK_ERR_LOG_UNAVAILABLE', `JetStream is not available: ${(err as Error).message}`, {}, { cause: err });
    }
    return new Streams(nc, jsm, cjsm, { timeoutMs: o.timeoutMs ?? 5000, retryMs: o.retryMs ?? 5000 });
  }

  /**
   * A door on the same connection whose publishes wait up to `timeoutMs` for their acknowledgement
   * (the sealer's blocks ride out a leader election rather than fail and be re-signed). Close it
   * on its own.
   */
  withTimeout(timeoutMs: number): Streams {
    return new Streams(this.#nc, this.#jsm, this.#cjsm, { timeoutMs, retryMs: Math.max(this.#retryMs, timeoutMs), calls: this.calls });
  }

  /** True while the connection is usable; false once it is closing or closed (the process is stopping). */
  get connected(): boolean {
    return !this.#nc.isClosed() && !this.#nc.isDraining();
  }

  /** Stops the shared publisher; pending publishes fail. The connection stays open. */
  close(): void {
    this.#publisher.close();
  }

  // ── streams ────────────────────────────────────────────────────────────────────────────────

  /**
   * `ensureStream` for a stream bounded by `maxBytes` that may be smaller than asked: a JetStream
   * server reserves a stream's `max_bytes` when it creates it and refuses one larger than it has
   * room for, so the bound is halved until the server takes it (down to 1 MiB) rather than keep an
   * install from starting — such a stream retains, it does not keep: a smaller bound only means its
   * oldest messages go sooner. Returns the bound in effect (the one asked for when it fitted).
   */
  async ensureStreamWithin(spec: StreamSpec): Promise<number> {
    let s = spec;
    for (;;) {
      try {
        await this.ensureStream(s);
        return s.maxBytes ?? 0;
      } catch (err) {
        const next = Math.floor((s.maxBytes ?? 0) / 2);
        if (!isNoRoom(err) || next < MIN_BOUNDED_BYTES) throw err;
        s = { ...s, maxBytes: next };
      }
    }
  }

  /** Creates `spec.name` if missing; with `updateMutable`, brings an existing stream's settings up to date. */
  async ensureStream(spec: StreamSpec): Promise<void> {
    const config: Partial<StreamConfig> & { name: string } = {
      name: spec.name,
      subjects: spec.subjects,
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: spec.discard === 'old' ? DiscardPolicy.Old : DiscardPolicy.New,
      num_replicas: spec.replicas ?? 1,
      max_bytes: spec.maxBytes ?? -1,
      max_age: (spec.maxAgeMs ?? 0) * 1_000_000,
      allow_direct: true,
      ...(spec.duplicateWindowMs !== undefined ? { duplicate_window: spec.duplicateWindowMs * 1_000_000 } : {}),
      ...(spec.denyDelete ? { deny_delete: true } : {}),
      ...(spec.denyPurge ? { deny_purge: true } : {}),
    };
    try {
      const info = await retryTransient(() => {
        this.calls.add('stream_info');
        return this.#jsm.streams.info(spec.name).catch((err: unknown) => {
          if (isStreamNotFound(err)) return null;
          throw err;
        });
      }, this.#retryMs);
      if (!info) {
        // A cluster that has just elected its meta leader may not know every peer yet ("no suitable
        // peers for placement", a 5xx): ride it out like an election. The same config twice is accepted.
        await retryWhile(
          () => {
            this.calls.add('stream_create');
            return this.#jsm.streams.add(config);
          },
          (err) => isTransient(err) || isNoPeers(err),
          Math.max(this.#retryMs, CONSUMER_RETRY_MS),
        );
        return;
      }
      if (!spec.updateMutable) return;
      const c = info.config;
      const changed =
        (config.duplicate_window !== undefined && c.duplicate_window !== config.duplicate_window) ||
        c.max_bytes !== config.max_bytes ||
        c.max_age !== config.max_age ||
        c.num_replicas !== config.num_replicas;
      if (changed) this.calls.add('stream_create');
      if (changed) await this.#jsm.streams.update(spec.name, { ...c, ...config, subjects: c.subjects });
    } catch (err) {
      throw unavailable(err, `cannot create or update stream ${spec.name}`, { stream: spec.name });
    }
  }

  /** Position and size of a stream; null when it does not exist (yet). */
  async state(stream: string): Promise<StreamState | null> {
    try {
      const info = await retryTransient(() => {
        this.calls.add('stream_info');
        return this.#jsm.streams.info(stream);
      }, this.#retryMs);
      return { firstSeq: info.state.first_seq, lastSeq: info.state.last_seq, messages: info.state.messages, bytes: info.state.bytes };
    } catch (err) {
      if (isStreamNotFound(err)) return null;
      throw unavailable(err, `cannot read the state of stream ${stream}`, { stream });
    }
  }

  /** Waits until `stream` exists, checking every `everyMs`, while `keepWaiting()` says so; true once it exists. */
  async waitForStream(stream: string, keepWaiting: () => boolean, onWait?: () => void, everyMs = 1000): Promise<boolean> {
    for (let first = true; keepWaiting(); first = false) {
      if (await this.state(stream)) return true;
      if (first) onWait?.();
      // Polled: JetStream has no notification for a stream another user creates.
      await new Promise((r) => setTimeout(r, everyMs));
    }
    return false;
  }

  /**
   * The subjects of `stream` matching `filter` that hold messages now, with how many each holds
   * (an empty map when the stream does not exist): which machines a restored TELEMETRY names.
   */
  async subjects(stream: string, filter: string): Promise<Map<string, number>> {
    try {
      const info = await retryTransient(() => {
        this.calls.add('stream_info');
        return this.#jsm.streams.info(stream, { subjects_filter: filter });
      }, this.#retryMs);
      return new Map(Object.entries(info.state.subjects ?? {}));
    } catch (err) {
      if (isStreamNotFound(err)) return new Map();
      throw unavailable(err, `cannot list the subjects of ${filter} in ${stream}`, { stream, filter });
    }
  }

  /** Account totals for /healthz. */
  async account(): Promise<{ streams: number; storageBytes: number }> {
    this.calls.add('account_info');
    const info = await this.#jsm.getAccountInfo();
    return { streams: info.streams, storageBytes: info.storage };
  }

  // ── point reads ────────────────────────────────────────────────────────────────────────────

  /** The newest message on `subject` (a wildcard filter too) of `stream`; null when none or no such stream. */
  async last(stream: string, subject: string): Promise<StoredMessage | null> {
    try {
      return stored(
        await retryTransient(() => {
          this.calls.add('msg_get');
          return this.#jsm.streams.getMessage(stream, { last_by_subj: subject });
        }, this.#retryMs),
      );
    } catch (err) {
      if (isStreamNotFound(err)) return null;
      throw unavailable(err, `cannot read the last message of ${subject}`, { stream, subject });
    }
  }

  /** The message at `seq`; null when it was never stored or has been removed. */
  async at(stream: string, seq: number): Promise<StoredMessage | null> {
    try {
      return stored(
        await retryTransient(() => {
          this.calls.add('msg_get');
          return this.#jsm.streams.getMessage(stream, { seq });
        }, this.#retryMs),
      );
    } catch (err) {
      if (isStreamNotFound(err)) return null;
      throw unavailable(err, `cannot read message ${seq} of ${stream}`, { stream, seq });
    }
  }

  /**
   * Removes message `seq` of `stream` and overwrites its stored bytes (JetStream's secure erase),
   * so a destroyed key leaves nothing on the server's disk; false when it was already gone.
   */
  eraseMessage(stream: string, seq: number): Promise<boolean> {
    return this.#removeMessage(stream, seq, true);
  }

  async #removeMessage(stream: string, seq: number, erase: boolean): Promise<boolean> {
    try {
      // "Not found" comes back with status 500, which a retry would repeat for nothing.
      return await retryTransient(
        () => this.#jsm.streams.deleteMessage(stream, seq, erase).catch((err: unknown) => (isMessageNotFound(err) ? false : Promise.reject(err))),
        this.#retryMs,
      );
    } catch (err) {
      if (isStreamNotFound(err)) return false;
      throw unavailable(err, `cannot ${erase ? 'erase' : 'remove'} message ${seq} of ${stream}`, { stream, seq });
    }
  }

  /**
   * Removes every message of `stream` matching `filter` below sequence `beforeSeq` (all of them
   * when absent): a tenant's telemetry ageing out or leaving. Returns how many were removed.
   */
  async purge(stream: string, filter: string, beforeSeq?: number): Promise<number> {
    if (filter && purgeMovesConsumers(this.#nc.info?.version)) return this.#removeEach(stream, filter, beforeSeq);
    try {
      const r = await retryTransient(() => this.#jsm.streams.purge(stream, { filter, ...(beforeSeq !== undefined ? { seq: beforeSeq } : {}) }), this.#retryMs);
      return r.purged;
    } catch (err) {
      if (isStreamNotFound(err)) return 0;
      throw unavailable(err, `cannot purge ${filter} from ${stream}`, { stream, filter });
    }
  }

  /**
   * `purge` as a removal of each matching message, which moves no consumer: what a filtered purge
   * does on a server that moves consumers with it (`purgeMovesConsumers`). Like the purge, it does
   * not overwrite the stored bytes. The messages are found by one scan of the filter; up to 32
   * removals in flight (about 20,000 a second here, where a purge takes milliseconds).
   */
  async #removeEach(stream: string, filter: string, beforeSeq?: number): Promise<number> {
    const st = await this.state(stream);
    if (!st || st.messages === 0) return 0;
    const toSeq = beforeSeq !== undefined ? Math.min(beforeSeq - 1, st.lastSeq) : st.lastSeq;
    if (toSeq < st.firstSeq) return 0;
    const seqs: number[] = [];
    await this.scanEach(stream, { filter, toSeq }, (m) => {
      seqs.push(m.seq);
    });
    const removed = await pool(seqs, 32, (seq) => this.#removeMessage(stream, seq, false));
    return removed.filter(Boolean).length;
  }

  /**
   * The first sequence of `stream` stored at or after `time` (the stream's next sequence when
   * none): a binary search over stored times, which only grow with the sequence.
   */
  async seqAt(stream: string, time: Date): Promise<number> {
    const st = await this.state(stream);
    if (!st || st.messages === 0) return (st?.lastSeq ?? 0) + 1;
    let lo = st.firstSeq;
    let hi = st.lastSeq + 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      // A removed sequence in between: the next stored message after it decides.
      let m = await this.at(stream, mid);
      for (let probe = mid + 1; !m && probe < hi; probe++) m = await this.at(stream, probe);
      if (!m || m.time.getTime() >= time.getTime()) hi = mid;
      else lo = m.seq + 1;
    }
    return lo;
  }

  // ── reads over ranges ──────────────────────────────────────────────────────────────────────

  /**
   * Every message of `stream` matching `filter` from `fromSeq` up to the newest match when the scan
   * starts (or `toSeq`), in sequence order, over an ordered consumer. It always ends, and in
   * bounded time: the end is a sequence fixed at the start (never a pending count, which the
   * server over-reports for a filtered consumer over a stream with deleted messages), a message
   * deleted meanwhile is simply not seen, and a stream that stops delivering for `idleMs` fails
   * the scan with STK_ERR_LOG_UNAVAILABLE rather than hanging.
   */
  async *scan(stream: string, o: ScanOptions = {}): AsyncGenerator<StoredMessage> {
    const range = await this.#scanRange(stream, o);
    if (!range) return;
    const feed = await this.#ordered(stream, o.filter, range.from - 1, o.fromTime, undefined, o.batch);
    const watchdog = new Watchdog(o.idleMs ?? 30_000, () => feed.close());
    try {
      let next = range.from;
      for await (const m of feed) {
        watchdog.progress();
        // An ordered consumer recreated after a failover can hand a sequence out again: the
        // scan's order is strictly increasing, whatever the consumer does.
        if (m.seq < next) continue;
        if (m.seq > range.to) return;
        next = m.seq + 1;
        yield m;
        if (m.seq >= range.to || (m.info.pending === 0 && !(await this.#moreUpTo(stream, o.filter, m.seq)))) return;
      }
      watchdog.check(stream);
    } finally {
      watchdog.stop();
      await feed.close();
    }
  }

  /**
   * `scan` with a callback, for the passes that read everything (verify, backup): each message is
   * handed over as it arrives, with no promise per message. A callback that returns a promise is
   * awaited before the next message (from then on the scan reads one message at a time, so a slow
   * callback never has the stream pile up in memory). Returns how many messages it handed out.
   */
  async scanEach(stream: string, o: ScanOptions, each: (m: StoredMessage) => void | Promise<void>): Promise<number> {
    // Looked at later (or never, for an empty range): a hold that fails early is this scan's failure, not an unhandled one.
    o.holdUntil?.catch(() => {});
    const range = await this.#scanRange(stream, o);
    if (!range) return 0;
    const idleMs = o.idleMs ?? 30_000;
    let n = 0;
    let from = range.from;
    let hold = o.holdUntil;
    for (;;) {
      // A time start stands until a message has been handed out; from then on the sequence says where.
      const fromTime = from === range.from ? o.fromTime : undefined;
      const start = from;
      const r = await eachArriving({
        stream,
        from,
        to: range.to,
        idleMs,
        open: (deliver) => this.#ordered(stream, o.filter, start - 1, fromTime, deliver, o.batch),
        moreAfter: (after) => this.#moreUpTo(stream, o.filter, after),
        each: each as (m: Delivery) => undefined | Promise<void>,
        ...(hold ? { hold, holdMax: HOLD_MAX_MESSAGES, holdMaxBytes: HOLD_MAX_BYTES } : {}),
      });
      n += r.n;
      if (r.how === 'done') return n;
      // Paced from here when a callback waits, and when a consumer stopped without handing anything out.
      if (r.how === 'paced' || r.next === from) return n + (await this.#scanPaced(stream, o.filter, r.next, range.to, idleMs, each, fromTime, o.batch));
      from = r.next;
      hold = undefined;
    }
  }

  /** The rest of a `scanEach` from `from`, one message at a time, each waited for. */
  async #scanPaced(
    stream: string,
    filter: string | undefined,
    from: number,
    to: number,
    idleMs: number,
    each: (m: StoredMessage) => void | Promise<void>,
    fromTime?: Date,
    batch?: number,
  ): Promise<number> {
    const feed = await this.#ordered(stream, filter, from - 1, fromTime, undefined, batch);
    const watchdog = new Watchdog(idleMs, () => feed.close());
    let n = 0;
    try {
      let next = from;
      for await (const m of feed) {
        watchdog.progress();
        if (m.seq < next) continue;
        if (m.seq > to) return n;
        next = m.seq + 1;
        n++;
        const pending = each(m);
        if (pending) await pending;
        if (m.seq >= to || (m.info.pending === 0 && !(await this.#moreUpTo(stream, filter, m.seq)))) return n;
      }
      watchdog.check(stream);
      return n;
    } finally {
      watchdog.stop();
      await feed.close();
    }
  }

  /**
   * Whether a message matching `filter` newer than `after` exists, asked of the stream's leader.
   * A consumer runs on one replica of its stream, and a replica still catching up (a node just
   * back) says "nothing pending" before it holds what the leader holds: such a scan must read on
   * instead of ending short (it ended short, and verify then missed blocks). When the last message
   * of the range was deleted meanwhile, nothing newer exists and the scan ends.
   */
  async #moreUpTo(stream: string, filter: string | undefined, after: number): Promise<boolean> {
    return ((await this.last(stream, filter ?? '>'))?.seq ?? 0) > after;
  }

  #counted<T>(kind: 'consumer_create', p: Promise<T>): Promise<T> {
    this.calls.add(kind);
    return p;
  }

  async #scanRange(stream: string, o: ScanOptions): Promise<{ from: number; to: number } | null> {
    const from = Math.max(1, o.fromSeq ?? 1);
    // The newest matching message now is where the scan ends (one get, filtered by the server, and
    // answered by the stream's leader only: a stream's info may come from a replica that is still
    // catching up after a restart, which ended scans short).
    const last = await this.last(stream, o.filter ?? '>');
    // Nothing stored since `fromTime`: an ordered consumer starting there would wait for a message forever.
    if (o.fromTime && (!last || last.time < o.fromTime)) return null;
    const to = Math.min(last?.seq ?? 0, o.toSeq ?? Number.POSITIVE_INFINITY);
    return to >= from ? { from, to } : null;
  }

  /**
   * How many messages of `stream` match `filter` from `fromSeq` on, and the first of them: the
   * server counts (an ack-less ephemeral consumer's pending count), nothing is read but the first.
   * The count is an estimate where messages were deleted (the server may over-count); it is for
   * lag figures, never for deciding where a read ends.
   */
  async countFrom(stream: string, filter: string, fromSeq: number): Promise<{ messages: number; first: StoredMessage | null }> {
    try {
      const ci = await retryTransient(
        () =>
          this.#counted(
            'consumer_create',
            this.#cjsm.consumers.add(stream, {
              ack_policy: AckPolicy.None,
              filter_subject: filter,
              mem_storage: true,
              inactive_threshold: 5_000_000_000,
              ...(fromSeq > 1 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: fromSeq } : { deliver_policy: DeliverPolicy.All }),
            }),
          ),
        this.#consumerRetryMs,
      );
      try {
        if (ci.num_pending === 0) return { messages: 0, first: null };
        this.calls.add('consumer_info');
        this.calls.add('pull');
        const first = await (await retryTransient(() => this.#cjs.consumers.get(stream, ci.name), this.#consumerRetryMs)).next({ expires: 2000 });
        return { messages: ci.num_pending, first };
      } finally {
        this.calls.add('consumer_delete');
        await this.#jsm.consumers.delete(stream, ci.name).catch(() => {});
      }
    } catch (err) {
      if (isStreamNotFound(err)) return { messages: 0, first: null };
      throw unavailable(err, `cannot count ${filter} in ${stream}`, { stream, filter });
    }
  }

  /**
   * A live, ordered read of `stream` matching `filter`, from just after `after` (0 = the start),
   * with no end: messages arrive in sequence order with no gap, across reconnects and leader
   * changes (the ordered consumer recreates itself), and never twice.
   */
  follow(stream: string, o: { filter?: string; after?: number } = {}): Follow {
    return new Follow(this, stream, o.filter, o.after ?? 0);
  }

  /**
   * @internal An ordered read from just after `after` (or from `fromTime`); used by scans and
   * `Follow`. Its consumer is ack-less, in memory, on one replica, and recreated by the feed from
   * where it got to whenever it is lost.
   */
  async #ordered(stream: string, filter: string | undefined, after: number, fromTime?: Date, deliver?: (m: Delivery) => void, batch = 4096): Promise<PullFeed> {
    const prefix = `stk_o_${nuid.next()}`;
    let serial = 0;
    const create = async (from: number | null): Promise<string> => {
      const start =
        from !== null
          ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from + 1 }
          : fromTime
            ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: fromTime.toISOString() }
            : after > 0
              ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 }
              : { deliver_policy: DeliverPolicy.All };
      // Each attempt under a new name: a create that timed out was placed on a peer that does not
      // answer (see CONSUMER_REQUEST_TIMEOUT_MS), and the same name again would be sent there
      // again. What a timed-out attempt made goes when it has gone unread (ORDERED_INACTIVE_MS).
      let name = '';
      await retryTransient(() => {
        name = `${prefix}_${++serial}`;
        return this.#cjsm.consumers.add(stream, {
          name,
          ack_policy: AckPolicy.None,
          mem_storage: true,
          num_replicas: 1,
          inactive_threshold: ORDERED_INACTIVE_MS * 1_000_000,
          ...(filter ? { filter_subject: filter } : {}),
          ...start,
        });
      }, this.#consumerRetryMs);
      return name;
    };
    try {
      return await PullFeed.open({
        nc: this.#nc,
        stream,
        target: { kind: 'ordered', create, remove: (name) => this.#jsm.consumers.delete(stream, name) },
        batch,
        maxBytes: PULL_MAX_BYTES,
        expiresMs: PULL_EXPIRES_MS,
        heartbeatMs: PULL_HEARTBEAT_MS,
        calls: this.calls,
        ...(deliver ? { deliver } : {}),
      });
    } catch (err) {
      throw unavailable(err, `cannot read ${stream}${filter ? ` ${filter}` : ''}`, { stream, filter });
    }
  }

  /** @internal for Follow. */
  openOrdered(stream: string, filter: string | undefined, after: number): Promise<Consumption<Delivery>> {
    return this.#ordered(stream, filter, after);
  }

  // ── durable consumers (work queues) ────────────────────────────────────────────────────────

  /** A durable consumer's state; null when it does not exist. */
  async consumer(stream: string, name: string): Promise<ConsumerState | null> {
    try {
      return consumerState(
        await retryTransient(() => {
          this.calls.add('consumer_info');
          return this.#cjsm.consumers.info(stream, name);
        }, this.#consumerRetryMs),
      );
    } catch (err) {
      if (isConsumerNotFound(err) || isStreamNotFound(err)) return null;
      throw unavailable(err, `cannot read consumer ${name} of ${stream}`, { stream, name });
    }
  }

  /** Every durable consumer of `stream` (the backpressure monitor reads the workers' backlogs). */
  async consumers(stream: string): Promise<ConsumerState[]> {
    try {
      this.calls.add('consumer_list');
      return (await this.#jsm.consumers.list(stream).next()).map(consumerState);
    } catch (err) {
      throw unavailable(err, `cannot list the consumers of ${stream}`, { stream });
    }
  }

  /**
   * (Re)creates durable consumer `spec.name` so that it delivers, in order and for the first time,
   * every matching message after `after`. An existing consumer of that name is deleted first:
   * a durable consumer would otherwise hand messages delivered to a crashed worker back only after
   * their ack wait, behind newer ones.
   */
  async resetConsumer(stream: string, spec: ConsumerSpec, after: number): Promise<void> {
    const config: Partial<ConsumerConfig> = {
      durable_name: spec.name,
      ack_policy: spec.ackPolicy === 'all' ? AckPolicy.All : AckPolicy.Explicit,
      ack_wait: spec.ackWaitMs * 1_000_000,
      max_ack_pending: spec.maxAckPending,
      ...(spec.filter ? { filter_subject: spec.filter } : {}),
      ...(spec.description !== undefined ? { description: spec.description } : {}),
      ...(spec.inactiveMs !== undefined ? { inactive_threshold: spec.inactiveMs * 1_000_000 } : {}),
      ...(after > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 } : { deliver_policy: DeliverPolicy.All }),
    };
    try {
      if (await this.consumer(stream, spec.name)) {
        await retryTransient(() => {
          this.calls.add('consumer_delete');
          return this.#cjsm.consumers.delete(stream, spec.name);
        }, this.#consumerRetryMs);
      }
      // A create that timed out may have been made: the same config again is accepted as is.
      await retryTransient(() => {
        this.calls.add('consumer_create');
        return this.#cjsm.consumers.add(stream, config);
      }, this.#consumerRetryMs);
    } catch (err) {
      throw unavailable(err, `cannot create consumer ${spec.name} of ${stream}`, { stream, name: spec.name });
    }
  }

  /** Deletes durable consumer `name`; true when there was one. */
  async deleteConsumer(stream: string, name: string): Promise<boolean> {
    try {
      this.calls.add('consumer_delete');
      return await this.#jsm.consumers.delete(stream, name);
    } catch (err) {
      if (isConsumerNotFound(err) || isStreamNotFound(err)) return false;
      throw unavailable(err, `cannot delete consumer ${name} of ${stream}`, { stream, name });
    }
  }

  /** Creates durable consumer `spec.name` starting after `after` unless it exists; an existing one keeps its place. */
  async ensureConsumer(stream: string, spec: ConsumerSpec, after = 0): Promise<void> {
    if (!(await this.consumer(stream, spec.name))) await this.resetConsumer(stream, spec, after);
  }

  /**
   * Starts pulling from durable consumer `name`; iterate the deliveries, ack what is done, `close()` to stop.
   *
   * With `inOrder` (a consumer read by one reader that keeps a position and acks all up to it: the
   * projectors, the detector), a delivery that went missing or comes back late ends the iteration
   * with STK_ERR_LOG_UNAVAILABLE: a delivery lost in flight (a consumer leader killed, a reconnect)
   * is handed out again only after the ack wait, behind newer ones, and a reader that moved its
   * position past the gap would skip it for good. The reader starts again from its position.
   */
  async consume(stream: string, name: string, o: { max?: number; inOrder?: boolean } = {}): Promise<Consumption<Delivery>> {
    try {
      // The consumer must exist: asking for its info says so.
      await retryTransient(() => {
        this.calls.add('consumer_info');
        return this.#cjsm.consumers.info(stream, name);
      }, this.#consumerRetryMs);
      const feed = await PullFeed.open({
        nc: this.#nc,
        stream,
        target: { kind: 'durable', name },
        batch: o.max ?? 1024,
        maxBytes: PULL_MAX_BYTES,
        expiresMs: PULL_EXPIRES_MS,
        heartbeatMs: PULL_HEARTBEAT_MS,
        calls: this.calls,
      });
      return o.inOrder ? inOrder(feed, stream, name) : feed;
    } catch (err) {
      throw unavailable(err, `cannot consume ${name} of ${stream}`, { stream, name });
    }
  }

  // ── writes ─────────────────────────────────────────────────────────────────────────────────

  /**
   * Publishes `data` to `subject` and resolves with the stream's acknowledgement. `msgId` makes a
   * retry a no-op within the duplicate window; `expectedLastSubjectSequence` makes it conditional.
   */
  publish(subject: string, data: Uint8Array, o: PublishOptions): Promise<Ack> {
    this.calls.add('publish');
    return this.#publisher.publish(subject, data, o);
  }

  /**
   * Publishes messages in order with up to `window` acknowledgements in flight (restore): each ack
   * is handed to `onAck` with the message's index (1-based), which may throw to stop. Resolves with
   * the count once every ack is in; the first failure rejects after the in-flight ones settle.
   */
  async publishAll(
    source: AsyncIterable<{ subject: string; data: Uint8Array; msgId: string; headers?: Record<string, string> }>,
    o: { window: number; timeoutMs: number; onAck: (ack: Ack, index: number) => void },
  ): Promise<number> {
    const publisher = new AckPublisher(this.#nc, o.timeoutMs);
    const inFlight = new Set<Promise<void>>();
    let failure: unknown = null;
    let n = 0;
    try {
      for await (const m of source) {
        if (failure) break;
        const index = ++n;
        this.calls.add('publish');
        const p: Promise<void> = publisher
          .publish(m.subject, m.data, { msgId: m.msgId, ...(m.headers ? { headers: m.headers } : {}) })
          .then((ack) => o.onAck(ack, index))
          .catch((err: unknown) => {
            failure ??= err;
          })
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
        if (inFlight.size >= o.window) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
    } finally {
      publisher.close();
    }
    if (failure) throw failure;
    return n;
  }

  // ── KV ─────────────────────────────────────────────────────────────────────────────────────

  /** Opens (creating if missing, unless `existing`) KV bucket `name`. */
  async bucket(name: string, o: { ttlMs?: number; history?: number; replicas?: number; existing?: boolean } = {}): Promise<Bucket> {
    try {
      this.calls.add('kv');
      // Short requests: a bucket's key listing is a consumer (see CONSUMER_REQUEST_TIMEOUT_MS).
      // A replicated bucket is a stream: an election, or a forming cluster that does not know every
      // peer yet ("no suitable peers for placement"), is ridden out like a stream's creation.
      const kv = await retryWhile(
        () =>
          o.existing
            ? new Kvm(this.#cjs).open(name)
            : new Kvm(this.#cjs).create(name, {
                history: o.history ?? 1,
                replicas: o.replicas ?? 1,
                ...(o.ttlMs !== undefined ? { ttl: o.ttlMs } : {}),
              }),
        (err) => isTransient(err) || isNoPeers(err),
        Math.max(this.#retryMs, CONSUMER_RETRY_MS),
      );
      return countedBucket(kv, this.calls);
    } catch (err) {
      throw unavailable(err, `cannot open KV bucket ${name}`, { bucket: name });
    }
  }

  // ── object store ───────────────────────────────────────────────────────────────────────────

  /**
   * Opens (creating if missing, unless `existing`) object store bucket `name` (its stream is
   * `OBJ_<name>`). File storage; `maxBytes` bounds the bucket (-1: unbounded).
   */
  async objectBucket(name: string, o: { replicas?: number; maxBytes?: number; description?: string; existing?: boolean } = {}): Promise<ObjectBucket> {
    let store: ObjectStore;
    try {
      store = await retryTransient(
        () =>
          // `existing`: a reader (backup) that must never bring back a bucket removed meanwhile.
          o.existing
            ? new Objm(this.#nc).open(name)
            : new Objm(this.#nc).create(name, {
                replicas: o.replicas ?? 1,
                max_bytes: o.maxBytes ?? -1,
                ...(o.description !== undefined ? { description: o.description } : {}),
              }),
        this.#retryMs,
      );
    } catch (err) {
      throw unavailable(err, `cannot open object bucket ${name}`, { bucket: name });
    }
    const retryMs = this.#retryMs;
    const calls = this.calls;
    return {
      name,
      async put(object, data, po = {}) {
        calls.add('object');
        try {
          const h = headers();
          for (const [k, v] of Object.entries(po.headers ?? {})) h.set(k, v);
          return objectOf(await store.putBlob({ name: object, headers: h }, data));
        } catch (err) {
          throw unavailable(err, `cannot store object ${object} in ${name}`, { bucket: name, object });
        }
      },
      async get(object) {
        try {
          return await retryTransient(() => {
            calls.add('object');
            return store.getBlob(object);
          }, retryMs);
        } catch (err) {
          throw unavailable(err, `cannot read object ${object} of ${name}`, { bucket: name, object });
        }
      },
      async info(object) {
        try {
          const i = await retryTransient(() => {
            calls.add('object');
            return store.info(object);
          }, retryMs);
          return i && !i.deleted ? objectOf(i) : null;
        } catch (err) {
          throw unavailable(err, `cannot read object ${object} of ${name}`, { bucket: name, object });
        }
      },
      async list() {
        try {
          // A listing carries headers as plain JSON, not as header objects: read them with `info` where needed.
          return (await retryTransient(() => store.list(), retryMs))
            .filter((i) => !i.deleted)
            .map((i) => objectOf({ name: i.name, size: i.size, digest: i.digest, mtime: i.mtime }));
        } catch (err) {
          throw unavailable(err, `cannot list ${name}`, { bucket: name });
        }
      },
      async delete(object) {
        try {
          return (await store.delete(object)).success;
        } catch (err) {
          if (/not found/i.test((err as Error)?.message ?? '')) return false;
          throw unavailable(err, `cannot delete object ${object} of ${name}`, { bucket: name, object });
        }
      },
    };
  }

  /** Removes an object store bucket with every object in it (a tenant's evidence, when it is offboarded); false when there was none. */
  async destroyObjectBucket(name: string): Promise<boolean> {
    try {
      return await retryTransient(() => this.#jsm.streams.delete(`OBJ_${name}`), this.#retryMs);
    } catch (err) {
      if (isStreamNotFound(err)) return false;
      throw unavailable(err, `cannot remove object bucket ${name}`, { bucket: name });
    }
  }
}

/** Options of a bounded read. */
export interface ScanOptions {
  /** Server-side subject filter. @defaultValue every message */
  filter?: string;
  /** First sequence to read. @defaultValue 1 */
  fromSeq?: number;
  /** With a filter: read from the first message stored at or after this time instead (the server finds it). */
  fromTime?: Date;
  /** Last sequence to read. @defaultValue the newest matching message when the scan starts */
  toSeq?: number;
  /** A scan that receives nothing for this long fails. @defaultValue 30000 */
  idleMs?: number;
  /**
   * Messages one pull asks the server for. Reads of large messages (ledger blocks) ask for fewer:
   * thousands of them in flight overrun what nats-server buffers for one connection, and it drops
   * the connection as a slow consumer. @defaultValue 4096
   */
  batch?: number;
  /**
   * `scanEach` only: the read starts at once, but no message is handed to the callback before this
   * settles (the caller is still busy with something the callback needs); up to 32,768 messages
   * (32 MiB of bodies) that arrive meanwhile are kept, the rest read after. A rejection ends a scan that has anything to read with its error.
   */
  holdUntil?: Promise<unknown>;
}

/**
 * What a held `scanEach` keeps at most: enough for the records a verify receives while it checks
 * the blocks of as many (about 16 MB of typical event records), never more than 32 MiB of bodies.
 */
const HOLD_MAX_MESSAGES = 32_768;
const HOLD_MAX_BYTES = 32 * 1024 * 1024;

/** A live ordered read; iterate it, `stop()` ends the iteration. `position` is the last sequence handed out. */
export class Follow implements AsyncIterable<StoredMessage> {
  readonly #streams: Streams;
  readonly #stream: string;
  readonly #filter: string | undefined;
  #after: number;
  #stopped = false;
  #feed: Consumption<Delivery> | null = null;
  #opening: Promise<Consumption<Delivery>> | null = null;

  constructor(streams: Streams, stream: string, filter: string | undefined, after: number) {
    this.#streams = streams;
    this.#stream = stream;
    this.#filter = filter;
    this.#after = after;
  }

  get position(): number {
    return this.#after;
  }

  /** Opens the read now (it opens on the first iteration otherwise), so a failure to open surfaces here. */
  async ready(): Promise<void> {
    this.#opening ??= this.#streams.openOrdered(this.#stream, this.#filter, this.#after).then((feed) => {
      this.#feed = feed;
      return feed;
    });
    await this.#opening;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<StoredMessage> {
    await this.ready();
    const feed = this.#feed!;
    if (this.#stopped) await feed.close();
    try {
      for await (const m of feed) {
        // The ordered consumer restarts itself after a gap or reconnect from the last sequence it
        // delivered; this guard keeps a restart from ever handing out a message twice.
        if (m.seq <= this.#after) continue;
        this.#after = m.seq;
        yield m;
        if (this.#stopped) break;
      }
    } finally {
      await feed.close();
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#feed?.close();
  }
}

/**
 * A durable consumer's feed read by one reader that acks in order: a delivery that went missing or
 * comes back late ends the iteration (see `Streams.consume`). The first delivery's consumer
 * sequence is wherever the consumer stood; from there on each is the one before plus one, and
 * none is a redelivery.
 */
function inOrder(feed: PullFeed, stream: string, name: string): Consumption<Delivery> {
  return {
    async *[Symbol.asyncIterator]() {
      let previous = 0;
      for await (const m of feed) {
        const delivery = m.info.deliverySequence;
        if (m.redelivered || (previous > 0 && delivery !== previous + 1)) {
          throw new StkError('STK_ERR_LOG_UNAVAILABLE', `a delivery of consumer ${name} of ${stream} went missing or came back late`, {
            stream,
            name,
            seq: m.seq,
            delivery,
            expected: previous + 1,
          });
        }
        previous = delivery;
        yield m;
      }
    },
    close: () => feed.close(),
    buffered: () => feed.buffered(),
  };
}

/** KV operations that go to the server, counted as `kv` calls. */
const KV_OPS = new Set(['get', 'put', 'create', 'update', 'delete', 'purge', 'keys', 'watch', 'history', 'status']);

/** `kv` with every operation that reaches the server counted. */
function countedBucket(kv: KV, calls: CallCounts): KV {
  return new Proxy(kv, {
    get(target, prop) {
      // The target as `this`, for getters and methods alike: the client's classes may use private state.
      const v = Reflect.get(target, prop, target);
      if (typeof v !== 'function') return v;
      if (typeof prop === 'string' && KV_OPS.has(prop)) {
        return (...args: unknown[]) => {
          calls.add('kv');
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return (v as (...a: unknown[]) => unknown).bind(target);
    },
  });
}

/** The store's facts about an object; its digest `SHA-256=<base64url>` as hex. */
function objectOf(i: { name: string; size: number; digest: string; mtime: string; headers?: { keys(): string[]; get(k: string): string } }): StoredObject {
  const b64 = i.digest.replace(/^SHA-256=/i, '');
  const out: Record<string, string> = {};
  for (const k of i.headers?.keys() ?? []) out[k] = i.headers!.get(k);
  return { name: i.name, size: i.size, sha256: Buffer.from(b64, 'base64url').toString('hex'), modifiedAt: i.mtime, headers: out };
}

function stored(m: StoredMsg | null): StoredMessage | null {
  return m ? { seq: m.seq, subject: m.subject, data: m.data, time: m.time, headers: m.header } : null;
}

function consumerState(c: ConsumerInfo): ConsumerState {
  return {
    name: c.name,
    description: c.config.description ?? '',
    ackFloor: c.ack_floor.stream_seq,
    pending: c.num_pending,
    ackPending: c.num_ack_pending,
    waiting: c.num_waiting,
  };
}

/** The smallest bound `ensureStreamWithin` goes down to. */
const MIN_BOUNDED_BYTES = 1024 * 1024;

/** The server has no room for the stream's reserved bytes (JetStream's "insufficient resources"). */
function isNoRoom(err: unknown): boolean {
  const inner = err instanceof StkError ? (err as { cause?: unknown }).cause : err;
  return (
    (inner instanceof JetStreamApiError && (inner.code === 10047 || inner.code === 10023)) ||
    /insufficient (storage )?resources/i.test(String((err as Error)?.message))
  );
}

/** "No suitable peers for placement" (10005): a cluster that does not know all its peers yet, or has lost some. */
function isNoPeers(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === 10005;
}

/** Retries `op` while `retry(err)` says so, for up to `budgetMs`, backing off from 50 to 500 ms. */
async function retryWhile<T>(op: () => Promise<T>, retry: (err: unknown) => boolean, budgetMs: number): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (let delay = 50; ; delay = Math.min(500, delay * 2)) {
    try {
      return await op();
    } catch (err) {
      if (!retry(err) || Date.now() + delay > deadline) throw err;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** A stream that does not exist yet (LEDGER before the first sealer start) reads as empty. */
export function isStreamNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound;
}

/**
 * The server's codes for a message delete of a sequence that is not (or no longer) stored:
 * 10057 "no message found" / "stream store EOF", 10043 "sequence N not found" (already erased).
 */
const MESSAGE_DELETE_FAILED = 10057;
const SEQUENCE_NOT_FOUND = 10043;

function isMessageNotFound(err: unknown): boolean {
  if (!(err instanceof JetStreamApiError)) return false;
  if (err.code === JetStreamApiCodes.NoMessageFound || err.code === SEQUENCE_NOT_FOUND) return true;
  return err.code === MESSAGE_DELETE_FAILED && /not found|no message|EOF/i.test(err.message);
}

function isConsumerNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound;
}

/** A JetStream failure as the catalogue's STK_ERR_LOG_UNAVAILABLE, keeping the cause. */
export function unavailable(err: unknown, what: string, data: Record<string, unknown> = {}): StkError {
  if (err instanceof StkError) return err;
  return new StkError('STK_ERR_LOG_UNAVAILABLE', `${what}: ${(err as Error)?.message ?? err}`, data, { cause: err });
}

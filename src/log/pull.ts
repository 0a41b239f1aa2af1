import { createInbox, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { StkError } from '../errors.ts';
import type { CallCounts } from './calls.ts';
import type { Consumption, Delivery, Headers } from './streams.ts';

/** How a feed reaches its consumer: a durable one by name, or an ordered one it (re)creates itself. */
export type PullTarget =
  | { kind: 'durable'; name: string }
  | {
      kind: 'ordered';
      /**
       * Creates an ack-less consumer and returns its name: from the caller's start when `after` is
       * null (nothing handed out yet), else from just after stream sequence `after`.
       */
      create(after: number | null): Promise<string>;
      /** Removes a consumer this feed made (best effort; the server drops it when idle anyway). */
      remove(name: string): Promise<unknown>;
    };

export interface PullSpec {
  nc: NatsConnection;
  stream: string;
  target: PullTarget;
  /** At most this many messages and this many bytes are asked for in one pull request. */
  batch: number;
  maxBytes: number;
  /** Lifetime of one pull request. */
  expiresMs: number;
  /** The server sends a heartbeat this often while a request waits; two missed mean the request is lost. */
  heartbeatMs: number;
  calls: CallCounts;
  /** Each delivery is handed to this as it arrives instead of being queued for iteration. */
  deliver?: (m: Delivery) => void;
}

const ACK = new TextEncoder().encode('+ACK');
const NAK = new TextEncoder().encode('-NAK');
/** Pause before asking again after the server refused a pull (limits, no responders, consumer gone). */
const REFUSED_RETRY_MS = 250;
/**
 * How long past its expiry a request is waited for before it is taken as ended. nats-server 2.9
 * drops an expired request without a word when a message arrives for it before its expiry timer
 * has run (later versions send the 408); waiting for heartbeats to go missing stalled a busy
 * reader for 5 s each time.
 */
const EXPIRY_GRACE_MS = 500;

/**
 * A reader of one JetStream consumer, pulling with a request of our own: `batch` messages and
 * `maxBytes` bytes in the same request (the JetStream API allows both; the client library takes
 * one or the other), with exactly one request in flight. A request ends when its count has
 * arrived, or with a status from the server (408: it expired; 409: the next message would pass
 * its bytes) — so what is in flight is always known, and the server never holds more than
 * `maxBytes` for this reader: a reader that is busy between messages cannot make nats-server cut
 * the connection as a slow consumer. The next request goes out once the previous one ended and
 * fewer than half a request's worth are waiting here, so a slow reader also bounds what this
 * process holds.
 *
 * An ordered feed creates its own ack-less consumer and recreates it from the last sequence it
 * handed out whenever a delivery is missing (its consumer sequence jumped), the consumer was
 * deleted, the connection came back, or two heartbeats were missed; a durable feed asks again in
 * those cases. Each pull request has its own reply subject, so a status of an earlier request
 * (one given up for lost) never ends the current one.
 */
export class PullFeed implements Consumption<Delivery> {
  /**
   * Requests taken as ended because their expiry passed without a word from the server, and
   * requests given up because two heartbeats went missing (a consumer lost with its server, a
   * reconnect); ordered feeds also count the consumers they made again.
   */
  readonly stats = { silentExpiries: 0, lost: 0, resets: 0 };
  readonly #o: PullSpec;
  readonly #heartbeatMs: number;
  readonly #prefix = createInbox();
  #sub: Subscription | null = null;
  #consumer = '';
  /** Reply subject of the request in flight, and the messages it may still bring; null when none is. */
  #request: { reply: string; left: number } | null = null;
  #expiry: NodeJS.Timeout | null = null;
  #serial = 0;
  /** Ordered: the consumer sequence expected next, and the last stream sequence handed out (null: none yet). */
  #nextDelivery = 1;
  #after: number | null = null;
  #resetting = false;
  #lastHeard = Date.now();
  #lastTick = Date.now();
  #timer: NodeJS.Timeout | null = null;
  #retry: NodeJS.Timeout | null = null;
  /** Refusals in a row (the pause before asking again doubles with each). */
  #refusals = 0;
  #disconnected = false;
  #status: { stop(): void } | null = null;
  readonly #queue: Delivery[] = [];
  #head = 0;
  #wake: (() => void) | null = null;
  #done = false;
  #error: Error | undefined;
  readonly #closed: Promise<Error | undefined>;
  #settle!: (err: Error | undefined) => void;

  private constructor(o: PullSpec) {
    this.#o = o;
    this.#heartbeatMs = Math.min(o.heartbeatMs, Math.floor(o.expiresMs / 2));
    this.#closed = new Promise((resolve) => {
      this.#settle = resolve;
    });
  }

  /** Starts reading (an ordered feed creates its consumer first; that failing is this call's failure). */
  static async open(o: PullSpec): Promise<PullFeed> {
    const feed = new PullFeed(o);
    feed.#consumer = o.target.kind === 'durable' ? o.target.name : await feed.#create();
    feed.#start();
    return feed;
  }

  #start(): void {
    this.#sub = this.#o.nc.subscribe(`${this.#prefix}.*`, { callback: (err, msg) => (err ? this.#stop(err) : this.#receive(msg)) });
    this.#timer = setInterval(() => this.#tick(), this.#heartbeatMs);
    this.#timer.unref();
    void this.#watchConnection();
    this.#pull();
  }

  async #create(): Promise<string> {
    const target = this.#o.target;
    if (target.kind !== 'ordered') return target.name;
    this.#o.calls.add('consumer_create');
    const name = await target.create(this.#after);
    this.#nextDelivery = 1;
    return name;
  }

  /** Sends the next pull request when none is in flight and little is waiting to be read. */
  #pull(): void {
    if (this.#done || this.#resetting || this.#request || this.#retry) return;
    const waiting = this.#queue.length - this.#head;
    if (waiting * 2 > this.#o.batch) return;
    const reply = `${this.#prefix}.${++this.#serial}`;
    const request = { reply, left: this.#o.batch };
    this.#request = request;
    if (this.#expiry) clearTimeout(this.#expiry);
    this.#expiry = setTimeout(() => {
      this.#expiry = null;
      if (this.#request !== request) return;
      this.stats.silentExpiries++;
      this.#request = null;
      this.#pull();
    }, this.#o.expiresMs + EXPIRY_GRACE_MS);
    this.#expiry.unref();
    this.#lastHeard = Date.now();
    this.#o.calls.add('pull');
    const body = JSON.stringify({
      batch: this.#o.batch,
      max_bytes: this.#o.maxBytes,
      expires: this.#o.expiresMs * 1_000_000,
      idle_heartbeat: this.#heartbeatMs * 1_000_000,
    });
    try {
      this.#o.nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${this.#o.stream}.${this.#consumer}`, body, { reply });
    } catch (err) {
      this.#stop(err);
    }
  }

  /** Asks again after a pause that grows with each refusal in a row, up to a heartbeat period. */
  #pullLater(): void {
    this.#request = null;
    if (this.#retry || this.#done) return;
    const delay = Math.min(this.#heartbeatMs, REFUSED_RETRY_MS * 2 ** Math.min(this.#refusals++, 6));
    this.#retry = setTimeout(() => {
      this.#retry = null;
      this.#pull();
    }, delay);
  }

  #receive(msg: Msg): void {
    if (this.#done) return;
    const reply = msg.reply;
    if (reply?.startsWith('$JS.ACK.')) {
      this.#lastHeard = Date.now();
      this.#message(msg, reply);
      return;
    }
    // A status: only the current request's speak for it (an earlier one's end is old news).
    if (!this.#request || msg.subject !== this.#request.reply) return;
    this.#lastHeard = Date.now();
    const code = msg.headers?.code ?? 0;
    const description = (msg.headers?.description ?? '').toLowerCase();
    if (code === 100) return; // idle heartbeat: the request is alive
    if (code === 409 && description.includes('maxbytes') && this.#request.left === this.#o.batch) {
      // Not even one message fits a whole request: asking again would be refused forever.
      this.#stop(new StkError('STK_ERR_LOG_UNAVAILABLE', `a message of ${this.#o.stream} is larger than a pull may bring (${this.#o.maxBytes} bytes)`));
      return;
    }
    if (code === 404 || code === 408 || (code === 409 && description.includes('maxbytes'))) {
      this.#request = null;
      this.#pull();
      return;
    }
    if (code === 400) {
      this.#stop(new StkError('STK_ERR_LOG_UNAVAILABLE', `pull request of ${this.#consumer} on ${this.#o.stream} refused: ${code} ${description}`));
      return;
    }
    // Consumer deleted, no responders (its stream or consumer has no leader), limits exceeded,
    // leadership changed: this request is over; an ordered feed starts a consumer of its own again.
    if (this.#o.target.kind === 'ordered' && (code === 503 || description.includes('deleted'))) this.#reset();
    else this.#pullLater();
  }

  #message(msg: Msg, reply: string): void {
    const d = new PullDelivery(msg, reply, this.#o.target.kind === 'durable' ? this.#o.calls : null);
    this.#refusals = 0;
    if (this.#o.target.kind === 'ordered') {
      // A delivery of a consumer this feed has replaced (or is replacing: the new one starts after
      // what was handed out when the replacing began) is dropped; a gap means one went missing.
      if (this.#resetting || d.consumer !== this.#consumer) return;
      if (d.info.deliverySequence !== this.#nextDelivery) {
        this.#reset();
        return;
      }
      this.#nextDelivery++;
      this.#after = d.seq;
    }
    if (this.#request && --this.#request.left <= 0) this.#request = null;
    if (this.#o.deliver) {
      try {
        this.#o.deliver(d);
      } catch (err) {
        this.#stop(err);
        return;
      }
    } else {
      this.#queue.push(d);
      this.#wakeReader();
    }
    this.#pull();
  }

  /** An ordered feed's consumer is replaced by one starting after the last sequence handed out. */
  #reset(): void {
    if (this.#resetting || this.#done || this.#o.target.kind !== 'ordered') return;
    const target = this.#o.target;
    const old = this.#consumer;
    this.stats.resets++;
    this.#resetting = true;
    this.#request = null;
    this.#o.calls.add('consumer_delete');
    void target.remove(old).catch(() => {});
    this.#create().then(
      (name) => {
        this.#consumer = name;
        this.#resetting = false;
        this.#pull();
      },
      (err: unknown) => this.#stop(err),
    );
  }

  /** Every heartbeat period: a request that has heard nothing for two heartbeats is lost. */
  #tick(): void {
    const now = Date.now();
    // A tick that comes late ran after this process was busy: what arrived meanwhile is still unread.
    const late = now - this.#lastTick > this.#heartbeatMs * 1.5;
    this.#lastTick = now;
    if (late || this.#disconnected) {
      this.#lastHeard = now;
      return;
    }
    if (this.#request && now - this.#lastHeard > this.#heartbeatMs * 2) this.#lost();
  }

  #lost(): void {
    this.stats.lost++;
    if (this.#o.target.kind === 'ordered') this.#reset();
    else {
      this.#request = null;
      this.#pull();
    }
  }

  /**
   * Heartbeats are not expected while disconnected; after a reconnect the request in flight may
   * be gone with the old connection (an ordered consumer with its server), so it is made again.
   */
  async #watchConnection(): Promise<void> {
    // The client's iterator has `stop()`, which its type does not say.
    const status = this.#o.nc.status() as AsyncIterable<{ type: string }> & { stop(): void };
    this.#status = status;
    for await (const s of status) {
      if (this.#done) break;
      if (s.type === 'disconnect') this.#disconnected = true;
      else if (s.type === 'reconnect') {
        this.#disconnected = false;
        this.#lost();
      } else if (s.type === 'close') this.#stop(undefined);
    }
  }

  #wakeReader(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  #stop(err: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#error = err === undefined ? undefined : err instanceof Error ? err : new Error(String(err));
    this.#sub?.unsubscribe();
    if (this.#timer) clearInterval(this.#timer);
    if (this.#retry) clearTimeout(this.#retry);
    if (this.#expiry) clearTimeout(this.#expiry);
    this.#status?.stop();
    if (this.#o.target.kind === 'ordered' && this.#consumer && !this.#o.nc.isClosed()) {
      this.#o.calls.add('consumer_delete');
      void this.#o.target.remove(this.#consumer).catch(() => {});
    }
    this.#wakeReader();
    this.#settle(this.#error);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Delivery> {
    try {
      for (;;) {
        if (this.#head < this.#queue.length) {
          const d = this.#queue[this.#head]!;
          this.#queue[this.#head++] = undefined as unknown as Delivery;
          if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
            this.#queue.splice(0, this.#head);
            this.#head = 0;
          }
          this.#pull();
          yield d;
          continue;
        }
        if (this.#done) {
          if (this.#error) throw this.#error;
          return;
        }
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
      }
    } finally {
      this.#stop(undefined);
    }
  }

  buffered(): number {
    return this.#queue.length - this.#head;
  }

  async close(): Promise<void> {
    this.#stop(undefined);
  }

  /** Settles when the feed has stopped: with the error that stopped it, or undefined when closed. */
  closed(): Promise<Error | undefined> {
    return this.#closed;
  }
}

/** A message handed out by a consumer, read off its reply subject (`$JS.ACK.…`). */
class PullDelivery implements Delivery {
  readonly msg: Msg;
  readonly #calls: CallCounts | null;
  readonly seq: number;
  readonly consumer: string;
  readonly redelivered: boolean;
  readonly info: { readonly deliverySequence: number; readonly pending: number };
  readonly #nanos: number;
  #answered = false;

  constructor(msg: Msg, reply: string, calls: CallCounts | null) {
    this.msg = msg;
    this.#calls = calls;
    // $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time ns>.<pending>, or
    // the longer form with a domain and an account hash after ACK (and a random token at the end).
    const t = reply.split('.');
    const at = t.length === 9 ? 2 : 4;
    this.consumer = t[at + 1]!;
    this.redelivered = Number(t[at + 2]) > 1;
    this.seq = Number(t[at + 3]);
    this.info = { deliverySequence: Number(t[at + 4]), pending: Number(t[at + 6]) };
    this.#nanos = Number(t[at + 5]);
  }

  get subject(): string {
    return this.msg.subject;
  }
  get data(): Uint8Array {
    return this.msg.data;
  }
  get time(): Date {
    return new Date(Math.floor(this.#nanos / 1_000_000));
  }
  get headers(): Headers | undefined {
    return this.msg.headers as MsgHdrs | undefined;
  }
  ack(): void {
    this.#answer(ACK);
  }
  nak(delayMs?: number): void {
    this.#answer(delayMs ? new TextEncoder().encode(`-NAK ${JSON.stringify({ delay: delayMs * 1_000_000 })}`) : NAK);
  }
  #answer(payload: Uint8Array): void {
    if (this.#answered) return;
    this.#answered = true;
    this.#calls?.add('ack');
    this.msg.respond(payload);
  }
}

import { createInbox, headers, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { JetStreamApiCodes } from '@nats-io/jetstream';
import { StkError } from '../errors.ts';

/** The server's acknowledgement of a JetStream publish. */
export interface Ack {
  seq: number;
  duplicate: boolean;
}

/** A JetStream publish the server refused; `apiCode` is the server's err_code (10071: wrong last sequence). */
export class PublishRefused extends Error {
  constructor(
    readonly apiCode: number,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'PublishRefused';
  }
}

/** How a JetStream publish is identified and conditioned. */
export interface PublishOptions {
  /** `Nats-Msg-Id`: a retry with the same id within the duplicate window stores nothing. */
  msgId: string;
  /** `Nats-Expected-Last-Subject-Sequence`: refused unless the subject's newest message is at this sequence. */
  expectedLastSubjectSequence?: number;
  headers?: Record<string, string>;
}

interface Pending {
  resolve: (a: Ack) => void;
  reject: (e: Error) => void;
  deadline: number;
}

/**
 * JetStream publishing over plain NATS publishes: one reply subscription for every append and a
 * table of pending acks, instead of a request (inbox entry, timer, error object) per publish.
 * The JavaScript client, not the server, limits JetStream publish throughput (shared/LIMITS.md);
 * this is the same protocol with about a third of the client work.
 */
export class AckPublisher {
  readonly #nc: NatsConnection;
  readonly #prefix: string;
  readonly #sub: Subscription;
  readonly #pending = new Map<number, Pending>();
  readonly #sweep: NodeJS.Timeout;
  readonly #timeoutMs: number;
  #next = 0;

  constructor(nc: NatsConnection, timeoutMs: number) {
    this.#nc = nc;
    this.#timeoutMs = timeoutMs;
    this.#prefix = createInbox();
    this.#sub = nc.subscribe(`${this.#prefix}.*`, { callback: (err, msg) => (err ? this.#failAll(err) : this.#onAck(msg)) });
    // One sweep for all deadlines: a timer per publish costs more than the publish itself.
    this.#sweep = setInterval(() => this.#expire(), Math.max(50, Math.min(500, timeoutMs / 4)));
    this.#sweep.unref();
  }

  /** Publishes `data` to `subject` and resolves with the stream's ack. */
  publish(subject: string, data: Uint8Array, o: PublishOptions): Promise<Ack> {
    const h = headers();
    h.set('Nats-Msg-Id', o.msgId);
    if (o.expectedLastSubjectSequence !== undefined) h.set('Nats-Expected-Last-Subject-Sequence', String(o.expectedLastSubjectSequence));
    if (o.headers) for (const k in o.headers) h.set(k, o.headers[k]!);
    const id = ++this.#next;
    return new Promise<Ack>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, deadline: Date.now() + this.#timeoutMs });
      try {
        this.#nc.publish(subject, data, { reply: `${this.#prefix}.${id}`, headers: h });
      } catch (err) {
        this.#pending.delete(id);
        reject(err as Error);
      }
    });
  }

  close(): void {
    clearInterval(this.#sweep);
    this.#sub.unsubscribe();
    this.#failAll(new StkError('STK_ERR_LOG_UNAVAILABLE', 'the publisher is closed'));
  }

  #onAck(msg: Msg): void {
    const id = Number(msg.subject.slice(this.#prefix.length + 1));
    const p = this.#pending.get(id);
    if (!p) return; // already timed out
    this.#pending.delete(id);
    if (msg.headers?.hasError) {
      // 503 without a body: no stream listens on the subject (or JetStream is down).
      p.reject(new PublishRefused(0, msg.headers.code, `no JetStream stream answered (${msg.headers.code} ${msg.headers.description})`));
      return;
    }
    let body: { seq?: number; duplicate?: boolean; error?: { code: number; err_code: number; description: string } };
    try {
      body = JSON.parse(new TextDecoder().decode(msg.data));
    } catch (err) {
      p.reject(err as Error);
      return;
    }
    if (body.error) p.reject(new PublishRefused(body.error.err_code, body.error.code, body.error.description));
    else p.resolve({ seq: body.seq!, duplicate: body.duplicate === true });
  }

  #expire(): void {
    const now = Date.now();
    for (const [id, p] of this.#pending) {
      if (p.deadline > now) break; // ids are issued in deadline order
      this.#pending.delete(id);
      p.reject(new StkError('STK_ERR_LOG_UNAVAILABLE', `no acknowledgement from JetStream within ${this.#timeoutMs} ms`, {}));
    }
  }

  #failAll(err: Error): void {
    for (const [id, p] of this.#pending) {
      this.#pending.delete(id);
      p.reject(err);
    }
  }
}

/** True when the server refused a conditional publish because the subject moved on (a lost race). */
export function isWrongLastSequence(err: unknown): boolean {
  return (
    err instanceof PublishRefused &&
    (err.apiCode === JetStreamApiCodes.StreamWrongLastSequence || err.apiCode === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

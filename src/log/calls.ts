/**
 * What a door asks of JetStream, by kind. Every operation of `Streams` counts here as it goes to
 * the server, so the work a request costs the bus can be read off `/metrics`
 * (`stockade_jetstream_calls_total{op}`) and the load bench can divide it by the requests served.
 */
export const CALL_KINDS = [
  /** A message published with acknowledgement (an append, a block, a KV-less publish). */
  'publish',
  /** An acknowledgement of a durable consumer's delivery (ack or nak). */
  'ack',
  /** A pull request of a consumer (durable or ordered): what keeps a reader fed. */
  'pull',
  /** One stored message read by sequence or by last subject (`STREAM.MSG.GET`). */
  'msg_get',
  'stream_info',
  'stream_create',
  'consumer_info',
  'consumer_create',
  'consumer_delete',
  'consumer_list',
  /** A key-value operation (get, put, create, update, delete, keys, watch). */
  'kv',
  /** An object store operation (put, get, info). */
  'object',
  'account_info',
] as const;

export type CallKind = (typeof CALL_KINDS)[number];

/** Counters of JetStream calls; shared by a door and the doors made from it (`withTimeout`). */
export class CallCounts {
  readonly #n: Record<CallKind, number> = Object.fromEntries(CALL_KINDS.map((k) => [k, 0])) as Record<CallKind, number>;

  add(kind: CallKind, n = 1): void {
    this.#n[kind] += n;
  }

  /** A copy of every counter. */
  snapshot(): Record<CallKind, number> {
    return { ...this.#n };
  }

  /** The sum of every counter. */
  get total(): number {
    let t = 0;
    for (const k of CALL_KINDS) t += this.#n[k];
    return t;
  }
}

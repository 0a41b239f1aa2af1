import type { Consumption, Delivery } from './streams.ts';
import { Watchdog } from './watchdog.ts';

/** What `eachArriving` is given: a range of one stream and how to read it. */
export interface ArrivingRead {
  stream: string;
  /** First and last sequence of the range (the end fixed when the scan started). */
  from: number;
  to: number;
  idleMs: number;
  /** Opens an ordered consumer from `from` that hands each message to `deliver` as it arrives. */
  open(deliver: (m: Delivery) => void): Promise<Consumption<Delivery> & { closed(): Promise<unknown> }>;
  /** Whether the stream's leader holds a match newer than `after` (see `Streams.scan`). */
  moreAfter(after: number): Promise<boolean>;
  each(m: Delivery): void | Promise<void>;
}

/** How far `eachArriving` got: messages handed out, the next sequence to read, and whether the range is done. */
export interface ArrivingResult {
  n: number;
  next: number;
  done: boolean;
}

type Stop = { kind: 'end' } | { kind: 'paced'; m: Delivery; pending: Promise<void> } | { kind: 'check'; m: Delivery } | { kind: 'ended' };

/**
 * The first part of `Streams.scanEach`: messages are handed to `each` inside the client's socket
 * callback, with no promise and no async iterator step per message — on a pass over every record
 * (verify) that was a third of the read's CPU. It keeps the scan's rules (strictly increasing
 * sequences, the end fixed at the start, an end asked of the leader when the consumer says nothing
 * is pending, idleness an error). A consumer fed by callbacks pulls on whatever is read, so it only
 * suits callbacks that keep up: the first time `each` returns a promise this part stops and
 * returns `done: false` with the next sequence, for the caller to read the rest paced by `each`;
 * likewise when the consumer stops on its own.
 */
export async function eachArriving(o: ArrivingRead): Promise<ArrivingResult> {
  let n = 0;
  let next = o.from;
  let running = true;
  let stop!: (s: Stop) => void;
  let fail!: (err: unknown) => void;
  const stopped = new Promise<Stop>((resolve, reject) => {
    stop = (s) => {
      running = false;
      resolve(s);
    };
    fail = (err) => {
      running = false;
      reject(err);
    };
  });
  let watchdog: Watchdog | null = null;
  const deliver = (m: Delivery): void => {
    if (!running) return;
    watchdog?.progress();
    const seq = m.seq;
    // An ordered consumer recreated after a failover can hand a sequence out again.
    if (seq < next) return;
    if (seq > o.to) {
      stop({ kind: 'end' });
      return;
    }
    next = seq + 1;
    n++;
    let pending: ReturnType<ArrivingRead['each']>;
    try {
      pending = o.each(m);
    } catch (err) {
      fail(err);
      return;
    }
    if (pending) stop({ kind: 'paced', m, pending });
    else if (seq >= o.to) stop({ kind: 'end' });
    else if (m.info.pending === 0) stop({ kind: 'check', m });
  };
  const feed = await o.open(deliver);
  watchdog = new Watchdog(o.idleMs, () => {
    try {
      watchdog?.check(o.stream);
    } catch (err) {
      fail(err);
    }
  });
  void feed.closed().then(
    (err) => (err ? fail(err) : stop({ kind: 'ended' })),
    (err: unknown) => fail(err),
  );
  let s: Stop;
  try {
    s = await stopped;
  } finally {
    watchdog.stop();
    await feed.close();
  }
  const endsAt = async (m: Delivery): Promise<boolean> => m.seq >= o.to || (m.info.pending === 0 && !(await o.moreAfter(m.seq)));
  switch (s.kind) {
    case 'end':
      return { n, next, done: true };
    case 'ended':
      return { n, next, done: next > o.to };
    case 'check':
      return { n, next, done: await endsAt(s.m) };
    case 'paced':
      await s.pending;
      return { n, next, done: await endsAt(s.m) };
  }
}

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
  each(m: Delivery): ReturnType<EachFn>;
  /** Messages that arrive before this settles are kept (at most `holdMax` of them and `holdMaxBytes` of bodies) and handed out once it has. */
  hold?: Promise<unknown>;
  holdMax?: number;
  holdMaxBytes?: number;
}

type EachFn = (m: Delivery) => undefined | Promise<void>;

/** How far `eachArriving` got: messages handed out, the next sequence to read, and how it stopped. */
export interface ArrivingResult {
  n: number;
  next: number;
  /** `done`: the range is read; `paced`: a callback returned a promise; `again`: the consumer stopped (or was stopped when the hold was full) before the end. */
  how: 'done' | 'paced' | 'again';
}

type Stop = { kind: 'end' } | { kind: 'paced'; m: Delivery; pending: Promise<void> } | { kind: 'check'; m: Delivery } | { kind: 'ended' };

/**
 * Part of `Streams.scanEach`: messages are handed to `each` inside the client's socket callback,
 * with no promise and no async iterator step per message — on a pass over every record (verify)
 * that was a third of the read's CPU. It keeps the scan's rules (strictly increasing sequences,
 * the end fixed at the start, an end asked of the leader when the consumer says nothing is
 * pending, idleness an error). A consumer fed by callbacks pulls on whatever is read, so it only
 * suits callbacks that keep up: the first time `each` returns a promise this part stops (`paced`),
 * for the caller to read the rest paced by `each`. With `hold`, the read starts at once and what
 * arrives is kept until `hold` settles; past `holdMax` messages (or `holdMaxBytes`) the consumer is closed (`again`
 * once the kept ones are handed out), so a hold never costs more memory than that.
 */
export async function eachArriving(o: ArrivingRead): Promise<ArrivingResult> {
  let n = 0;
  let next = o.from;
  let running = true;
  let held: Delivery[] | null = o.hold ? [] : null;
  let heldBytes = 0;
  let full = false;
  let feedGone = false;
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
  const handle = (m: Delivery): void => {
    const seq = m.seq;
    // An ordered consumer recreated after a failover can hand a sequence out again.
    if (seq < next) return;
    if (seq > o.to) {
      stop({ kind: 'end' });
      return;
    }
    next = seq + 1;
    n++;
    let pending: ReturnType<EachFn>;
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
  let feed: Awaited<ReturnType<ArrivingRead['open']>> | null = null;
  const deliver = (m: Delivery): void => {
    if (!running) return;
    if (held) {
      if (full) return;
      held.push(m);
      heldBytes += m.data.byteLength;
      if (held.length >= (o.holdMax ?? Number.POSITIVE_INFINITY) || heldBytes >= (o.holdMaxBytes ?? Number.POSITIVE_INFINITY)) {
        full = true;
        void feed?.close();
      }
      return;
    }
    watchdog?.progress();
    handle(m);
  };
  feed = await o.open(deliver);
  void feed.closed().then(
    (err) => {
      if (err) fail(err);
      else if (held) feedGone = true;
      else stop({ kind: 'ended' });
    },
    (err: unknown) => fail(err),
  );
  let s: Stop;
  try {
    if (o.hold) {
      await Promise.race([o.hold, stopped]);
      const kept = held ?? [];
      held = null;
      for (const m of kept) {
        if (!running) break;
        handle(m);
      }
      if (running && (full || feedGone)) stop({ kind: 'ended' });
    }
    // The watchdog starts with the reading proper: a hold is the caller's time, not the stream's.
    watchdog = new Watchdog(o.idleMs, () => {
      try {
        watchdog?.check(o.stream);
      } catch (err) {
        fail(err);
      }
    });
    s = await stopped;
  } finally {
    watchdog?.stop();
    await feed.close();
  }
  const endsAt = async (m: Delivery): Promise<boolean> => m.seq >= o.to || (m.info.pending === 0 && !(await o.moreAfter(m.seq)));
  switch (s.kind) {
    case 'end':
      return { n, next, how: 'done' };
    case 'ended':
      return { n, next, how: next > o.to ? 'done' : 'again' };
    case 'check':
      return { n, next, how: (await endsAt(s.m)) ? 'done' : 'again' };
    case 'paced':
      await s.pending;
      return { n, next, how: (await endsAt(s.m)) ? 'done' : 'paced' };
  }
}

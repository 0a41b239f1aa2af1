import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Backoff, jitteredDelayMs, parseRetryAfterMs, Scheduler, type Timers } from '../../src/agent/mod.ts';

const test = suite('agent: scheduler and back-off');

/** Timers that fire only when the test says so: time is data here, not a wait. */
class ManualTimers implements Timers {
  next = 1;
  armed = new Map<number, { fn: () => void; ms: number }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.armed.set(id, { fn, ms });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.armed.delete(handle as number);
  }
  /** Fires the one armed timer (asserting there is exactly one) and returns the delay it was armed with. */
  fireOnly(): number {
    assert.is(this.armed.size, 1, `expected one armed timer, found ${this.armed.size}`);
    const [id, t] = [...this.armed][0]!;
    this.armed.delete(id);
    t.fn();
    return t.ms;
  }
}

/** A task whose runs the test completes by hand. */
function gatedTask(name: string, intervalMs: number) {
  const runs: Array<() => void> = [];
  let started = 0;
  return {
    get started() {
      return started;
    },
    finish(i: number) {
      runs[i]!();
    },
    task: {
      name,
      intervalMs,
      run: () =>
        new Promise<void>((res) => {
          started++;
          runs.push(res);
        }),
    },
  };
}

const settle = () => new Promise((res) => setImmediate(res));

test('jitter stays within ±ratio of the interval', () => {
  assert.is(
    jitteredDelayMs(10_000, 0.1, () => 0),
    9_000,
  );
  assert.is(
    jitteredDelayMs(10_000, 0.1, () => 0.5),
    10_000,
  );
  assert.is(
    jitteredDelayMs(10_000, 0.1, () => 0.999999),
    11_000,
  );
  assert.is(
    jitteredDelayMs(100, 2, () => 0),
    0,
    'never negative',
  );
});

test('a task runs after a jittered start, never overlaps itself, and times its next run from the end of the last', async () => {
  const timers = new ManualTimers();
  const s = new Scheduler({ timers, random: () => 0.5, jitterRatio: 0.2 });
  const g = gatedTask('processes', 60_000);
  s.add(g.task);
  assert.is(timers.armed.size, 0, 'nothing armed before start');
  s.start();
  assert.is(timers.fireOnly(), 6_000, 'first run after half of the 20 % start spread');
  assert.is(g.started, 1);
  assert.is(timers.armed.size, 0, 'no timer while the run is in progress: no overlap');
  assert.is(s.tasks()[0]!.running, true);
  const now = s.runNow('processes'); // a run in progress answers for "run now": no second run
  assert.is(g.started, 1);
  g.finish(0);
  await now;
  await settle();
  assert.is(timers.fireOnly(), 60_000);
  assert.is(g.started, 2);
  g.finish(1);
  await settle();
  // A new interval from the ingress's config re-arms the waiting timer.
  s.setInterval('processes', 30_000);
  assert.is(timers.fireOnly(), 30_000);
  g.finish(2);
  await settle();
  const stopped = s.stop();
  await stopped;
  assert.is(timers.armed.size, 0, 'stop disarms');
});

test('a failing task is reported and keeps its schedule; stop waits for runs in progress', async () => {
  const timers = new ManualTimers();
  const errors: Array<[string, string]> = [];
  const s = new Scheduler({ timers, random: () => 0, onError: (name, err) => errors.push([name, (err as Error).message]) });
  let calls = 0;
  s.add({
    name: 'accounts',
    intervalMs: 1000,
    run: async () => {
      calls++;
      throw new Error('shadow unreadable');
    },
  });
  s.start();
  timers.fireOnly();
  await settle();
  assert.equal(errors, [['accounts', 'shadow unreadable']]);
  assert.is(timers.fireOnly(), 900, 'rescheduled after the failure');
  await settle();
  assert.is(calls, 2);

  const g = gatedTask('connections', 1000);
  s.add(g.task);
  await s.stop();
  s.start();
  timers.armed.clear();
  const run = s.runNow('connections');
  let stopDone = false;
  const stopping = s.stop().then(() => {
    stopDone = true;
  });
  await settle();
  assert.is(stopDone, false, 'stop waits for the run in progress');
  g.finish(0);
  await run;
  await stopping;
  assert.is(stopDone, true);
  assert.is(timers.armed.size, 0, 'a run that ends after stop does not re-arm');
});

test('Retry-After: seconds or an HTTP date; absent or unreadable is null', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  assert.is(parseRetryAfterMs('120', now), 120_000);
  assert.is(parseRetryAfterMs(' 0 ', now), 0);
  assert.is(parseRetryAfterMs('Wed, 01 Jan 2025 00:00:30 GMT', now), 30_000);
  assert.is(parseRetryAfterMs('Wednesday, 01-Jan-25 00:00:30 GMT', now), 30_000, 'the obsolete RFC 850 form');
  assert.is(parseRetryAfterMs('Tue, 31 Dec 2024 00:00:00 GMT', now), 0, 'a date in the past means now');
  assert.is(parseRetryAfterMs('soon', now), null);
  assert.is(parseRetryAfterMs(undefined, now), null);
  assert.is(parseRetryAfterMs('-5', now), null);
});

test('back-off honours Retry-After on 429/503, grows exponentially otherwise, is capped, and resets on success', () => {
  const b = new Backoff({ baseMs: 1000, maxMs: 16_000, maxRetryAfterMs: 60_000, random: () => 1 });
  assert.is(b.fail({ status: 503, retryAfter: '7' }), 7_000);
  assert.is(b.fail({ status: 429, retryAfter: '3600' }), 60_000, 'an absurd Retry-After is capped');
  assert.is(b.fail({ status: 500, retryAfter: '7' }), 4_000, 'Retry-After counts only on 429 and 503');
  assert.is(b.fail({ status: 0 }), 8_000);
  assert.is(b.fail({ status: 503 }), 16_000, 'a 503 without Retry-After backs off');
  assert.is(b.fail({ status: 0 }), 16_000, 'capped');
  assert.is(b.failures, 6);
  b.succeed();
  assert.is(b.fail({ status: 0 }), 1_000);
  const low = new Backoff({ baseMs: 1000, random: () => 0 });
  low.fail({ status: 0 });
  assert.is(low.fail({ status: 0 }), 1_000, 'equal jitter: never below half the exponential delay');
});

test.run();

/** Timer functions; tests pass their own so they decide when time passes. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** A collector (or any periodic job) the scheduler runs. */
export interface ScheduledTask {
  name: string;
  intervalMs: number;
  run(): Promise<void>;
}

/** Options of a scheduler. */
export interface SchedulerOptions {
  /** Each delay is the interval ± this share of it. @defaultValue 0.1 */
  jitterRatio?: number;
  /** [0, 1) source for jitter. @defaultValue Math.random */
  random?: () => number;
  timers?: Timers;
  /** A run that throws is reported here; the task keeps its schedule. */
  onError?: (name: string, err: unknown) => void;
}

/** `intervalMs` moved by up to ±`jitterRatio` of itself, never below 0. */
export function jitteredDelayMs(intervalMs: number, jitterRatio: number, random: () => number): number {
  return Math.max(0, Math.round(intervalMs * (1 + jitterRatio * (2 * random() - 1))));
}

interface Slot {
  task: ScheduledTask;
  timer: unknown;
  running: Promise<void> | null;
}

/**
 * Runs tasks on their intervals with jitter, each one never overlapping itself: the next run is
 * timed from the end of the last, so a slow scan stretches the period instead of piling up. The
 * first run of a task comes after a random share of `jitterRatio · interval`, so agents started
 * together (a fleet rebooted by one change) spread their first reports.
 */
export class Scheduler {
  readonly jitterRatio: number;
  readonly #random: () => number;
  readonly #timers: Timers;
  readonly #onError: (name: string, err: unknown) => void;
  readonly #slots = new Map<string, Slot>();
  #started = false;

  constructor(o: SchedulerOptions = {}) {
    this.jitterRatio = o.jitterRatio ?? 0.1;
    this.#random = o.random ?? Math.random;
    this.#timers = o.timers ?? realTimers;
    this.#onError = o.onError ?? (() => undefined);
  }

  /** Adds (or replaces) a task; scheduled at once when the scheduler runs. */
  add(task: ScheduledTask): void {
    this.remove(task.name);
    const slot: Slot = { task: { ...task }, timer: null, running: null };
    this.#slots.set(task.name, slot);
    if (this.#started) this.#arm(slot, this.#random() * this.jitterRatio * task.intervalMs);
  }

  /** Removes a task (a run in progress finishes). */
  remove(name: string): void {
    const slot = this.#slots.get(name);
    if (!slot) return;
    if (slot.timer !== null) this.#timers.clearTimeout(slot.timer);
    this.#slots.delete(name);
  }

  /** Changes a task's interval (a new config from the ingress); a waiting timer is re-armed with it. */
  setInterval(name: string, intervalMs: number): void {
    const slot = this.#slots.get(name);
    if (!slot) return;
    slot.task.intervalMs = intervalMs;
    if (slot.timer !== null) {
      this.#timers.clearTimeout(slot.timer);
      this.#arm(slot, jitteredDelayMs(intervalMs, this.jitterRatio, this.#random));
    }
  }

  /** The names of the tasks and their intervals. */
  tasks(): Array<{ name: string; intervalMs: number; running: boolean }> {
    return [...this.#slots.values()].map((s) => ({ name: s.task.name, intervalMs: s.task.intervalMs, running: s.running !== null }));
  }

  /** Starts every task's schedule. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    for (const slot of this.#slots.values()) this.#arm(slot, this.#random() * this.jitterRatio * slot.task.intervalMs);
  }

  /** Runs a task now unless it is running already (then that run is the answer). */
  runNow(name: string): Promise<void> {
    const slot = this.#slots.get(name);
    if (!slot) return Promise.resolve();
    if (slot.running) return slot.running;
    if (slot.timer !== null) this.#timers.clearTimeout(slot.timer);
    slot.timer = null;
    return this.#run(slot);
  }

  /** Stops all schedules and waits for the runs in progress. */
  async stop(): Promise<void> {
    this.#started = false;
    for (const slot of this.#slots.values()) {
      if (slot.timer !== null) this.#timers.clearTimeout(slot.timer);
      slot.timer = null;
    }
    await Promise.all([...this.#slots.values()].map((s) => s.running));
  }

  #arm(slot: Slot, delayMs: number): void {
    slot.timer = this.#timers.setTimeout(() => {
      slot.timer = null;
      void this.#run(slot);
    }, delayMs);
  }

  #run(slot: Slot): Promise<void> {
    slot.running = (async () => {
      try {
        await slot.task.run();
      } catch (err) {
        this.#onError(slot.task.name, err);
      } finally {
        slot.running = null;
        // Still scheduled and still this task (not removed or replaced meanwhile): time the next run.
        if (this.#started && this.#slots.get(slot.task.name) === slot && slot.timer === null)
          this.#arm(slot, jitteredDelayMs(slot.task.intervalMs, this.jitterRatio, this.#random));
      }
    })();
    return slot.running;
  }
}

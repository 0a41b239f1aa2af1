/**
 * One partition of the detector: the partition's TELEMETRY (every item evaluated against its
 * tenant's rules) and its EVENTS (agent health, host isolation, settings changes, and the outbox's
 * alerts and deliveries), each through a durable consumer, and a tick that brings what time says
 * (silence, certificate expiry, quiet hours ending, retries due).
 *
 * Positions, and why nothing is lost or doubled by a crash:
 * - TELEMETRY: the consumer is acked (ack-all) after a batch's alerts are written; a restart
 *   re-delivers from the ack floor, and the alert writer counts a sequence at most once.
 * - EVENTS: state derived from it is checkpointed in KV with the sequence it reflects; a restart
 *   re-points the consumer there and reads on. What it writes is idempotent (derived ids, counted
 *   sequences, numbered attempts).
 */
import { COMMAND, type CommandCompleted, type CommandDispatched, CommandEvents } from '../../commands/agent-commands/events.ts';
import { AGENT } from '../../commands/agents/events.ts';
import type { MatchRef } from '../../commands/alerts/decider.ts';
import type { EvidenceStream } from '../../commands/alerts/events.ts';
import { isValidId } from '../ids.ts';
import {
  caughtUp as isCaughtUp,
  type Bucket,
  type Consumption,
  commitsOf,
  type Delivery,
  EVENT_PARTITIONS,
  EVENTS_STREAM,
  type EventLog,
  type LogRecord,
  partitionFilter,
  type Streams,
} from '../log/mod.ts';
import type { Logger } from '../logger.ts';
import type { TransportOptions } from '../notify/deliver.ts';
import { Outbox, type OutboxState } from '../notify/outbox.ts';
import type { RetryPolicy } from '../notify/retry.ts';
import type { SecretBox } from '../notify/secrets.ts';
import { telemetryBatchId, telemetryItemId } from '../telemetry/ids.ts';
import { BATCH_HEADER, INDEX_HEADER, TELEMETRY_STREAM, telemetryPartitionFilter } from '../telemetry/stream.ts';
import { AgentBook, type AgentHealth, type Derived } from './agents.ts';
import type { AlertWriter, GroupMatches } from './alert-writer.ts';
import { readCheckpoint, writeCheckpoint } from './checkpoint.ts';
import { evaluate, type Ruleset } from './evaluate.ts';
import { groupKey } from './group.ts';
import type { HostIsolationRecord } from './records.ts';
import { TenantRules } from './tenant-rules.ts';
import type { Match, Rule } from './types.ts';

/** Durable consumers of partition p: every worker that ever owns p continues these. */
export const detectorConsumers = (p: number): { events: string; telemetry: string } => ({
  events: `stk-detector-ev-p${p}`,
  telemetry: `stk-detector-tm-p${p}`,
});

export interface PartitionWorkerOptions {
  partition: number;
  log: EventLog;
  streams: Streams;
  /** The `stk-detector` bucket: checkpoints and group pointers. */
  kv: Bucket;
  pack: readonly Rule[];
  writer: AlertWriter;
  box: SecretBox;
  transport: TransportOptions;
  retryPolicy?: RetryPolicy;
  /** Milliseconds since the epoch. */
  clock: () => number;
  /** An agent not heard from for this long is silent. */
  silenceMs: number;
  /** Ticks on a timer every tickMs; 0: the owner calls `tick()` (tests with their own clock). */
  tickMs: number;
  /** A checkpoint is written at most this often (and on stop). */
  checkpointMs: number;
  /** Checkpoint text written per second on average, at most: a large book is written less often. @defaultValue CHECKPOINT_CHARS_PER_S */
  checkpointCharsPerS?: number;
  /** Items read before a TELEMETRY batch's alerts are written and the batch acked. @defaultValue 5000 */
  telemetryBatch?: number;
  /**
   * EVENTS come from the Detector's one consumer of the whole stream (`takeEvent`), not from a
   * consumer of this partition: the worker's place in EVENTS is its checkpoint's.
   */
  sharedEvents?: boolean;
  logger: Logger;
}

/** Counters for metrics, benchmarks and tests. */
export interface DetectorCounters {
  items: number;
  matches: number;
  raised: number;
  counted: number;
  records: number;
}

interface CheckpointState {
  /** EVENTS records up to here were read on a first start to learn the agents: no alert, no message for them. */
  baseline: number;
  agents: Record<string, Record<string, AgentHealth>>;
  outbox: OutboxState;
}

const decoder = new TextDecoder();
/**
 * Checkpoint text a partition writes per second on average, at most: 256 Ki characters across the
 * 16 partitions. An agent is ~365 characters of it, so a book of up to ~3,600 agents is written
 * every 5 s; 50,000 agents (18 MB) about once a minute instead of 3.6 MB/s.
 */
export const CHECKPOINT_CHARS_PER_S = (256 * 1024) / EVENT_PARTITIONS;
const ISOLATION_ACTIONS: Record<string, HostIsolationRecord['state']> = { 'isolate-host': 'isolated', 'release-host': 'released' };

/** Matches of one batch, grouped as alerts group them. */
class Batch {
  readonly groups = new Map<string, GroupMatches>();
  size = 0;

  add(tenant: string, agentId: string, hostname: string | null, m: Match, stream: EvidenceStream, ref: MatchRef): void {
    const key = `${tenant}.${groupKey(m.ruleId, agentId, m.groupValues)}`;
    const g = this.groups.get(key);
    if (g) g.refs.push(ref);
    else this.groups.set(key, { tenant, agentId, hostname, match: m, stream, refs: [ref] });
  }
}

/** See the module comment. */
export class PartitionWorker {
  readonly partition: number;
  readonly counters: DetectorCounters = { items: 0, matches: 0, raised: 0, counted: 0, records: 0 };
  /** When (performance.now) the first TELEMETRY item arrived and the last batch was written: throughput figures. */
  readonly telemetryTiming = { firstItemMs: 0, lastFlushMs: 0 };
  readonly outbox: Outbox;
  readonly #o: PartitionWorkerOptions;
  readonly #rules: TenantRules;
  readonly #log: Logger;
  #book: AgentBook;
  #baseline = 0;
  #evPos = 0;
  #tmPos = 0;
  #eventsCaughtUp = false;
  #serial: Promise<unknown> = Promise.resolve();
  #feeds: Consumption<unknown>[] = [];
  #loops: Promise<void>[] = [];
  #timer: NodeJS.Timeout | null = null;
  #ticking: Promise<void> | null = null;
  #lastCheckpointMs = 0;
  /** The pause between checkpoints: `checkpointMs`, longer for a book too large to write that often. */
  #checkpointEveryMs: number;
  #checkpointedAt = -1;
  #waiters: Array<{ stream: 'events' | 'telemetry'; seq: number; resolve: () => void }> = [];
  #stopped = false;
  readonly #sources = new Map<string, { tenant: string; agentId: string } | null>();
  /** The first error that stopped a loop; the group restarts the worker. */
  failure: unknown = null;

  private constructor(o: PartitionWorkerOptions) {
    this.#o = o;
    this.#book = new AgentBook(o.silenceMs);
    this.#checkpointEveryMs = o.checkpointMs;
    this.partition = o.partition;
    this.#log = o.logger.child({ partition: o.partition });
    this.#rules = new TenantRules(o.log, o.pack, this.#log);
    this.outbox = new Outbox({
      log: o.log,
      box: o.box,
      transport: o.transport,
      ...(o.retryPolicy ? { policy: o.retryPolicy } : {}),
      clock: o.clock,
      hostnameOf: (t, a) => this.#book.hostnameOf(t, a),
      eager: true,
      logger: this.#log,
    });
  }

  /** Reads the checkpoint, points both consumers and starts reading. */
  static async start(o: PartitionWorkerOptions): Promise<PartitionWorker> {
    const w = new PartitionWorker(o);
    try {
      await w.#start();
    } catch (err) {
      await w.halt();
      throw err;
    }
    return w;
  }

  /** EVENTS and TELEMETRY sequences this worker has handled up to (in its partition). */
  get positions(): { events: number; telemetry: number } {
    return { events: this.#evPos, telemetry: this.#tmPos };
  }

  /**
   * With `sharedEvents`: one EVENTS record of this partition, in stream order (an older one than
   * the worker's place is skipped); `caughtUp` when it was the stream's last.
   */
  async takeEvent(record: LogRecord, caughtUp: boolean): Promise<void> {
    if (record.position > this.#evPos) {
      // Read for meaning: personal fields revealed (src/privacy), erased ones marked so.
      const revealed = await this.#o.log.reveal(record);
      await this.#serially(() => this.#apply(revealed));
      this.#evPos = record.position;
      this.counters.records++;
    }
    if (caughtUp) this.#eventsCaughtUp = true;
    this.#release('events', this.#evPos);
  }

  /**
   * With `sharedEvents`: every record up to `seq` has been handed over (none of them was of this
   * partition past the ones taken), so the worker's place moves there; `caughtUp` as in `takeEvent`.
   */
  async advanceTo(seq: number, caughtUp: boolean): Promise<void> {
    // After the records handed over before: a checkpoint never runs ahead of what is applied.
    await this.#serially(() => {
      if (seq > this.#evPos) this.#evPos = seq;
    });
    if (caughtUp) this.#eventsCaughtUp = true;
    this.#release('events', this.#evPos);
  }

  /** Resolves once the worker has handled its partition's EVENTS up to `seq`. */
  waitEvents(seq: number): Promise<void> {
    return this.#wait('events', seq);
  }

  /** Resolves once the worker has handled (and written the alerts of) its partition's TELEMETRY up to `seq`. */
  waitTelemetry(seq: number): Promise<void> {
    return this.#wait('telemetry', seq);
  }

  /**
   * What time says, at `nowMs` (the clock's by default): silence and certificate records once EVENTS
   * has been read to its end since the start, quiet hours ended, attempts due; a checkpoint when due.
   */
  tick(nowMs = this.#o.clock()): Promise<void> {
    const run = (this.#ticking ?? Promise.resolve()).then(() => this.#tick(nowMs));
    this.#ticking = run.catch(() => {});
    return run;
  }

  /** Stops reading, lets attempts in flight finish, writes a checkpoint. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    await Promise.all(this.#feeds.map((f) => f.close()));
    await Promise.allSettled(this.#loops);
    await this.#ticking?.catch(() => {});
    await this.outbox.close();
    await this.#checkpoint(true).catch((err: unknown) => this.#log.warn({ err }, 'cannot write the detector checkpoint on stop'));
  }

  /** Stops without a checkpoint: what a crash leaves behind (tests, and a worker that lost its lease). */
  async halt(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    await Promise.all(this.#feeds.map((f) => f.close()));
    await Promise.allSettled(this.#loops);
    await this.outbox.close();
  }

  async #start(): Promise<void> {
    const { streams, kv, partition } = this.#o;
    const names = detectorConsumers(partition);
    const cp = await readCheckpoint<CheckpointState>(kv, partition);
    if (cp) {
      this.#book = AgentBook.fromJson(cp.state.agents, this.#o.silenceMs);
      this.outbox.restore(cp.state.outbox);
      this.#baseline = cp.state.baseline;
      this.#evPos = cp.evSeq;
    } else {
      // First start: what EVENTS holds now is history. It is read to learn the agents, but it
      // raises nothing and sends nothing. Written down at once, so a crash keeps the same line.
      this.#baseline = (await streams.last(EVENTS_STREAM, partitionFilter(partition)))?.seq ?? 0;
      await writeCheckpoint(kv, partition, { evSeq: 0, state: this.#state() });
    }
    this.#checkpointedAt = this.#evPos;
    const ev = this.#o.sharedEvents ? null : await streams.consumer(EVENTS_STREAM, names.events);
    // The per-partition consumer of an install that had one: its place is the checkpoint's anyway.
    if (this.#o.sharedEvents) await streams.deleteConsumer(EVENTS_STREAM, names.events);
    else if (!ev || ev.ackFloor !== this.#evPos || ev.ackPending > 0) {
      await streams.resetConsumer(
        EVENTS_STREAM,
        { name: names.events, filter: partitionFilter(partition), ackPolicy: 'all', ackWaitMs: 60_000, maxAckPending: 20_000, inactiveMs: 7 * 86_400_000 },
        this.#evPos,
      );
    }
    const tm = await streams.consumer(TELEMETRY_STREAM, names.telemetry);
    // A consumer left with deliveries owed (a crash) would hand them back only after the ack wait, behind newer ones.
    if (!tm || tm.ackPending > 0) {
      await streams.resetConsumer(
        TELEMETRY_STREAM,
        {
          name: names.telemetry,
          filter: telemetryPartitionFilter(partition),
          ackPolicy: 'all',
          ackWaitMs: 60_000,
          maxAckPending: 100_000,
          inactiveMs: 7 * 86_400_000,
        },
        tm?.ackFloor ?? 0,
      );
    }
    this.#tmPos = tm?.ackFloor ?? 0;
    if (!this.#o.sharedEvents) {
      this.#eventsCaughtUp = ((await streams.consumer(EVENTS_STREAM, names.events))?.pending ?? 0) === 0;
      const events = await this.#o.log.work(names.events, { max: 1024, inOrder: true });
      this.#feeds.push(events);
      this.#loops.push(this.#guard('events', this.#eventsLoop(events)));
    }
    const telemetry = await streams.consume(TELEMETRY_STREAM, names.telemetry, { max: 4096, inOrder: true });
    this.#feeds.push(telemetry);
    this.#loops.push(this.#guard('telemetry', this.#telemetryLoop(telemetry)));
    this.#lastCheckpointMs = this.#o.clock();
    if (this.#o.tickMs > 0) {
      this.#timer = setInterval(() => void this.tick().catch((err: unknown) => this.#log.warn({ err }, 'detector tick failed')), this.#o.tickMs);
      this.#timer.unref();
    }
  }

  #guard(name: string, loop: Promise<void>): Promise<void> {
    return loop.catch((err: unknown) => {
      if (this.#stopped) return;
      this.failure ??= err;
      this.#log.error({ err, loop: name }, 'detector loop stopped; the worker is restarted');
    });
  }

  async #eventsLoop(work: Consumption<{ delivery: Delivery; record: LogRecord }>): Promise<void> {
    let unacked = 0;
    for await (const { delivery, record } of work) {
      if (record.position > this.#evPos) {
        // Read for meaning: personal fields revealed (src/privacy), erased ones marked so.
        const revealed = await this.#o.log.reveal(record);
        await this.#serially(() => this.#apply(revealed));
        this.#evPos = record.position;
        this.counters.records++;
      }
      const caughtUp = isCaughtUp(delivery, work);
      if (caughtUp) this.#eventsCaughtUp = true;
      if (caughtUp || ++unacked >= 256) {
        delivery.ack();
        unacked = 0;
      }
      this.#release('events', this.#evPos);
      if (this.#stopped) break;
    }
  }

  async #telemetryLoop(feed: Consumption<Delivery>): Promise<void> {
    const max = this.#o.telemetryBatch ?? 5000;
    let batch = new Batch();
    // One batch's alerts are written while the next batch is read; a batch is acked only once its
    // alerts are written, and the alert writer keeps each group's writes in order.
    let writing: { done: Promise<void>; last: Delivery; seq: number } | null = null;
    const settle = async (w: { done: Promise<void>; last: Delivery; seq: number }): Promise<void> => {
      await w.done;
      w.last.ack();
      this.telemetryTiming.lastFlushMs = performance.now();
      this.#tmPos = Math.max(this.#tmPos, w.seq);
      this.#release('telemetry', this.#tmPos);
    };
    for await (const m of feed) {
      if (this.telemetryTiming.firstItemMs === 0) this.telemetryTiming.firstItemMs = performance.now();
      const seq = m.seq;
      batch.size++;
      if (seq > this.#tmPos) {
        const source = this.#sourceOf(m.subject);
        if (source) {
          const rules = this.#rules.peek(source.tenant) ?? (await this.#rules.get(source.tenant));
          this.#evaluateItem(m, seq, source, rules.ruleset, batch);
        }
      }
      const drained = isCaughtUp(m, feed);
      if (drained || batch.size >= max) {
        const next = { done: this.#flush(batch), last: m, seq };
        // Awaited below or in the next round; a failure then stops the loop, never goes unheard.
        next.done.catch(() => {});
        if (writing) await settle(writing);
        writing = null;
        if (drained) await settle(next);
        else writing = next;
        batch = new Batch();
      }
      if (this.#stopped) break;
    }
    if (writing) await settle(writing);
  }

  /** Tenant and agent of a TELEMETRY subject `tm.<p>.<tenant>.<agentId>`; null for anything else (not evaluated). */
  #sourceOf(subject: string): { tenant: string; agentId: string } | null {
    const hit = this.#sources.get(subject);
    if (hit !== undefined) return hit;
    const a = subject.indexOf('.', 3);
    const b = subject.indexOf('.', a + 1);
    const tenant = subject.slice(a + 1, b);
    const agentId = subject.slice(b + 1);
    const source = isValidId('tenant', tenant) && isValidId('token', agentId) ? { tenant, agentId } : null;
    if (this.#sources.size >= 10_000) this.#sources.clear();
    this.#sources.set(subject, source);
    return source;
  }

  #evaluateItem(m: Delivery, seq: number, source: { tenant: string; agentId: string }, ruleset: Ruleset, batch: Batch): void {
    this.counters.items++;
    let item: unknown;
    try {
      item = JSON.parse(decoder.decode(m.data));
    } catch {
      return;
    }
    if (item === null || typeof item !== 'object') return;
    const matches = evaluate(ruleset, item);
    if (matches.length === 0) return;
    const hostname = this.#book.hostnameOf(source.tenant, source.agentId);
    const ref = { seq, atMs: m.time.getTime(), ...itemOf(m, source) };
    for (const match of matches) batch.add(source.tenant, source.agentId, hostname, match, 'TELEMETRY', ref);
    this.counters.matches += matches.length;
  }

  async #flush(batch: Batch): Promise<void> {
    if (batch.groups.size === 0) return;
    const outcomes = await Promise.all([...batch.groups.values()].map((g) => this.#o.writer.write(g)));
    for (const o of outcomes) {
      this.counters.raised += o.raised.length;
      this.counters.counted += o.counted;
    }
  }

  /** Applies one EVENTS record, commit by commit (a report's alerts are born in the agent's): settings, agent health, host isolation, the outbox. */
  async #apply(record: LogRecord): Promise<void> {
    for (const r of commitsOf(record)) await this.#applyCommit(r);
  }

  async #applyCommit(r: LogRecord): Promise<void> {
    this.#rules.observe(r);
    const live = r.position > this.#baseline;
    let derived: Derived[] = [];
    if (r.aggregate.type === AGENT) derived = this.#book.observe(r.tenant, r.aggregate.id, r.events, r.position);
    else if (r.aggregate.type === COMMAND && live) derived = await this.#isolation(r);
    if (!live) return;
    await this.outbox.onRecord(r);
    await this.#detect(derived);
  }

  /** A host isolated or released by a command that succeeded. */
  async #isolation(r: LogRecord): Promise<Derived[]> {
    const done = r.events.find((e) => e.type === CommandEvents.completed);
    if (!done || (done.data as CommandCompleted).outcome !== 'succeeded') return [];
    const all = await this.#o.log.readAggregate({ tenant: r.tenant, aggregateType: COMMAND, aggregateId: r.aggregate.id });
    const sent = all.events.find((e) => e.type === CommandEvents.dispatched);
    if (!sent) return [];
    const d = sent.data as CommandDispatched;
    const state = ISOLATION_ACTIONS[d.action];
    if (!state) return [];
    const item: HostIsolationRecord = { kind: 'host-isolation', state, actor: `${sent.actor.kind}:${sent.actor.id}` };
    const reason = typeof d.args.reason === 'string' ? d.args.reason : undefined;
    if (reason) item.reason = reason;
    return [{ tenant: r.tenant, agentId: d.agentId, item, seq: r.position, atMs: Date.parse(done.at) }];
  }

  /** Evaluates records derived from EVENTS and writes their alerts. */
  async #detect(derived: Derived[]): Promise<void> {
    if (derived.length === 0) return;
    const batch = new Batch();
    for (const d of derived) {
      const rules = await this.#rules.get(d.tenant);
      for (const match of evaluate(rules.ruleset, d.item)) {
        batch.add(d.tenant, d.agentId, this.#book.hostnameOf(d.tenant, d.agentId), match, 'EVENTS', { seq: d.seq, atMs: d.atMs });
        this.counters.matches++;
      }
    }
    await this.#flush(batch);
  }

  async #tick(nowMs: number): Promise<void> {
    if (this.#stopped) return;
    if (this.#eventsCaughtUp) {
      // An agent silent since before the detector's first start (its last sign is history) is not news.
      const live = (d: Derived): boolean => d.seq > this.#baseline || (d.item as { event?: string }).event !== 'silent';
      await this.#serially(() => this.#detect(this.#book.tick(nowMs).filter(live)));
    }
    await this.outbox.tick(nowMs);
    if (nowMs - this.#lastCheckpointMs >= this.#checkpointEveryMs) await this.#checkpoint(false);
  }

  async #checkpoint(force: boolean): Promise<void> {
    // Serialized here, between records: the text is the snapshot (no deep copy of every agent's
    // state), and nothing is serialized when nothing moved since the last one.
    const snap = await this.#serially(() =>
      !force && this.#evPos === this.#checkpointedAt && this.outbox.pendingCount === 0 ? null : { evSeq: this.#evPos, json: JSON.stringify(this.#state()) },
    );
    this.#lastCheckpointMs = this.#o.clock();
    if (!snap) return;
    await writeCheckpoint(this.#o.kv, this.#o.partition, snap);
    this.#checkpointedAt = snap.evSeq;
    // A large book is written less often: at most `checkpointCharsPerS` on average, so its cost
    // does not grow with the fleet (a takeover then reads a little more of EVENTS again).
    this.#checkpointEveryMs = Math.max(this.#o.checkpointMs, (snap.json.length / (this.#o.checkpointCharsPerS ?? CHECKPOINT_CHARS_PER_S)) * 1000);
  }

  #state(): CheckpointState {
    return { baseline: this.#baseline, agents: this.#book.toJson(), outbox: this.outbox.snapshot() };
  }

  /** Runs `f` after everything queued before it: record application, ticks and snapshots never interleave. */
  #serially<T>(f: () => T | Promise<T>): Promise<T> {
    const run = this.#serial.then(f);
    this.#serial = run.catch(() => {});
    return run;
  }

  #wait(stream: 'events' | 'telemetry', seq: number): Promise<void> {
    if ((stream === 'events' ? this.#evPos : this.#tmPos) >= seq) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ stream, seq, resolve }));
  }

  #release(stream: 'events' | 'telemetry', pos: number): void {
    if (this.#waiters.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => {
      if (w.stream !== stream || w.seq > pos) return true;
      w.resolve();
      return false;
    });
  }
}

/** The id of a matching TELEMETRY item (`<batch>:<index>`, what its proof is asked for), from its headers; none without them. */
function itemOf(m: Delivery, source: { tenant: string; agentId: string }): { item?: string } {
  const batchId = m.headers?.get(BATCH_HEADER) ?? '';
  const index = m.headers?.get(INDEX_HEADER) ?? '';
  if (!batchId || !/^(0|[1-9][0-9]{0,3})$/.test(index)) return {};
  return { item: telemetryItemId(telemetryBatchId(source.tenant, source.agentId, batchId), Number(index)) };
}

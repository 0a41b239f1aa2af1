import { DeliverPolicy } from '@nats-io/jetstream';
import { StkError } from '../errors.ts';
import { EVENTS_STREAM, aggregateTypeFilter, type EventLog } from '../log/mod.ts';
import type { Logger } from '../logger.ts';
import { COMMAND, CommandEvents, type CommandDispatched } from '../../commands/agent-commands/events.ts';

/** A command an agent has not answered yet. */
export interface OutboxCommand {
  id: string;
  tenant: string;
  agentId: string;
  action: string;
  args: Record<string, unknown>;
  dispatchedAt: string;
  /** `pending` until the agent first pulls it, then `delivered` until it posts a result. */
  status: 'pending' | 'delivered';
  /** Version of the command aggregate, for the `delivered` append. */
  version: number;
  position: number;
}

/**
 * The ingress's view of unanswered agent commands, in memory, fed by an ordered consumer over the
 * `command` aggregates of every tenant. The ingress has no LevelDB when it runs alone, and the
 * per-command aggregates have no per-agent index in the log; this index holds only commands not
 * yet answered, so it stays small. It is rebuilt from the log on every start.
 *
 * `pendingFor` first makes sure the index has caught up with everything the stream held when the
 * agent asked, so a command dispatched before the pull is always in its answer.
 */
export class CommandOutbox {
  readonly #log: EventLog;
  readonly #logger: Logger;
  readonly #open = new Map<string, OutboxCommand>();
  #applied = 0;
  #consumer: Awaited<ReturnType<EventLog['js']['consumers']['get']>> | null = null;
  #stop: (() => Promise<void>) | null = null;
  #waiters: Array<{ position: number; resolve: () => void }> = [];

  constructor(log: EventLog, logger: Logger) {
    this.#log = log;
    this.#logger = logger;
  }

  async start(): Promise<void> {
    const consumer = await this.#log.js.consumers.get(EVENTS_STREAM, { filter_subjects: aggregateTypeFilter(COMMAND), deliver_policy: DeliverPolicy.All });
    this.#consumer = consumer;
    const messages = await consumer.consume({ max_messages: 1024 });
    this.#stop = async () => {
      await messages.close().catch(() => {});
    };
    void (async () => {
      for await (const m of messages) {
        try {
          this.#apply(this.#log.decode({ seq: m.seq, subject: m.subject, data: m.data, time: m.time, headers: m.headers }));
        } catch (err) {
          this.#logger.error({ err, position: m.seq }, 'command outbox could not apply a record');
        }
        this.#applied = m.seq;
        this.#waiters = this.#waiters.filter((w) => (w.position <= m.seq ? (w.resolve(), false) : true));
      }
    })();
  }

  async close(): Promise<void> {
    await this.#stop?.();
    for (const w of this.#waiters) w.resolve();
    this.#waiters = [];
  }

  /** Unanswered commands of one agent of one tenant, oldest first, once the index is current. */
  async pendingFor(tenant: string, agentId: string, timeoutMs = 5000): Promise<OutboxCommand[]> {
    await this.#catchUp(timeoutMs);
    return [...this.#open.values()].filter((c) => c.tenant === tenant && c.agentId === agentId).sort((a, b) => a.position - b.position);
  }

  async #catchUp(timeoutMs: number): Promise<void> {
    if (!this.#consumer) throw new StkError('STK_ERR_UNAVAILABLE', 'command outbox is not started', { retryAfterSeconds: 1 });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let info;
      try {
        info = await this.#consumer.info();
      } catch (err) {
        throw new StkError('STK_ERR_UNAVAILABLE', `command outbox cannot reach the event log: ${(err as Error).message}`, { retryAfterSeconds: 1 }, { cause: err });
      }
      // Nothing matching is left on the server: current once what was handed over is applied.
      const target = info.num_pending === 0 ? info.delivered.stream_seq : this.#applied + 1;
      if (this.#applied >= target) return;
      const left = deadline - Date.now();
      if (left <= 0) throw new StkError('STK_ERR_UNAVAILABLE', 'command outbox is behind the event log', { retryAfterSeconds: 1 });
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push({ position: target, resolve });
        timer = setTimeout(resolve, Math.min(left, 100));
      });
      clearTimeout(timer);
    }
  }

  #apply(r: ReturnType<EventLog['decode']>): void {
    const id = r.aggregate.id;
    for (const e of r.events) {
      if (e.type === CommandEvents.dispatched) {
        const d = e.data as CommandDispatched;
        this.#open.set(id, { id, tenant: r.tenant, agentId: d.agentId, action: d.action, args: d.args ?? {}, dispatchedAt: e.at, status: 'pending', version: e.version, position: r.position });
      } else if (e.type === CommandEvents.delivered) {
        const c = this.#open.get(id);
        if (c) this.#open.set(id, { ...c, status: 'delivered', version: e.version });
      } else if (e.type === CommandEvents.completed) {
        this.#open.delete(id);
      }
    }
  }
}

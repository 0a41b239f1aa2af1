import type { EventLog, LogRecord } from '../log/mod.ts';
import type { Logger } from '../logger.ts';
import { COMMAND, CommandEvents, type CommandDispatched } from '../../commands/agent-commands/events.ts';
import { AggregateFeed } from './feed.ts';

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
  readonly #open = new Map<string, OutboxCommand>();
  readonly #feed: AggregateFeed;

  constructor(log: EventLog, logger: Logger) {
    this.#feed = new AggregateFeed(log, logger, COMMAND, (r) => this.#apply(r));
  }

  start(): Promise<void> {
    return this.#feed.start();
  }

  close(): Promise<void> {
    return this.#feed.close();
  }

  /** Unanswered commands of one agent of one tenant, oldest first, once the view is current. */
  async pendingFor(tenant: string, agentId: string, timeoutMs = 5000): Promise<OutboxCommand[]> {
    await this.#feed.current(timeoutMs);
    return [...this.#open.values()].filter((c) => c.tenant === tenant && c.agentId === agentId).sort((a, b) => a.position - b.position);
  }

  #apply(r: LogRecord): void {
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

import type { EventEnvelope, EventLog, LogRecord } from '../log/mod.ts';
import { COMMAND, CommandEvents, type CommandDispatched } from '../../commands/agent-commands/events.ts';
import type { IngressFeed } from './feed.ts';

/** A command an agent has not answered yet. */
export interface OutboxCommand {
  id: string;
  tenant: string;
  agentId: string;
  action: string;
  args: Record<string, unknown>;
  dispatchedAt: string;
  /** After this instant (ISO) the command is never handed out; null for commands dispatched before expiries existed. */
  expiresAt: string | null;
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
export class AgentCommandOutbox {
  /** Unanswered commands by `tenant/agentId`, then by command id (insertion = dispatch order). */
  readonly #byAgent = new Map<string, Map<string, OutboxCommand>>();
  /** Where each unanswered command is filed: a command names its tenant only in its subject. */
  readonly #agentOf = new Map<string, string>();
  /** The stored dispatch of each unanswered command whose arguments are sealed, to reveal at hand-out. */
  readonly #sealed = new Map<string, EventEnvelope>();
  readonly #feed: IngressFeed;
  readonly #log: EventLog;
  readonly #onDispatch: (tenant: string, agentId: string) => void;

  /** `onDispatch` is told of every new command for an agent (its long-poll answers at once). */
  constructor(feed: IngressFeed, log: EventLog, onDispatch: (tenant: string, agentId: string) => void = () => {}) {
    this.#feed = feed;
    this.#log = log;
    this.#onDispatch = onDispatch;
    feed.add({ replayed: [COMMAND], apply: (r) => this.#apply(r) });
  }

  /**
   * Unanswered commands of one agent of one tenant, oldest first, once the view is current, with
   * their arguments revealed (the one place they are read for meaning). Cancelled and expired
   * commands are not among them.
   */
  async pendingFor(tenant: string, agentId: string, timeoutMs = 5000): Promise<OutboxCommand[]> {
    await this.current(timeoutMs);
    return this.reveal(this.known(tenant, agentId));
  }

  /** Resolves once the view holds everything the log held when called. */
  current(timeoutMs = 5000): Promise<void> {
    return this.#feed.current(timeoutMs);
  }

  /** Unanswered commands of one agent as the view holds them now, without bringing it up to the log first; arguments as stored. */
  known(tenant: string, agentId: string): OutboxCommand[] {
    return [...(this.#byAgent.get(`${tenant}/${agentId}`)?.values() ?? [])];
  }

  /** The commands with their sealed arguments revealed: the one place they are read for meaning, right before hand-out. */
  async reveal(open: OutboxCommand[]): Promise<OutboxCommand[]> {
    const sealed = open.map((c) => this.#sealed.get(`${c.tenant}/${c.id}`)).filter((e) => e !== undefined);
    if (sealed.length === 0) return open;
    const revealed = new Map((await this.#log.revealEvents(sealed)).map((e) => [e.aggregate.id, (e.data as CommandDispatched).args ?? {}]));
    return open.map((c) => (revealed.has(c.id) ? { ...c, args: revealed.get(c.id)! } : c));
  }

  /** Every unanswered command of every tenant, once the view is current (the lifecycle role expires them). */
  async unanswered(timeoutMs = 5000): Promise<OutboxCommand[]> {
    await this.#feed.current(timeoutMs);
    return [...this.#byAgent.values()].flatMap((m) => [...m.values()]);
  }

  #apply(r: LogRecord): void {
    const id = `${r.tenant}/${r.aggregate.id}`;
    for (const e of r.events) {
      if (e.type === CommandEvents.dispatched) {
        const d = e.data as CommandDispatched;
        const key = `${r.tenant}/${d.agentId}`;
        let open = this.#byAgent.get(key);
        if (!open) {
          open = new Map();
          this.#byAgent.set(key, open);
        }
        open.set(id, {
          id: r.aggregate.id,
          tenant: r.tenant,
          agentId: d.agentId,
          action: d.action,
          args: d.args ?? {},
          dispatchedAt: e.at,
          expiresAt: d.expiresAt ?? null,
          status: 'pending',
          version: e.version,
          position: r.position,
        });
        this.#agentOf.set(id, key);
        if (e.sealed) this.#sealed.set(id, e);
        this.#onDispatch(r.tenant, d.agentId);
        continue;
      }
      const key = this.#agentOf.get(id);
      const open = key ? this.#byAgent.get(key) : undefined;
      const c = open?.get(id);
      if (!key || !open || !c) continue;
      if (e.type === CommandEvents.delivered) {
        open.set(id, { ...c, status: 'delivered', version: e.version });
      } else if (e.type === CommandEvents.completed || e.type === CommandEvents.cancelled || e.type === CommandEvents.expired) {
        // Answered, withdrawn or expired: never handed out again.
        open.delete(id);
        this.#agentOf.delete(id);
        this.#sealed.delete(id);
        if (open.size === 0) this.#byAgent.delete(key);
      }
    }
  }
}

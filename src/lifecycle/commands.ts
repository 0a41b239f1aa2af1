import { agentCommandDecider, type ExpiryPolicy } from '../../commands/agent-commands/decider.ts';
import type { CommandExpiry } from '../config/mod.ts';
import { derivedIds, execute } from '../domain/execute.ts';
import type { AgentCommandOutbox } from '../ingress/outbox.ts';
import type { EventLog } from '../log/mod.ts';
import { LIFECYCLE_ACTOR } from './retention.ts';

/** The expiry policy of an action: its own entry of `--command-expiry`, else `default`. */
export function expiryPolicy(table: Readonly<Record<string, CommandExpiry>>, action: string): ExpiryPolicy {
  return table[action] ?? table.default ?? { defaultSeconds: 3600, maxSeconds: 86_400 };
}

/**
 * Records `command.expired` for every unanswered command whose expiry `now` has reached, so the
 * read models show it and a result that still comes is recorded as late. The ingress already stops
 * handing such a command out at its expiry; this only makes it visible. Idempotent (derived ids).
 */
export async function expireCommands(o: { log: EventLog; outbox: AgentCommandOutbox; now: Date }): Promise<number> {
  const now = o.now.toISOString();
  let n = 0;
  for (const c of await o.outbox.unanswered()) {
    if (!c.expiresAt || Date.parse(c.expiresAt) > o.now.getTime()) continue;
    const r = await execute(
      o.log,
      { tenant: c.tenant, id: c.id },
      agentCommandDecider,
      { kind: 'expire', now },
      { actor: LIFECYCLE_ACTOR, eventIds: derivedIds(c.id, 'expired') },
    );
    if (r.events.length) n++;
  }
  return n;
}

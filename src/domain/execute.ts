import { createHash } from 'node:crypto';
import type { EventLog } from '../log/mod.ts';
import { type Decider, fold } from './decider.ts';
import type { Actor, EventEnvelope } from './events.ts';

/** What a command did: the log position to wait for (read-your-writes) and the events. */
export interface Executed {
  /** Stream position of the commit; 0 when the command changed nothing. */
  position: number;
  version: number;
  events: EventEnvelope[];
  /** The same request was already written (a retry): nothing new was stored. */
  duplicate: boolean;
}

/** What a writer already knows of the aggregate, so that the first attempt needs no read. */
export type Known<S> =
  /** A fresh id the server just chose: nothing can exist under it. */
  | 'new'
  /** The version and state the writer read moments ago (an ingress view, an enrolled record). */
  | { version: number; state: S };

export interface ExecuteOptions<S> {
  actor: Actor;
  correlationId?: string | null;
  causationId?: string | null;
  /** @defaultValue read the aggregate first */
  known?: Known<S>;
  /**
   * Event ids derived from the request (see `derivedIds`), so a request retried by its client
   * writes nothing twice: the log answers a repeated append with the original commit.
   * @defaultValue fresh random ids
   */
  eventIds?: (index: number) => string;
  /**
   * The aggregate's id is derived from the request as well (with `known: 'new'`): if it already
   * exists, an earlier try of this very request created it, and nothing more is written.
   */
  idempotent?: boolean;
}

/**
 * Attempts at one command: the first with what the writer knows (or a read), each further one
 * after reading the aggregate again, because another writer got there first. The command is
 * decided anew against the state it now finds, so a conflict reaches the caller only when three
 * writers in a row won the race.
 */
export const EXECUTE_ATTEMPTS = 3;

/**
 * The one write path: load the aggregate (unless known), decide, append with the version decided
 * on; on a version conflict decide again against the new state. A refusal by the decider is thrown
 * (it is the caller's to turn into an answer); so is a conflict after the last attempt.
 */
export async function execute<S, C>(
  log: EventLog,
  target: { tenant: string; id: string },
  decider: Decider<S, C>,
  command: C,
  o: ExecuteOptions<S>,
): Promise<Executed> {
  const stream = { tenant: target.tenant, aggregateType: decider.aggregateType, aggregateId: target.id };
  let known = o.known;
  for (let attempt = 1; ; attempt++) {
    let version: number;
    let state: S;
    if (known === 'new') {
      version = 0;
      state = decider.initialState();
    } else if (known) {
      ({ version, state } = known);
    } else {
      const r = await log.readAggregate(stream);
      version = r.version;
      state = fold(decider, r.events);
    }
    known = undefined;
    const d = decider.decide(command, state);
    if (!d.ok) throw d.error;
    if (d.events.length === 0) return { position: 0, version, events: [], duplicate: false };
    const events = o.eventIds ? d.events.map((e, i) => ({ ...e, id: o.eventIds!(i) })) : d.events;
    const r = await log.append(stream, events, {
      expectedVersion: version === 0 ? 'no_stream' : version,
      actor: o.actor,
      correlationId: o.correlationId ?? null,
      causationId: o.causationId ?? null,
    });
    if (r.ok) return { position: r.value.position, version: r.value.version, events: r.value.events, duplicate: r.value.duplicate };
    if (o.idempotent && version === 0) return { position: 0, version: Number(r.error.data.actual ?? 0), events: [], duplicate: true };
    if (attempt >= EXECUTE_ATTEMPTS) throw r.error;
  }
}

/**
 * Event ids derived from a request's identity (tenant, agent, batch id, index…): the same request
 * always yields the same ids, so its retry is recognised by the log. 128 bits of SHA-256, base64url.
 */
export function derivedIds(...parts: string[]): (index: number) => string {
  const base = parts.join('\0');
  return (index) => createHash('sha256').update(`${base}\0${index}`).digest().toString('base64url', 0, 16);
}

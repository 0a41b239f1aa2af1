import { hash } from 'node:crypto';
import { StkError } from '../errors.ts';
import type { EventLog } from '../log/mod.ts';
import { type Decider, fold } from './decider.ts';
import type { Actor, EventEnvelope } from './events.ts';

/** What a command did: the log position to wait for (read-your-writes) and the events. */
export interface Executed {
  /** Stream position of the commit; 0 when the command changed nothing. */
  position: number;
  version: number;
  events: EventEnvelope[];
  /** Aggregates born in the commit (`births`), in order: their ids and first events. */
  born: Array<{ id: string; events: EventEnvelope[] }>;
  /** The same request was already written (a retry): nothing new was stored. */
  duplicate: boolean;
}

/**
 * A new aggregate to be born in the command's commit (`src/log/births.ts`): its decider and
 * creating command, decided against the decider's initial state, and a seed that tells it apart
 * from the others born in the same commit (derived from the request, like `eventIds`).
 */
export interface BirthCommand {
  // biome-ignore lint/suspicious/noExplicitAny: each birth has its own decider; the command is its decider's
  decider: Decider<any, any>;
  command: unknown;
  seed: string;
  eventIds?: (index: number) => string;
}

/** What a writer already knows of the aggregate, so that the first attempt needs no read. */
export type Known<S> =
  /** A fresh id the server just chose: nothing can exist under it. */
  | 'new'
  /**
   * The version and state the writer read moments ago (an ingress view, an enrolled record), and
   * the stream position of that version's commit when known (spares the log a lookup).
   */
  | { version: number; state: S; position?: number };

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
  /**
   * New aggregates born in this command's commit: one message for all of them. A refusal of any
   * of them refuses the whole command before anything is written.
   */
  births?: BirthCommand[];
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
  // Births depend on nothing but their own command: decided once, before anything is written.
  const births = (o.births ?? []).map((b) => {
    const d = b.decider.decide(b.command, b.decider.initialState());
    if (!d.ok) throw d.error;
    return { aggregateType: b.decider.aggregateType, seed: b.seed, events: b.eventIds ? d.events.map((e, i) => ({ ...e, id: b.eventIds!(i) })) : d.events };
  });
  let known = o.known;
  for (let attempt = 1; ; attempt++) {
    let version: number;
    let state: S;
    let position: number | undefined;
    if (known === 'new') {
      version = 0;
      state = decider.initialState();
    } else if (known) {
      ({ version, state, position } = known);
    } else {
      const r = await log.readAggregate(stream);
      version = r.version;
      state = fold(decider, r.events);
    }
    known = undefined;
    const d = decider.decide(command, state);
    if (!d.ok) throw d.error;
    if (d.events.length === 0 && births.length === 0) return { position: 0, version, events: [], born: [], duplicate: false };
    if (d.events.length === 0) throw new StkError('STK_ERR_VALIDATION', `${decider.aggregateType} decided no event to carry the births`, { ...stream });
    const events = o.eventIds ? d.events.map((e, i) => ({ ...e, id: o.eventIds!(i) })) : d.events;
    const r = await log.append(stream, events, {
      expectedVersion: version === 0 ? 'no_stream' : version,
      ...(position !== undefined && version > 0 ? { knownPosition: position } : {}),
      ...(births.length ? { births } : {}),
      actor: o.actor,
      correlationId: o.correlationId ?? null,
      causationId: o.causationId ?? null,
    });
    if (r.ok) {
      const v = r.value;
      return {
        position: v.position,
        version: v.version,
        events: v.events,
        born: v.born.map((b) => ({ id: b.aggregateId, events: b.events })),
        duplicate: v.duplicate,
      };
    }
    if (o.idempotent && version === 0) return { position: 0, version: Number(r.error.data.actual ?? 0), events: [], born: [], duplicate: true };
    if (attempt >= EXECUTE_ATTEMPTS) throw r.error;
  }
}

/**
 * Event ids derived from a request's identity (tenant, agent, batch id, index…): the same request
 * always yields the same ids, so its retry is recognised by the log. 128 bits of SHA-256, base64url.
 */
export function derivedIds(...parts: string[]): (index: number) => string {
  const base = parts.join('\0');
  return (index) => hash('sha256', `${base}\0${index}`, 'buffer').toString('base64url', 0, 16);
}

import { StkError } from '../errors.ts';
import type { Actor, EventEnvelope, EventLog, NewEvent } from '../log/mod.ts';

/** A decision: the events to append, or the expected failure that refuses the command. */
export type Decision = { ok: true; events: NewEvent[] } | { ok: false; error: StkError };

export const accept = (...events: NewEvent[]): Decision => ({ ok: true, events });
export const refuse = (error: StkError): Decision => ({ ok: false, error });

/**
 * A domain's pure core: state from events (`evolve`), events from a command and the state
 * (`decide`). No clock, ids or I/O inside; they come in with the command.
 */
export interface Decider<S, C> {
  aggregateType: string;
  initialState(): S;
  evolve(state: S, e: EventEnvelope): S;
  decide(command: C, state: S): Decision;
}

/** What a command did: the log position to wait for (read-your-writes) and the events. */
export interface Executed {
  /** Stream position of the commit; 0 when the command changed nothing. */
  position: number;
  version: number;
  events: EventEnvelope[];
}

export interface ExecuteOptions {
  actor: Actor;
  correlationId?: string | null;
  /** The aggregate is being created with a server-chosen fresh id: skip reading it. */
  fresh?: boolean;
}

/**
 * Loads an aggregate, decides, and appends with the version it decided on. A racing writer makes
 * the append conflict; the command is then decided once more against the new state, so a
 * conflict reaches the caller only if it still conflicts.
 */
export async function execute<S, C>(log: EventLog, tenant: string, id: string, decider: Decider<S, C>, command: C, o: ExecuteOptions): Promise<Executed> {
  const stream = { tenant, aggregateType: decider.aggregateType, aggregateId: id };
  for (let attempt = 0; ; attempt++) {
    const { events, version } = o.fresh && attempt === 0 ? { events: [], version: 0 } : await log.readAggregate(stream);
    const state = events.reduce((s, e) => decider.evolve(s, e), decider.initialState());
    const d = decider.decide(command, state);
    if (!d.ok) throw d.error;
    if (d.events.length === 0) return { position: 0, version, events: [] };
    const r = await log.append(stream, d.events, {
      expectedVersion: version === 0 ? 'no_stream' : version,
      actor: o.actor,
      correlationId: o.correlationId ?? null,
    });
    if (r.ok) return { position: r.value.position, version: r.value.version, events: r.value.events };
    if (attempt >= 1) throw r.error;
  }
}

/** Folds events into a decider's state; for tests and for the few readers that need the truth. */
export function fold<S, C>(decider: Decider<S, C>, events: EventEnvelope[]): S {
  return events.reduce((s, e) => decider.evolve(s, e), decider.initialState());
}

export function notFound(what: string, id: string): StkError {
  return new StkError('STK_ERR_NOT_FOUND', `${what} not found`, { id });
}

export function invalidTransition(what: string, actual: string, wanted: string): StkError {
  return new StkError('STK_ERR_INVALID_TRANSITION', `${what} is ${actual}; cannot ${wanted}`, { actual });
}

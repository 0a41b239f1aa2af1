import { StkError } from '../errors.ts';
import type { EventEnvelope, NewEvent } from './events.ts';

/** A decision: the events to append, or the expected failure that refuses the command. */
export type Decision = { ok: true; events: NewEvent[] } | { ok: false; error: StkError };

export const accept = (...events: NewEvent[]): Decision => ({ ok: true, events });
export const refuse = (error: StkError): Decision => ({ ok: false, error });

/**
 * A domain's pure core: state from events (`evolve`), events from a command and the state
 * (`decide`). No clock, ids or I/O inside; they come in with the command, and so do the facts the
 * decision depends on that live outside the aggregate (a tenant's products, an agent's status).
 */
export interface Decider<S, C> {
  aggregateType: string;
  initialState(): S;
  evolve(state: S, e: EventEnvelope): S;
  decide(command: C, state: S): Decision;
}

/** Folds events into a decider's state. */
export function fold<S, C>(decider: Decider<S, C>, events: readonly EventEnvelope[]): S {
  return events.reduce((s, e) => decider.evolve(s, e), decider.initialState());
}

export function notFound(what: string, id: string): StkError {
  return new StkError('STK_ERR_NOT_FOUND', `${what} not found`, { id });
}

export function invalidTransition(what: string, actual: string, wanted: string): StkError {
  return new StkError('STK_ERR_INVALID_TRANSITION', `${what} is ${actual}; cannot ${wanted}`, { actual });
}

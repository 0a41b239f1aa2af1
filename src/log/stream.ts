import type { StreamSpec } from './streams.ts';

export const EVENTS_STREAM = 'EVENTS';

/** Settings of the EVENTS stream. */
export interface EventsStreamOptions {
  /** Replicas (1 on a single node, 3 on the cluster). @defaultValue 1 */
  replicas?: number;
  /** How long a `Nats-Msg-Id` is remembered for idempotent retries. @defaultValue 120000 */
  duplicateWindowMs?: number;
  /** Upper bound of the stream's size; new appends are refused beyond it, never old events dropped. */
  maxBytes?: number;
}

/**
 * The EVENTS stream. Events are never discarded to make room: a full stream refuses new appends
 * (discard new), so an acknowledged event is never lost to a limit. Its duplicate window, size
 * bound and replicas follow the configuration on every start.
 */
export function eventsStreamSpec(o: EventsStreamOptions = {}): StreamSpec {
  return {
    name: EVENTS_STREAM,
    subjects: ['ev.>'],
    discard: 'new',
    replicas: o.replicas ?? 1,
    duplicateWindowMs: o.duplicateWindowMs ?? 120_000,
    maxBytes: o.maxBytes ?? -1,
    updateMutable: true,
  };
}

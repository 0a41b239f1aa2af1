import { accept, invalidTransition, notFound, refuse, type Decider } from '../../src/domain/decider.ts';
import { DELIVERY, type DeliveryAttempted, DeliveryEvents as E, type DeliveryQueued } from './events.ts';

export type DeliveryStatus = 'none' | 'pending' | 'delivered' | 'dead-letter';

export interface DeliveryState {
  status: DeliveryStatus;
  /** Attempts over the delivery's life. */
  attempts: number;
  /** Attempts since it was (re)queued, and when that was: what the retry policy counts. */
  roundAttempts: number;
  roundStartedAt: string | null;
}

export type DeliveryCommand = { kind: 'queue'; delivery: DeliveryQueued } | { kind: 'record-attempt'; attempt: DeliveryAttempted } | { kind: 'requeue' };

export const deliveryDecider: Decider<DeliveryState, DeliveryCommand> = {
  aggregateType: DELIVERY,
  initialState: () => ({ status: 'none', attempts: 0, roundAttempts: 0, roundStartedAt: null }),
  evolve(s, e) {
    switch (e.type) {
      case E.queued:
        return { status: 'pending', attempts: 0, roundAttempts: 0, roundStartedAt: e.at };
      case E.attempted: {
        const a = e.data as DeliveryAttempted;
        const status = a.outcome === 'delivered' ? 'delivered' : a.deadLetter ? 'dead-letter' : 'pending';
        return { ...s, status, attempts: a.attempt, roundAttempts: s.roundAttempts + 1 };
      }
      case E.requeued:
        return { ...s, status: 'pending', roundAttempts: 0, roundStartedAt: e.at };
      default:
        return s;
    }
  },
  decide(c, s) {
    if (c.kind === 'queue')
      return s.status === 'none' ? accept({ type: E.queued, data: c.delivery }) : refuse(invalidTransition('delivery', s.status, 'queue it again'));
    if (s.status === 'none') return refuse(notFound('delivery', ''));
    if (c.kind === 'requeue')
      return s.status === 'dead-letter' ? accept({ type: E.requeued, data: {} }) : refuse(invalidTransition('delivery', s.status, 'retry it'));
    // An attempt already recorded (an outbox replaying after a crash) records nothing.
    if (c.attempt.attempt <= s.attempts) return accept();
    if (s.status !== 'pending') return refuse(invalidTransition('delivery', s.status, 'attempt it'));
    if (c.attempt.attempt !== s.attempts + 1) return refuse(invalidTransition('delivery', `at attempt ${s.attempts}`, `record attempt ${c.attempt.attempt}`));
    return accept({ type: E.attempted, data: c.attempt });
  },
};

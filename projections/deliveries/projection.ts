import { type DeliveryAttempted, type DeliveryDeadReason, DeliveryEvents as E, type DeliveryQueued } from '../../commands/deliveries/events.ts';
import type { Doc } from '../../src/store/model.ts';
import { by, defineProjection, patch } from '../define.ts';

/** A message to a channel and every attempt at it. */
export interface DeliveryDoc extends Doc, DeliveryQueued {
  status: 'pending' | 'delivered' | 'dead-letter';
  queuedAt: string;
  /** The newest MAX_DELIVERY_ATTEMPTS_SHOWN attempts; every one is an event. */
  attempts: DeliveryAttempted[];
  attemptCount: number;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  deadLetter: DeliveryDeadReason | null;
  deadLetteredAt: string | null;
  requeuedAt: string | null;
  requeuedBy: string | null;
}

export const MAX_DELIVERY_ATTEMPTS_SHOWN = 50;

/** Deliveries: the outbox as the API shows it; dead letters are those with `status: dead-letter`. */
export const deliveriesProjection = defineProjection({
  model: 'deliveries',
  main: 'deliveries',
  collections: { deliveries: { indexes: ['status', 'channelId', 'alertId'] } },
  on: {
    [E.queued]: {
      apply: (e, _docs, seq) => {
        const doc: DeliveryDoc = {
          ...(e.data as DeliveryQueued),
          id: e.aggregate.id,
          seq,
          status: 'pending',
          queuedAt: e.at,
          attempts: [],
          attemptCount: 0,
          nextAttemptAt: e.at,
          deliveredAt: null,
          deadLetter: null,
          deadLetteredAt: null,
          requeuedAt: null,
          requeuedBy: null,
        };
        return [{ collection: 'deliveries', id: doc.id, doc }];
      },
    },
    [E.attempted]: {
      apply: (e, docs) => {
        const d = docs.get<DeliveryDoc>('deliveries', e.aggregate.id);
        const a = e.data as DeliveryAttempted;
        if (!d) return [];
        const delivered = a.outcome === 'delivered';
        return patch<DeliveryDoc>('deliveries', d, {
          status: delivered ? 'delivered' : a.deadLetter ? 'dead-letter' : 'pending',
          attempts: [...d.attempts, a].slice(-MAX_DELIVERY_ATTEMPTS_SHOWN),
          attemptCount: a.attempt,
          nextAttemptAt: delivered ? null : a.retryAt,
          deliveredAt: delivered ? a.at : d.deliveredAt,
          deadLetter: a.deadLetter,
          deadLetteredAt: a.deadLetter ? a.at : null,
        });
      },
    },
    [E.requeued]: {
      apply: (e, docs) =>
        patch<DeliveryDoc>('deliveries', docs.get('deliveries', e.aggregate.id), {
          status: 'pending',
          nextAttemptAt: e.at,
          deadLetter: null,
          deadLetteredAt: null,
          requeuedAt: e.at,
          requeuedBy: by(e),
        }),
    },
  },
});

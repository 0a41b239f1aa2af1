import type { AlertGroup } from '../../src/notify/render.ts';
import type { DeadLetterReason } from '../../src/notify/retry.ts';
import type { ChannelKind } from '../../src/notify/settings.ts';
import type { FailureReason } from '../../src/notify/outcome.ts';

/**
 * Deliveries: aggregate `delivery`, one per message to one channel about one alert group, its id
 * derived from (alert, channel, the count the channel had been told) so deciding to send twice
 * queues one message. Every attempt is an event: the ledger proves who was told what and when.
 */
export const DELIVERY = 'delivery';

export const DeliveryEvents = {
  queued: 'delivery.queued',
  attempted: 'delivery.attempted',
  /** An operator sent a dead letter back to the outbox: a fresh round of attempts. */
  requeued: 'delivery.requeued',
} as const;

/** Why a delivery was given up: the retry policy's reasons, or the channel is gone, off, or its secrets do not open. */
/** A delivery's channel was removed or turned off after it was queued, or its secrets no longer open. */
export type ChannelProblem = 'channel-removed' | 'channel-disabled' | 'secret-unreadable';
export type DeliveryDeadReason = DeadLetterReason | ChannelProblem;

export interface DeliveryQueued {
  alertId: string;
  channelId: string;
  channelKind: ChannelKind;
  channelName: string;
  /** Who is told: the receiver's host for webhooks and chat, the addresses for e-mail. */
  recipients: string[];
  /** The group as it was when the message was made ready; every attempt sends this. */
  group: AlertGroup;
  /** The count the channel had been told before (0: the group is new to it). */
  notifiedCount: number;
}

export interface DeliveryAttempted {
  /** 1, 2, 3 … over the delivery's life (a requeue goes on counting). */
  attempt: number;
  /** When the attempt was made (the outbox's clock). */
  at: string;
  outcome: 'delivered' | 'retryable' | 'permanent';
  reason: FailureReason | ChannelProblem | null;
  status: number | null;
  detail: string | null;
  /** After a failure: when the next attempt is due, or why there is none. */
  retryAt: string | null;
  deadLetter: DeliveryDeadReason | null;
}

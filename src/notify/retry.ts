import { createHash } from 'node:crypto';
import type { DeliveryFailure } from './outcome.ts';

/** When to give up on a delivery and how far apart its attempts are. */
export interface RetryPolicy {
  /** Delay after the first failed attempt, before jitter. */
  baseDelayMs: number;
  /** Each further failure multiplies the delay by this. */
  factor: number;
  /** Cap on the delay before jitter (a `Retry-After` may ask for longer). */
  maxDelayMs: number;
  /** Attempts in all, the first included; the last failure of these dead-letters. */
  maxAttempts: number;
  /** No attempt is scheduled later than this after the delivery was created. */
  maxAgeMs: number;
}

/** 5 s, 10 s, 20 s … capped at 15 min, each 50–100 % of that with jitter; 12 attempts (33–66 min of back-off in all), none after 24 h. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseDelayMs: 5_000,
  factor: 2,
  maxDelayMs: 15 * 60_000,
  maxAttempts: 12,
  maxAgeMs: 24 * 3_600_000,
};

/** A delivery's history as far as retrying is concerned. */
export interface AttemptState {
  deliveryId: string;
  /** Attempts made so far, the one that just failed included (≥ 1). */
  attempts: number;
  /** When the delivery was created (the message was ready). */
  createdAt: Date;
}

export type DeadLetterReason = 'permanent-failure' | 'max-attempts' | 'max-age';

/** What to do after a failed attempt. */
export type NextStep = { retryAt: Date } | { deadLetter: DeadLetterReason };

/**
 * A number in [0, 1) drawn from the delivery id and attempt number. Jitter that is a function of
 * its input keeps `nextAttempt` pure: an outbox rebuilt from its events computes the same
 * schedule, while different deliveries failing together still spread out.
 */
export function jitterOf(deliveryId: string, attempts: number): number {
  return createHash('sha256').update(`${deliveryId}:${attempts}`).digest().readUInt32BE(0) / 2 ** 32;
}

/** The back-off before attempt `attempts + 1`, without `Retry-After`: half fixed, half jitter ("equal jitter"), so attempts never bunch up at zero. */
export function backoffMs(s: Pick<AttemptState, 'deliveryId' | 'attempts'>, p: RetryPolicy = DEFAULT_RETRY_POLICY): number {
  const raw = Math.min(p.maxDelayMs, p.baseDelayMs * p.factor ** Math.max(0, s.attempts - 1));
  return Math.round(raw / 2 + (raw / 2) * jitterOf(s.deliveryId, s.attempts));
}

/**
 * Decides after a failed attempt: retry at a time (the back-off, or later if the receiver's
 * `Retry-After` asks for it), or dead-letter — at once for a permanent failure, after
 * `maxAttempts`, or when the next attempt would fall after `maxAgeMs`.
 */
export function nextAttempt(s: AttemptState, lastError: DeliveryFailure, now: Date, p: RetryPolicy = DEFAULT_RETRY_POLICY): NextStep {
  if (lastError.outcome === 'permanent') return { deadLetter: 'permanent-failure' };
  if (s.attempts >= p.maxAttempts) return { deadLetter: 'max-attempts' };
  const delayMs = Math.max(backoffMs(s, p), lastError.retryAfterMs ?? 0);
  const retryAt = now.getTime() + delayMs;
  if (retryAt > s.createdAt.getTime() + p.maxAgeMs) return { deadLetter: 'max-age' };
  return { retryAt: new Date(retryAt) };
}

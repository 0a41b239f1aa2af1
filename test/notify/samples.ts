import type { AlertGroup, ChannelConfig, DeliveryResult, NextStep, RetryPolicy } from '../../src/notify/mod.ts';
import { attemptDelivery, type Delivery, nextAttempt, type TransportOptions } from '../../src/notify/mod.ts';
import { newId } from '../../src/ids.ts';

/** An alert group whose agent-supplied host name and rule title try HTML, Slack and header injection. */
export function hostileGroup(over: Partial<AlertGroup> = {}): AlertGroup {
  return {
    tenant: 'acme',
    alertId: newId('al_'),
    ruleId: 'stk-shell-from-web',
    ruleVersion: 3,
    title: 'Shell spawned by web server <script>alert(1)</script> & more',
    severity: 'high',
    attack: ['T1059.004', 'T1190'],
    host: 'web-01<!channel>"\r\nBcc: victim@example.com',
    count: 1,
    firstSeen: '2025-05-01T10:00:00.000Z',
    lastSeen: '2025-05-01T10:00:00.000Z',
    ...over,
  };
}

/** The group of the example in docs/notifications.md. */
export const DOC_GROUP: AlertGroup = {
  tenant: 'acme',
  alertId: 'al_7Hq2',
  ruleId: 'stk-shell-from-web',
  ruleVersion: 3,
  title: 'Shell spawned by a web server',
  severity: 'high',
  attack: ['T1059.004', 'T1190'],
  host: 'web-01',
  count: 12,
  firstSeen: '2025-06-01T09:58:12.000Z',
  lastSeen: '2025-06-01T10:04:40.000Z',
};

export const DEFAULT_ROUTING = { minSeverity: 'low' as const, quietHours: null, thresholds: [1, 10, 100, 1000] };

/** One attempt, as the outbox makes it, and what the retry policy says after it. */
export interface AttemptLog {
  at: Date;
  result: DeliveryResult;
  next: NextStep | null;
}

/**
 * Drives one delivery the way the outbox will: attempt at the scheduled time, ask the retry policy,
 * move the injected clock to `retryAt`, until delivered or dead-lettered. No real waiting: the
 * clock is data, shared with the test's receiver through `clock` (so it checks signatures on the
 * same timeline). Returns every attempt.
 */
export async function driveDelivery(
  channel: ChannelConfig,
  d: Delivery,
  start: Date,
  policy: RetryPolicy,
  transport: TransportOptions,
  clock: { now: Date } = { now: start },
  maxSteps = 50,
): Promise<AttemptLog[]> {
  const log: AttemptLog[] = [];
  let now = start;
  for (let attempts = 1; attempts <= maxSteps; attempts++) {
    clock.now = now;
    const result = await attemptDelivery(channel, d, now, transport);
    if (result.outcome === 'delivered') {
      log.push({ at: now, result, next: null });
      return log;
    }
    const next = nextAttempt({ deliveryId: d.id, attempts, createdAt: start }, result, now, policy);
    log.push({ at: now, result, next });
    if ('deadLetter' in next) return log;
    now = next.retryAt;
  }
  throw new Error('delivery neither delivered nor dead-lettered');
}

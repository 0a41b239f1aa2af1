import { JetStreamApiError } from '@nats-io/jetstream';
import { StkError } from '../errors.ts';
import { PublishRefused } from './publisher.ts';

/**
 * True for failures that a retry can cure: a timeout, no responders, "JetStream not enabled" while
 * a stream or meta leader is being elected (shared/LIMITS.md), a dropped connection. A refusal that
 * is about the request itself (wrong last sequence, a 4xx API error) is never transient.
 */
/**
 * JetStream's "insufficient (storage) resources": the server has no room for what was asked (a
 * stream's reserved `max_bytes`), which waiting does not change — answered at once, never retried.
 */
const NO_ROOM_CODES: ReadonlySet<number> = new Set([10023, 10047]);

export function isTransient(err: unknown): boolean {
  if (err instanceof JetStreamApiError && NO_ROOM_CODES.has(err.code)) return false;
  if (err instanceof PublishRefused) return err.status === 503 || err.status === 408 || err.apiCode === 10039 || err.apiCode === 10008;
  if (err instanceof JetStreamApiError) return err.status >= 500 || err.code === 10039 || err.code === 10008;
  if (err instanceof StkError) return err.code === 'STK_ERR_LOG_UNAVAILABLE' && (err.cause === undefined || isTransient(err.cause));
  const name = (err as Error)?.name ?? '';
  const message = String((err as Error)?.message ?? '');
  return (
    /Timeout|NoResponders|JetStreamNotEnabled|RequestError|ConnectionError|ClosedConnection|Disconnect/i.test(name) ||
    /timeout|no responders|not enabled|disconnect|connection (closed|lost)/i.test(message)
  );
}

/**
 * Runs `op` until it succeeds, fails with a non-transient error, or `budgetMs` has passed, backing
 * off from 50 ms to 500 ms. Only for operations that are safe to repeat: reads, and appends whose
 * event ids are fixed before the first attempt (the msg-id makes a repeated append a no-op).
 */
export async function retryTransient<T>(op: () => Promise<T>, budgetMs: number): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (let delay = 50; ; delay = Math.min(500, delay * 2)) {
    try {
      return await op();
    } catch (err) {
      if (!isTransient(err) || Date.now() + delay > deadline) throw err;
      // A back-off between attempts while a leader election or reconnect completes.
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

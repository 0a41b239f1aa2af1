import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { StkError } from '../errors.ts';

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
 * Creates the EVENTS stream, or brings an existing one's mutable settings up to date.
 * Events are never discarded to make room: a full stream refuses new appends (DiscardNew), so an
 * acknowledged event is never lost to a limit.
 */
export async function ensureEventsStream(jsm: JetStreamManager, o: EventsStreamOptions = {}): Promise<void> {
  const config: Partial<StreamConfig> & { name: string } = {
    name: EVENTS_STREAM,
    subjects: ['ev.>'],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.New,
    num_replicas: o.replicas ?? 1,
    duplicate_window: (o.duplicateWindowMs ?? 120_000) * 1_000_000,
    max_bytes: o.maxBytes ?? -1,
    allow_direct: true,
  };
  try {
    const info = await jsm.streams.info(EVENTS_STREAM).catch(() => null);
    if (!info) {
      await jsm.streams.add(config);
      return;
    }
    const c = info.config;
    if (c.duplicate_window !== config.duplicate_window || c.max_bytes !== config.max_bytes || c.num_replicas !== config.num_replicas) {
      await jsm.streams.update(EVENTS_STREAM, {
        ...c,
        duplicate_window: config.duplicate_window!,
        max_bytes: config.max_bytes!,
        num_replicas: config.num_replicas!,
      });
    }
  } catch (err) {
    throw new StkError(
      'STK_ERR_LOG_UNAVAILABLE',
      `cannot create or update stream ${EVENTS_STREAM}: ${(err as Error).message}`,
      { stream: EVENTS_STREAM },
      { cause: err },
    );
  }
}

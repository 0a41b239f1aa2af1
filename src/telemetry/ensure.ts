import type { Streams } from '../log/mod.ts';
import type { Logger } from '../logger.ts';
import { type TelemetryStreamOptions, telemetryStreamSpec } from './stream.ts';

/**
 * Creates TELEMETRY (or brings its limits up to date), smaller than configured when the JetStream
 * server has no room for the configured bound (`Streams.ensureStreamWithin`), with a warning:
 * telemetry is retained, not kept, and a smaller bound only means older items go sooner. Returns
 * the size in effect.
 */
export async function ensureTelemetryStream(
  streams: Streams,
  o: TelemetryStreamOptions = {},
  logger?: Logger,
  /** Create it if missing but leave an existing one as it is (a role that does not hold the retention settings). */
  c: { createOnly?: boolean } = {},
): Promise<number> {
  const spec = { ...telemetryStreamSpec(o), ...(c.createOnly ? { updateMutable: false } : {}) };
  const wanted = spec.maxBytes ?? 0;
  const got = await streams.ensureStreamWithin(spec);
  if (got !== wanted) logger?.warn({ wantedBytes: wanted, maxBytes: got }, 'TELEMETRY is smaller than configured: the JetStream server had no room for more');
  return got;
}

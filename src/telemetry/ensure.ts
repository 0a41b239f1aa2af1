import { isStkError } from '../errors.ts';
import type { Streams } from '../log/mod.ts';
import type { Logger } from '../logger.ts';
import { type TelemetryStreamOptions, telemetryStreamSpec } from './stream.ts';

/** The smallest TELEMETRY stream worth having when the server has little room. */
const MIN_BYTES = 1024 * 1024;

function insufficientStorage(err: unknown): boolean {
  const text = `${(err as Error)?.message ?? ''} ${((err as { cause?: Error })?.cause as Error | undefined)?.message ?? ''}`;
  return isStkError(err, 'STK_ERR_LOG_UNAVAILABLE') && /insufficient (storage )?resources/i.test(text);
}

/**
 * Creates TELEMETRY (or brings its limits up to date). A JetStream server reserves a stream's
 * `max_bytes` when it creates it, and refuses one larger than it has room for; rather than keep an
 * install from starting, the size is halved until the server takes it (down to 1 MiB), with a
 * warning: telemetry is retained, not kept, and a smaller bound only means older items go sooner.
 * Returns the size in effect.
 */
export async function ensureTelemetryStream(
  streams: Streams,
  o: TelemetryStreamOptions = {},
  logger?: Logger,
  /** Create it if missing but leave an existing one as it is (a role that does not hold the retention settings). */
  c: { createOnly?: boolean } = {},
): Promise<number> {
  let spec = { ...telemetryStreamSpec(o), ...(c.createOnly ? { updateMutable: false } : {}) };
  const wanted = spec.maxBytes ?? 0;
  for (;;) {
    try {
      await streams.ensureStream(spec);
      if (spec.maxBytes !== wanted)
        logger?.warn({ wantedBytes: wanted, maxBytes: spec.maxBytes }, 'TELEMETRY is smaller than configured: the JetStream server had no room for more');
      return spec.maxBytes ?? wanted;
    } catch (err) {
      const next = Math.floor((spec.maxBytes ?? 0) / 2);
      if (!insufficientStorage(err) || next < MIN_BYTES) throw err;
      spec = { ...spec, maxBytes: next };
    }
  }
}

import { newId } from '../ids.ts';
import { partitionOf, type StreamSpec, type Streams } from '../log/mod.ts';
import type { Logger } from '../logger.ts';

/**
 * Refused attempts (wrong credentials, forbidden actions, probes of customers the caller cannot
 * see) go to a stream of their own, never to EVENTS: a refusal must not change a customer's log,
 * its ledger or the position another tenant could observe, and a flood of bad requests must not
 * grow the sealed history. Subjects `refused.<partition>.<tenant>`; limits by age and size, the
 * oldest dropped first. A customer's audit export merges them in.
 */
export const REFUSALS_STREAM = 'REFUSALS';
export const REFUSALS_MAX_AGE_MS = 90 * 24 * 3600_000;
export const REFUSALS_MAX_BYTES = 512 * 1024 * 1024;

export interface Refusal {
  at: string;
  /** What was refused: `sign-in`, `forbidden`, `not-visible`, `suspended`, `four-eyes`… */
  kind: string;
  code: string;
  /** Who tried (actor id, or the presented account for a sign-in); never a secret. */
  actor: string;
  via: string | null;
  method: string;
  /** The route pattern (never the raw URL, which may carry anything). */
  route: string;
  ip: string;
}

/** REFUSALS as Stockade declares it (the backup's restore creates it the same way). */
export function refusalsStreamSpec(replicas = 1): StreamSpec {
  return { name: REFUSALS_STREAM, subjects: ['refused.>'], discard: 'old', maxAgeMs: REFUSALS_MAX_AGE_MS, maxBytes: REFUSALS_MAX_BYTES, replicas };
}

export function refusalSubject(tenant: string): string {
  return `refused.${partitionOf(tenant)}.${tenant}`;
}

/** Writes refusals without making the refused request wait; a full or absent stream only logs. */
export class Refusals {
  #ready: Promise<void> | null = null;

  constructor(
    private readonly streams: Streams,
    private readonly logger: Logger,
    private readonly replicas = 1,
  ) {}

  #ensure(): Promise<void> {
    this.#ready ??= this.streams.ensureStreamWithin(refusalsStreamSpec(this.replicas)).then(
      () => {},
      (err: unknown) => {
        this.#ready = null;
        throw err;
      },
    );
    return this.#ready;
  }

  /** Records `r` under each tenant in `tenants` (the target, and the install for the caller's own record). */
  record(tenants: string[], r: Refusal): Promise<void> {
    const body = new TextEncoder().encode(JSON.stringify(r));
    return this.#ensure()
      .then(() => Promise.all([...new Set(tenants)].map((t) => this.streams.publish(refusalSubject(t), body, { msgId: newId() }))))
      .then(
        () => undefined,
        (err) => this.logger.warn({ err, kind: r.kind }, 'could not record a refused attempt'),
      );
  }

  /**
   * Every refusal recorded under `tenant` (what the stream still keeps), oldest first, read in
   * short scans of `chunk` messages: a slow reader of the answer (an export download) never holds
   * a consumer open, whose idle watchdog would end the read half way.
   */
  async *all(tenant: string, chunk = 1_000): AsyncGenerator<Refusal> {
    await this.#ensure();
    let fromSeq = 1;
    for (;;) {
      const got: Refusal[] = [];
      let last = 0;
      for await (const m of this.streams.scan(REFUSALS_STREAM, { filter: refusalSubject(tenant), fromSeq })) {
        got.push(JSON.parse(new TextDecoder().decode(m.data)) as Refusal);
        last = m.seq;
        if (got.length >= chunk) break;
      }
      yield* got;
      if (got.length < chunk) return;
      fromSeq = last + 1;
    }
  }

  /** The newest `limit` refusals recorded under `tenant`, newest first (reads the tenant's whole record once). */
  async recent(tenant: string, limit: number): Promise<Refusal[]> {
    await this.#ensure();
    const ring: Refusal[] = [];
    await this.streams.scanEach(REFUSALS_STREAM, { filter: refusalSubject(tenant) }, (m) => {
      ring.push(JSON.parse(new TextDecoder().decode(m.data)) as Refusal);
      if (ring.length > limit) ring.shift();
    });
    return ring.reverse();
  }
}

import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type StoredMsg,
} from '@nats-io/jetstream';
import { StkError } from '../errors.ts';
import { CHECKPOINT_SUBJECT, KEYS_SUBJECT, LEDGER_STREAM, LEDGER_SUBJECT_PREFIX } from './format.ts';
import { retryTransient } from '../log/retry.ts';

/** How long ledger reads ride out a leader election before they fail. */
const TRANSIENT_RETRY_MS = 10_000;

/**
 * Creates the LEDGER stream if it is missing. `deny_delete` and `deny_purge` are set at creation
 * and the server refuses to lift them by an update, so removing a block takes deleting the whole
 * stream — which only the stream's account can do, and a saved checkpoint then exposes.
 */
export async function ensureLedgerStream(jsm: JetStreamManager, o: { replicas?: number } = {}): Promise<void> {
  try {
    const info = await jsm.streams.info(LEDGER_STREAM).catch((err: unknown) => {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return null;
      throw err;
    });
    if (info) return;
    await jsm.streams.add({
      name: LEDGER_STREAM,
      subjects: [`${LEDGER_SUBJECT_PREFIX}>`, CHECKPOINT_SUBJECT, KEYS_SUBJECT],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.New,
      num_replicas: o.replicas ?? 1,
      deny_delete: true,
      deny_purge: true,
      allow_direct: true,
    });
  } catch (err) {
    throw ledgerUnavailable(err, `cannot create stream ${LEDGER_STREAM}`);
  }
}

/** The newest message on `subject` of `stream`, or null. */
export async function lastOnSubject(jsm: JetStreamManager, stream: string, subject: string): Promise<StoredMsg | null> {
  try {
    return await retryTransient(() => jsm.streams.getMessage(stream, { last_by_subj: subject }), TRANSIENT_RETRY_MS);
  } catch (err) {
    if (isStreamNotFound(err)) return null;
    throw ledgerUnavailable(err, `cannot read the last message of ${subject}`);
  }
}

/** A stream that does not exist yet (LEDGER before the first sealer start) reads as empty. */
export function isStreamNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound;
}

/**
 * An ephemeral, ack-less consumer over the messages of `stream` matching `filter` (from
 * `fromSeq`) and how many there are when it is made; null when the stream does not exist yet.
 * A read-only user can make one, and it reads at the speed of the stream.
 */
async function openScan(jsm: JetStreamManager, stream: string, filter: string, fromSeq?: number): Promise<{ name: string; pending: number } | null> {
  try {
    // A leader election (cluster failover) answers with timeouts for a few seconds: retried. An
    // ephemeral consumer made by an attempt whose answer was lost lapses by inactive_threshold.
    const ci = await retryTransient(
      () =>
        jsm.consumers.add(stream, {
          ack_policy: AckPolicy.None,
          filter_subject: filter,
          mem_storage: true,
          inactive_threshold: 30_000_000_000,
          ...(fromSeq && fromSeq > 1 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: fromSeq } : { deliver_policy: DeliverPolicy.All }),
        }),
      TRANSIENT_RETRY_MS,
    );
    return { name: ci.name, pending: ci.num_pending };
  } catch (err) {
    if (isStreamNotFound(err)) return null;
    throw ledgerUnavailable(err, `cannot read ${stream} ${filter}`);
  }
}

/**
 * Reads every message of `stream` matching `filter` (from sequence `fromSeq`) that exists when the
 * call starts, in sequence order. Messages stored after the start are not read, so a scan always
 * ends.
 */
export async function* scan(jsm: JetStreamManager, js: JetStreamClient, stream: string, filter: string, o: { fromSeq?: number } = {}): AsyncGenerator<JsMsg> {
  const open = await openScan(jsm, stream, filter, o.fromSeq);
  if (!open) return;
  try {
    if (open.pending === 0) return;
    const messages = await (await js.consumers.get(stream, open.name)).consume({ max_messages: 4096 });
    let seen = 0;
    try {
      for await (const m of messages) {
        yield m;
        if (++seen >= open.pending) break;
      }
    } finally {
      await messages.close().catch(() => {});
    }
  } finally {
    await jsm.consumers.delete(stream, open.name).catch(() => {});
  }
}

/**
 * `scan` with a callback instead of an async generator: one promise less per message, for the
 * verifier's pass over every record.
 */
export async function scanEach(jsm: JetStreamManager, js: JetStreamClient, stream: string, filter: string, each: (m: JsMsg) => void): Promise<void> {
  const open = await openScan(jsm, stream, filter);
  if (!open) return;
  try {
    if (open.pending === 0) return;
    const messages = await (await js.consumers.get(stream, open.name)).consume({ max_messages: 4096 });
    let seen = 0;
    try {
      for await (const m of messages) {
        each(m);
        if (++seen >= open.pending) break;
      }
    } finally {
      await messages.close().catch(() => {});
    }
  } finally {
    await jsm.consumers.delete(stream, open.name).catch(() => {});
  }
}

export function ledgerUnavailable(err: unknown, what: string): StkError {
  if (err instanceof StkError) return err;
  return new StkError('STK_ERR_LOG_UNAVAILABLE', `${what}: ${(err as Error)?.message ?? err}`, { stream: LEDGER_STREAM }, { cause: err });
}

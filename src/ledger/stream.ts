import { StkError } from '../errors.ts';
import type { StreamSpec } from '../log/mod.ts';
import { CHECKPOINT_SUBJECT_PREFIX, KEYS_SUBJECT, LEDGER_STREAM, LEDGER_SUBJECT_PREFIX, LEGACY_CHECKPOINT_SUBJECT } from './format.ts';

/**
 * The LEDGER stream. `deny_delete` and `deny_purge` are set at creation and the server refuses to
 * lift them by an update, so removing a block takes deleting the whole stream — which only the
 * stream's account can do, and a saved checkpoint then exposes. It is never updated.
 */
export function ledgerStreamSpec(o: { replicas?: number } = {}): StreamSpec {
  return {
    name: LEDGER_STREAM,
    subjects: [`${LEDGER_SUBJECT_PREFIX}>`, `${CHECKPOINT_SUBJECT_PREFIX}>`, LEGACY_CHECKPOINT_SUBJECT, KEYS_SUBJECT],
    discard: 'new',
    replicas: o.replicas ?? 1,
    denyDelete: true,
    denyPurge: true,
  };
}

export function ledgerUnavailable(err: unknown, what: string): StkError {
  if (err instanceof StkError) return err;
  return new StkError('STK_ERR_LOG_UNAVAILABLE', `${what}: ${(err as Error)?.message ?? err}`, { stream: LEDGER_STREAM }, { cause: err });
}

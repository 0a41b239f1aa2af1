import type { ErrorCode } from '../errors.ts';
import { EMPTY_ROOT, bytesEqual, verifyConsistency } from '../merkle/mod.ts';
import type { Checkpoint } from '../transparency/mod.ts';

/** What the witness keeps per log: the last checkpoint it cosigned. */
export interface LogRecord {
  origin: string;
  size: number;
  rootHash: Uint8Array;
  /** Timestamp of the last cosignature, so a clock stepping back never makes a later one older. */
  timestamp: number;
  /** The checkpoint note as last cosigned: text, the log signatures verified, the cosignature. */
  checkpoint: string;
}

/** The catalogue codes of the add-checkpoint refusals (each has its HTTP status in tlog-witness). */
export type RefusalCode = Extract<
  ErrorCode,
  'STK_ERR_WITNESS_MALFORMED' | 'STK_ERR_WITNESS_UNKNOWN_LOG' | 'STK_ERR_WITNESS_SIGNATURE' | 'STK_ERR_WITNESS_CONFLICT' | 'STK_ERR_WITNESS_INCONSISTENT'
>;

/** A refusal of add-checkpoint: an expected outcome, answered with the protocol's status. */
export type Refusal = {
  kind: 'refuse';
  code: RefusalCode;
  message: string;
  /** For a conflict: the size of the last checkpoint cosigned (the body of the 409). */
  currentSize?: number;
};

/** Cosign at this timestamp and record the checkpoint; or refuse. */
export type Decision = { kind: 'cosign'; timestamp: number } | Refusal;

/**
 * The add-checkpoint rules of tlog-witness once the checkpoint's signature is verified: pure, the
 * clock comes in as `nowSeconds`. Old size above the checkpoint size → malformed; old size other
 * than the size last cosigned → conflict; a size-0 checkpoint without the empty root, a proof
 * with old size 0, the same size with another root, or a proof that does not verify → inconsistent.
 */
export function decideAddCheckpoint(input: {
  last: LogRecord | null;
  oldSize: number;
  proof: readonly Uint8Array[];
  checkpoint: Checkpoint;
  nowSeconds: number;
}): Decision {
  const { last, oldSize, proof, checkpoint: cp } = input;
  const refuse = (code: Refusal['code'], message: string, currentSize?: number): Refusal => ({
    kind: 'refuse',
    code,
    message,
    ...(currentSize !== undefined ? { currentSize } : {}),
  });
  if (oldSize > cp.size) return refuse('STK_ERR_WITNESS_MALFORMED', `old size ${oldSize} is above the checkpoint size ${cp.size}`);
  const recorded = last?.size ?? 0;
  if (oldSize !== recorded) return refuse('STK_ERR_WITNESS_CONFLICT', `old size ${oldSize} is not the size last cosigned, ${recorded}`, recorded);
  if (cp.size === 0 && !bytesEqual(cp.rootHash, EMPTY_ROOT)) return refuse('STK_ERR_WITNESS_INCONSISTENT', 'a checkpoint of size 0 has the empty root');
  if (oldSize === 0) {
    if (proof.length > 0) return refuse('STK_ERR_WITNESS_INCONSISTENT', 'a consistency proof from size 0 is empty');
  } else {
    const r = verifyConsistency(oldSize, cp.size, last!.rootHash, cp.rootHash, proof);
    if (!r.ok) {
      const message =
        oldSize === cp.size && r.reason === 'root-mismatch'
          ? `size ${cp.size} was cosigned with another root`
          : `the consistency proof from ${oldSize} to ${cp.size} does not verify (${r.reason})`;
      return refuse('STK_ERR_WITNESS_INCONSISTENT', message);
    }
  }
  return { kind: 'cosign', timestamp: Math.max(1, Math.floor(input.nowSeconds), last?.timestamp ?? 0) };
}

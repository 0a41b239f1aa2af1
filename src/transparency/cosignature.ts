import { sign as edSign, verify as edVerify } from 'node:crypto';
import { StkError } from '../errors.ts';
import { parseCheckpoint, type Checkpoint } from './checkpoint.ts';
import { SIG_TYPE_COSIGNATURE_V1, ed25519PublicKey, parseVerifierKey, type SignerKey, type VerifierKey } from './keys.ts';
import { assertNoteText, ed25519NoteVerifier, formatSignatureLine, openNote, type NoteLimits, type NoteVerifier } from './note.ts';

const encoder = new TextEncoder();
const MAX_TIMESTAMP = 2n ** 63n - 1n;

/** The message an Ed25519 v1 cosignature signs: `cosignature/v1`, `time <t>`, then the checkpoint text. */
export function cosignatureMessage(checkpointText: string, timestampSeconds: number): Uint8Array {
  return encoder.encode(`cosignature/v1\ntime ${timestampSeconds}\n${checkpointText}`);
}

/**
 * A cosignature line (tlog-cosignature, Ed25519, type 0x04) by `key` over a checkpoint text, at
 * `timestampSeconds` (POSIX seconds, > 0: the witness protocol forbids a zero timestamp).
 */
export function cosignCheckpoint(key: SignerKey, checkpointText: string, timestampSeconds: number): string {
  if (key.type !== SIG_TYPE_COSIGNATURE_V1) throw new StkError('STK_ERR_NOTE_INVALID', 'a cosigning key has signature type 0x04', { field: 'type' });
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds <= 0) {
    throw new StkError('STK_ERR_NOTE_INVALID', 'a cosignature timestamp is a positive integer of seconds', { field: 'timestamp' });
  }
  assertNoteText(checkpointText);
  if (!parseCheckpoint(checkpointText).ok) throw new StkError('STK_ERR_NOTE_INVALID', 'only a checkpoint text is cosigned', { field: 'checkpointText' });
  const sig = new Uint8Array(72);
  new DataView(sig.buffer).setBigUint64(0, BigInt(timestampSeconds));
  sig.set(edSign(null, cosignatureMessage(checkpointText, timestampSeconds), key.privateKey), 8);
  return formatSignatureLine(key.name, key.keyId, sig);
}

/** The timestamp of a v1 cosignature's signature bytes, or null when they are not 8 + 64 bytes of a valid timestamp. */
export function cosignatureTimestamp(signature: Uint8Array): number | null {
  if (signature.length !== 72) return null;
  const t = new DataView(signature.buffer, signature.byteOffset, 8).getBigUint64(0);
  if (t > MAX_TIMESTAMP || t > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return Number(t);
}

/** A note verifier for a witness's v1 cosignatures (type 0x04 key). */
export function cosignatureVerifier(key: VerifierKey): NoteVerifier {
  if (key.type !== SIG_TYPE_COSIGNATURE_V1) throw new StkError('STK_ERR_NOTE_INVALID', 'a cosignature verifier key has signature type 0x04', { field: 'type' });
  const pub = ed25519PublicKey(key.publicKey);
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  return {
    name: key.name,
    keyId: key.keyId,
    keyFingerprint: Buffer.from(key.publicKey).toString('hex'),
    verify(text, signature) {
      const t = cosignatureTimestamp(signature);
      if (t === null) return false;
      return edVerify(null, cosignatureMessage(decoder.decode(text), t), pub, signature.subarray(8));
    },
  };
}

function toKey(k: VerifierKey | string): VerifierKey {
  if (typeof k !== 'string') return k;
  const p = parseVerifierKey(k);
  if (!p.ok) throw new StkError('STK_ERR_NOTE_INVALID', `vkey ${JSON.stringify(k.slice(0, 200))}: ${p.reason}`, { field: 'vkey' });
  return p.key;
}

/** A witness cosignature that verified. */
export interface WitnessCosignature {
  name: string;
  keyId: number;
  timestamp: number;
  line: string;
}

/** What verifyCosignedCheckpoint needs. */
export interface CosignaturePolicy {
  /** The log's key(s) (type 0x01), parsed or as vkey text; one valid signature from them is required. */
  logKeys: readonly (VerifierKey | string)[];
  /** The witnesses' keys (type 0x04), parsed or as vkey text. */
  witnessKeys: readonly (VerifierKey | string)[];
  /** How many distinct witness keys must have cosigned. */
  quorum: number;
  /** Cosignatures with a timestamp after this (POSIX seconds) do not count (C2SP allows refusing future timestamps). */
  notAfterSeconds?: number;
  limits?: NoteLimits;
}

/** Why a cosigned checkpoint was refused. */
export type CosignedFailure = 'malformed' | 'invalid-signature' | 'unverified' | 'log-signature' | 'quorum';

/**
 * Verifies a checkpoint signed by its log and cosigned by at least `quorum` of the witness keys
 * (each distinct public key counts once, since a v1 cosignature does not commit to the name).
 * A signature line of a configured key that fails refuses the whole note. Never throws on the
 * note; a policy that cannot be met (a malformed vkey, a key of the wrong type, a quorum above
 * the number of distinct witness keys) throws STK_ERR_NOTE_INVALID.
 */
export function verifyCosignedCheckpoint(
  note: Uint8Array | string,
  policy: CosignaturePolicy,
): { ok: true; checkpoint: Checkpoint; cosignatures: WitnessCosignature[] } | { ok: false; reason: CosignedFailure; detail: string } {
  const logKeys = policy.logKeys.map(toKey);
  const witnessKeys = policy.witnessKeys.map(toKey);
  const distinct = new Set(witnessKeys.map((k) => Buffer.from(k.publicKey).toString('hex'))).size;
  if (!Number.isSafeInteger(policy.quorum) || policy.quorum < 1 || policy.quorum > distinct) {
    throw new StkError('STK_ERR_NOTE_INVALID', `a quorum of ${policy.quorum} cannot be met by ${distinct} distinct witness key(s)`, { field: 'quorum' });
  }
  const logVerifiers = logKeys.map(ed25519NoteVerifier);
  const witnessVerifiers = witnessKeys.map(cosignatureVerifier);
  const opened = openNote(note, [...logVerifiers, ...witnessVerifiers], policy.limits ?? {});
  if (!opened.ok) return opened;
  const parsed = parseCheckpoint(opened.note.text);
  if (!parsed.ok) return parsed;
  const logSet = new Set<NoteVerifier>(logVerifiers);
  if (!opened.note.verified.some((s) => s.verifier && logSet.has(s.verifier))) {
    return { ok: false, reason: 'log-signature', detail: "no valid signature from the log's key" };
  }
  const counted = new Set<string>();
  const cosignatures: WitnessCosignature[] = [];
  for (const s of opened.note.verified) {
    if (!s.verifier || logSet.has(s.verifier)) continue;
    const timestamp = cosignatureTimestamp(s.signature)!;
    if (policy.notAfterSeconds !== undefined && timestamp > policy.notAfterSeconds) continue;
    if (counted.has(s.verifier.keyFingerprint)) continue;
    counted.add(s.verifier.keyFingerprint);
    cosignatures.push({ name: s.name, keyId: s.keyId, timestamp, line: s.line });
  }
  if (cosignatures.length < policy.quorum) {
    return { ok: false, reason: 'quorum', detail: `${cosignatures.length} of the ${policy.quorum} witness cosignatures required` };
  }
  return { ok: true, checkpoint: parsed.checkpoint, cosignatures };
}

/**
 * C2SP transparency formats: signed notes (Ed25519), verifier keys, tlog-checkpoint bodies and
 * tlog-cosignature v1 (timestamped Ed25519) cosignatures. Formats as we use them: docs/ledger-format.md (Part II).
 */
export { decodeBase64, encodeBase64 } from './base64.ts';
export {
  formatCheckpoint,
  openCheckpoint,
  parseCheckpoint,
  parseDecimal,
  signCheckpoint,
  type Checkpoint,
  type CheckpointFailure,
} from './checkpoint.ts';
export {
  cosignCheckpoint,
  cosignatureMessage,
  cosignatureTimestamp,
  cosignatureVerifier,
  verifyCosignedCheckpoint,
  type CosignaturePolicy,
  type CosignedFailure,
  type WitnessCosignature,
} from './cosignature.ts';
export {
  SIG_TYPE_COSIGNATURE_V1,
  SIG_TYPE_ED25519,
  computeKeyId,
  ed25519PublicKey,
  formatSignerKey,
  formatVerifierKey,
  generateSignerKey,
  isValidKeyName,
  parseSignerKey,
  parseVerifierKey,
  signerKeyFromSeed,
  verifierKeyOf,
  type KeyParse,
  type SignatureType,
  type SignerKey,
  type VerifierKey,
} from './keys.ts';
export {
  assertNoteText,
  ed25519NoteSigner,
  ed25519NoteVerifier,
  formatSignatureLine,
  openNote,
  parseNote,
  signNote,
  type NoteFailure,
  type NoteLimits,
  type NoteSignature,
  type NoteSigner,
  type NoteVerifier,
  type OpenedNote,
  type ParsedNote,
} from './note.ts';

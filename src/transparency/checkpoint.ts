import { StkError } from '../errors.ts';
import { EMPTY_ROOT, bytesEqual, isHash } from '../merkle/mod.ts';
import { decodeBase64, encodeBase64 } from './base64.ts';
import { assertNoteText, openNote, signNote, type NoteLimits, type NoteSigner, type NoteVerifier, type OpenedNote } from './note.ts';

/** The body of a C2SP tlog-checkpoint: a log's tree head. */
export interface Checkpoint {
  /** Identifies the log; by our convention also the name of the log's key (docs/ledger-format.md, Part II). */
  origin: string;
  /** Number of leaves. Checkpoints above 2^53 - 1 leaves are refused (JavaScript numbers). */
  size: number;
  /** RFC 6962 root hash (32 bytes). */
  rootHash: Uint8Array;
  /** Opaque extension lines, non-empty; the spec recommends against them. */
  extensions: string[];
}

const decimal = /^(?:0|[1-9][0-9]*)$/;
// Control characters (newline among them) and lone surrogates cannot be in a line of a note.
const badLineChar = /[\p{Cc}\p{Cs}]/u;

/** Parses an ASCII decimal with no leading zeros as a safe integer; null otherwise. */
export function parseDecimal(text: string): number | null {
  if (!decimal.test(text) || text.length > 16) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

/** The note text of a checkpoint: origin, size, base64 root, extension lines, each ending in a newline. */
export function formatCheckpoint(c: Checkpoint): string {
  const bad = (field: string, why: string): never => {
    throw new StkError('STK_ERR_NOTE_INVALID', `checkpoint ${field} ${why}`, { field });
  };
  if (typeof c.origin !== 'string' || c.origin.length === 0 || badLineChar.test(c.origin)) bad('origin', 'must be one non-empty line');
  if (!Number.isSafeInteger(c.size) || c.size < 0) bad('size', 'must be a non-negative safe integer');
  if (!isHash(c.rootHash)) bad('rootHash', 'must be 32 bytes');
  if (c.size === 0 && !bytesEqual(c.rootHash, EMPTY_ROOT)) bad('rootHash', 'of size 0 must be the empty root');
  for (const e of c.extensions ?? []) if (typeof e !== 'string' || e.length === 0 || badLineChar.test(e)) bad('extensions', 'must be non-empty lines');
  return [c.origin, String(c.size), encodeBase64(c.rootHash), ...(c.extensions ?? [])].map((l) => `${l}\n`).join('');
}

/** Parses a checkpoint note text (tlog-checkpoint §Note text); never throws. */
export function parseCheckpoint(text: string): { ok: true; checkpoint: Checkpoint } | { ok: false; reason: 'malformed'; detail: string } {
  const no = (detail: string) => ({ ok: false as const, reason: 'malformed' as const, detail });
  if (typeof text !== 'string' || !text.endsWith('\n')) return no('a checkpoint text ends with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) return no('a checkpoint has at least three lines');
  if (lines.some((l) => l.length === 0)) return no('a checkpoint has no empty line');
  const [origin, sizeLine, rootLine, ...extensions] = lines as [string, string, string, ...string[]];
  const size = parseDecimal(sizeLine);
  if (size === null) return no('the size is not a decimal without leading zeros (below 2^53)');
  const rootHash = decodeBase64(rootLine);
  if (rootHash?.length !== 32) return no('the root hash is not base64 of 32 bytes');
  return { ok: true, checkpoint: { origin, size, rootHash, extensions } };
}

/** Signs a checkpoint with the log's key(s); returns the note. */
export function signCheckpoint(c: Checkpoint, signers: readonly NoteSigner[]): string {
  const text = formatCheckpoint(c);
  assertNoteText(text);
  return signNote(text, signers);
}

/** Why a checkpoint was refused. */
export type CheckpointFailure = 'malformed' | 'invalid-signature' | 'unverified';

/** Opens a signed checkpoint: a note some verifier signed whose text is a checkpoint. Never throws on input. */
export function openCheckpoint(
  note: Uint8Array | string,
  verifiers: readonly NoteVerifier[],
  limits: NoteLimits = {},
): { ok: true; checkpoint: Checkpoint; note: OpenedNote } | { ok: false; reason: CheckpointFailure; detail: string } {
  const opened = openNote(note, verifiers, limits);
  if (!opened.ok) return opened;
  const parsed = parseCheckpoint(opened.note.text);
  if (!parsed.ok) return parsed;
  return { ok: true, checkpoint: parsed.checkpoint, note: opened.note };
}

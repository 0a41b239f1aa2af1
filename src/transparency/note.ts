import { sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { StkError } from '../errors.ts';
import { decodeBase64, encodeBase64 } from './base64.ts';
import { SIG_TYPE_ED25519, ed25519PublicKey, isValidKeyName, type SignerKey, type VerifierKey } from './keys.ts';

/** Produces the signature bytes (after the 4-byte key ID) of a note text. */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  sign(text: Uint8Array): Uint8Array;
}

/** Checks the signature bytes (after the 4-byte key ID) of a note text for one (name, key ID). */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  /** Identifies the key behind the verifier (hex public key), so one key is never counted twice. */
  readonly keyFingerprint: string;
  verify(text: Uint8Array, signature: Uint8Array): boolean;
}

/** One signature line of a note. */
export interface NoteSignature {
  name: string;
  keyId: number;
  /** The signature bytes after the key ID. */
  signature: Uint8Array;
  /** The whole line, `— <name> <base64>` with its final newline. */
  line: string;
  /** For a verified signature: the verifier that accepted it. */
  verifier?: NoteVerifier;
}

/** A note whose structure is valid, signatures not yet checked. */
export interface ParsedNote {
  text: string;
  /** The exact bytes signatures cover: the text with its final newline. */
  textBytes: Uint8Array;
  signatures: NoteSignature[];
}

/** A note with at least one signature from a known key verified, and none from a known key failing. */
export interface OpenedNote {
  text: string;
  textBytes: Uint8Array;
  verified: NoteSignature[];
  /** Signatures from unknown keys: ignored, kept to pass the note on. */
  unverified: NoteSignature[];
}

/** Why a note was refused: not a note, a known key's signature failed, or no known key signed. */
export type NoteFailure = 'malformed' | 'invalid-signature' | 'unverified';

/** Limits on what a note parser accepts. */
export interface NoteLimits {
  /** Largest note accepted. @defaultValue 1 MiB */
  maxBytes?: number;
  /** Most signature lines accepted (the spec asks for at least 16). @defaultValue 100 */
  maxSignatures?: number;
}

const EM_DASH_SPACE = '\u2014 ';
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();
/** C2SP signed-note: no ASCII control characters (below U+0020) other than newline. */
function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 && c !== 0x0a) return true;
  }
  return false;
}
const loneSurrogate = /\p{Cs}/u;

const malformed = (detail: string) => ({ ok: false as const, reason: 'malformed' as const, detail });

/** Parses the structure of a signed note (C2SP signed-note §Format); checks no signature. */
export function parseNote(
  note: Uint8Array | string,
  limits: NoteLimits = {},
): { ok: true; note: ParsedNote } | { ok: false; reason: 'malformed'; detail: string } {
  const maxBytes = limits.maxBytes ?? 1 << 20;
  const maxSignatures = limits.maxSignatures ?? 100;
  let bytes: Uint8Array;
  let all: string;
  if (typeof note === 'string') {
    if (loneSurrogate.test(note)) return malformed('not valid Unicode');
    all = note;
    bytes = encoder.encode(note);
  } else if (note instanceof Uint8Array) {
    bytes = note;
    try {
      all = decoder.decode(note);
    } catch {
      return malformed('not valid UTF-8');
    }
  } else {
    return malformed('not text');
  }
  if (bytes.length > maxBytes) return malformed(`larger than ${maxBytes} bytes`);
  if (hasControlChar(all)) return malformed('a control character other than newline');
  // The text ends at the last blank line; a newline byte never occurs inside a UTF-8 sequence.
  let split = -1;
  for (let i = bytes.length - 2; i >= 0; i--) {
    if (bytes[i] === 0x0a && bytes[i + 1] === 0x0a) {
      split = i;
      break;
    }
  }
  if (split < 0) return malformed('no blank line before the signatures');
  const textBytes = bytes.subarray(0, split + 1);
  const block = decoder.decode(bytes.subarray(split + 2));
  if (block.length === 0) return malformed('no signature lines');
  if (!block.endsWith('\n')) return malformed('the last signature line has no final newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > maxSignatures) return malformed(`more than ${maxSignatures} signatures`);
  const signatures: NoteSignature[] = [];
  for (const line of lines) {
    if (!line.startsWith(EM_DASH_SPACE)) return malformed('a signature line does not start with an em dash and a space');
    const rest = line.slice(EM_DASH_SPACE.length);
    const space = rest.indexOf(' ');
    const name = space < 0 ? rest : rest.slice(0, space);
    const b64 = space < 0 ? '' : rest.slice(space + 1);
    if (!isValidKeyName(name)) return malformed('a signature line has an invalid key name');
    const raw = decodeBase64(b64);
    if (!raw || raw.length < 5) return malformed('a signature is not base64 of a key ID and signature bytes');
    const keyId = ((raw[0]! << 24) >>> 0) + (raw[1]! << 16) + (raw[2]! << 8) + raw[3]!;
    signatures.push({ name, keyId, signature: raw.subarray(4), line: `${line}\n` });
  }
  return { ok: true, note: { text: decoder.decode(textBytes), textBytes, signatures } };
}

/**
 * Opens a signed note (C2SP signed-note §Signatures): signatures from unknown (name, key ID)
 * pairs are ignored, even when they share the name or the ID of a known key; every signature of
 * a known key is verified and one that fails refuses the whole note; a note that no known key
 * signed is refused. Never throws on any input.
 */
export function openNote(
  note: Uint8Array | string,
  verifiers: readonly NoteVerifier[],
  limits: NoteLimits = {},
): { ok: true; note: OpenedNote } | { ok: false; reason: NoteFailure; detail: string } {
  const parsed = parseNote(note, limits);
  if (!parsed.ok) return parsed;
  const { text, textBytes, signatures } = parsed.note;
  const byId = verifierIndex(verifiers);
  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  const seenUnknown = new Set<string>();
  const seenKnown = new Set<NoteVerifier>();
  for (const sig of signatures) {
    const v = byId.get(`${sig.name}+${sig.keyId}`);
    if (!v) {
      if (!seenUnknown.has(sig.line)) unverified.push(sig);
      seenUnknown.add(sig.line);
      continue;
    }
    let good = false;
    try {
      good = v.verify(textBytes, sig.signature);
    } catch {
      good = false;
    }
    if (!good)
      return { ok: false, reason: 'invalid-signature', detail: `the signature of ${sig.name}+${sig.keyId.toString(16).padStart(8, '0')} does not verify` };
    if (!seenKnown.has(v)) verified.push({ ...sig, verifier: v });
    seenKnown.add(v);
  }
  if (verified.length === 0) return { ok: false, reason: 'unverified', detail: 'no signature from a known key' };
  return { ok: true, note: { text, textBytes, verified, unverified } };
}

function verifierIndex(verifiers: readonly NoteVerifier[]): Map<string, NoteVerifier> {
  const byId = new Map<string, NoteVerifier>();
  for (const v of verifiers) {
    const k = `${v.name}+${v.keyId}`;
    const had = byId.get(k);
    // Two different keys under one (name, key ID) make every signature ambiguous: a configuration fault.
    if (had && had.keyFingerprint !== v.keyFingerprint) {
      throw new StkError('STK_ERR_NOTE_INVALID', `two verifier keys share the name and key ID ${v.name}+${v.keyId.toString(16).padStart(8, '0')}`, {
        name: v.name,
      });
    }
    if (!had) byId.set(k, v);
  }
  return byId;
}

/** `— <name> <base64(key ID ‖ signature)>` and a newline. */
export function formatSignatureLine(name: string, keyId: number, signature: Uint8Array): string {
  const raw = new Uint8Array(4 + signature.length);
  new DataView(raw.buffer).setUint32(0, keyId);
  raw.set(signature, 4);
  return `${EM_DASH_SPACE}${name} ${encodeBase64(raw)}\n`;
}

/** Checks a note text can be signed: ends in a newline, valid Unicode, no control characters but newline. */
export function assertNoteText(text: string): void {
  if (typeof text !== 'string' || !text.endsWith('\n')) throw new StkError('STK_ERR_NOTE_INVALID', 'a note text ends with a newline', { field: 'text' });
  if (loneSurrogate.test(text) || hasControlChar(text)) {
    throw new StkError('STK_ERR_NOTE_INVALID', 'a note text is valid Unicode without control characters other than newline', { field: 'text' });
  }
}

/**
 * Signs `text` with each signer and returns the note: text, blank line, the `keep` signature
 * lines (signatures already on the note, say) and then the new ones.
 */
export function signNote(text: string, signers: readonly NoteSigner[], keep: readonly NoteSignature[] = []): string {
  assertNoteText(text);
  if (signers.length + keep.length === 0) throw new StkError('STK_ERR_NOTE_INVALID', 'a note has at least one signature', { field: 'signers' });
  const textBytes = encoder.encode(text);
  const lines = keep.map((s) => s.line);
  for (const s of signers) {
    if (!isValidKeyName(s.name)) throw new StkError('STK_ERR_NOTE_INVALID', 'invalid signer key name', { field: 'name' });
    lines.push(formatSignatureLine(s.name, s.keyId, s.sign(textBytes)));
  }
  return `${text}\n${lines.join('')}`;
}

/** A note signer for an Ed25519 key of type 0x01 (plain note signatures, as a log signs its checkpoints). */
export function ed25519NoteSigner(key: SignerKey): NoteSigner {
  if (key.type !== SIG_TYPE_ED25519) throw new StkError('STK_ERR_NOTE_INVALID', 'a note signing key has signature type 0x01', { field: 'type' });
  const pk: KeyObject = key.privateKey;
  return { name: key.name, keyId: key.keyId, sign: (text) => edSign(null, text, pk) };
}

/** A note verifier for an Ed25519 key of type 0x01. */
export function ed25519NoteVerifier(key: VerifierKey): NoteVerifier {
  if (key.type !== SIG_TYPE_ED25519) throw new StkError('STK_ERR_NOTE_INVALID', 'a note verifier key has signature type 0x01', { field: 'type' });
  const pub = ed25519PublicKey(key.publicKey);
  return {
    name: key.name,
    keyId: key.keyId,
    keyFingerprint: Buffer.from(key.publicKey).toString('hex'),
    verify: (text, signature) => signature.length === 64 && edVerify(null, text, pub, signature),
  };
}

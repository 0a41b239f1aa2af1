import { createHash, createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { StkError } from '../errors.ts';
import { decodeBase64, encodeBase64 } from './base64.ts';

/** Signature type byte of plain Ed25519 note signatures (C2SP signed-note). */
export const SIG_TYPE_ED25519 = 0x01;
/** Signature type byte of timestamped Ed25519 checkpoint cosignatures (C2SP tlog-cosignature). */
export const SIG_TYPE_COSIGNATURE_V1 = 0x04;

/** The signature types this module can sign and verify. */
export type SignatureType = typeof SIG_TYPE_ED25519 | typeof SIG_TYPE_COSIGNATURE_V1;

/** A public key as a note verifier knows it: the tuple (name, key ID) a signature line names. */
export interface VerifierKey {
  name: string;
  /** uint32 key ID: the first 4 bytes of SHA-256(name ‖ 0x0A ‖ type ‖ public key), big-endian. */
  keyId: number;
  type: SignatureType;
  /** 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
}

/** A private key with its name and type, able to produce note signatures. */
export interface SignerKey extends VerifierKey {
  /** 32-byte Ed25519 seed (RFC 8032 private key). */
  seed: Uint8Array;
  privateKey: KeyObject;
}

const encoder = new TextEncoder();
const badNameChar = /[\p{White_Space}+\p{Cc}\p{Cs}]/u;

/** C2SP signed-note key names: non-empty, no Unicode space, no `+` (and here no control character or lone surrogate). */
export function isValidKeyName(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && !badNameChar.test(name);
}

/** SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4] as a big-endian uint32. */
export function computeKeyId(name: string, type: number, publicKey: Uint8Array): number {
  const h = createHash('sha256').update(encoder.encode(name)).update(Uint8Array.of(0x0a, type)).update(publicKey).digest();
  return h.readUInt32BE(0);
}

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');

// DER prefixes of an Ed25519 SPKI public key and PKCS#8 private key (RFC 8410), to import raw bytes.
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** A node:crypto public key from 32 raw Ed25519 bytes. */
export function ed25519PublicKey(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

function signerFromSeed(name: string, type: SignatureType, seed: Uint8Array): SignerKey {
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const publicKey = new Uint8Array(spki.subarray(SPKI_PREFIX.length));
  return { name, type, keyId: computeKeyId(name, type, publicKey), publicKey, seed: Uint8Array.from(seed), privateKey };
}

function checkName(name: string): void {
  if (!isValidKeyName(name))
    throw new StkError('STK_ERR_NOTE_INVALID', 'a key name must be non-empty, without spaces, `+` or control characters', { field: 'name' });
}

/** A new Ed25519 key named `name` for signatures of `type` (0x01 note signatures, 0x04 cosignatures). */
export function generateSignerKey(name: string, type: SignatureType): SignerKey {
  checkName(name);
  return signerFromSeed(name, type, randomBytes(32));
}

/** The signer key of a 32-byte Ed25519 seed. */
export function signerKeyFromSeed(name: string, type: SignatureType, seed: Uint8Array): SignerKey {
  checkName(name);
  if (seed.length !== 32) throw new StkError('STK_ERR_NOTE_INVALID', 'an Ed25519 seed is 32 bytes', { field: 'seed' });
  return signerFromSeed(name, type, seed);
}

/** The public half of a signer key. */
export function verifierKeyOf(key: SignerKey): VerifierKey {
  return { name: key.name, keyId: key.keyId, type: key.type, publicKey: Uint8Array.from(key.publicKey) };
}

/** `<name>+<hex key ID>+<base64(type ‖ public key)>`, the C2SP vkey text form. */
export function formatVerifierKey(key: VerifierKey): string {
  return `${key.name}+${hex8(key.keyId)}+${encodeBase64(Uint8Array.of(key.type, ...key.publicKey))}`;
}

/** Splits at the first `count - 1` plus signs; null when there are fewer. */
function splitPlus(text: string, count: number): string[] | null {
  const out: string[] = [];
  let rest = text;
  for (let i = 0; i < count - 1; i++) {
    const at = rest.indexOf('+');
    if (at < 0) return null;
    out.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  out.push(rest);
  return out;
}

/** Outcome of parsing a key's text form. */
export type KeyParse<K> = { ok: true; key: K } | { ok: false; reason: string };

function parseKeyParts(name: string, idHex: string, material: string): KeyParse<{ name: string; keyId: number; type: SignatureType; raw: Uint8Array }> {
  if (!isValidKeyName(name)) return { ok: false, reason: 'invalid key name' };
  if (!/^[0-9a-f]{8}$/.test(idHex)) return { ok: false, reason: 'key ID is not 8 lower-case hex digits' };
  const bytes = decodeBase64(material);
  if (!bytes || bytes.length < 1) return { ok: false, reason: 'key material is not base64' };
  const type = bytes[0]!;
  if (type !== SIG_TYPE_ED25519 && type !== SIG_TYPE_COSIGNATURE_V1)
    return { ok: false, reason: `unsupported signature type 0x${type.toString(16).padStart(2, '0')}` };
  const raw = bytes.subarray(1);
  if (raw.length !== 32) return { ok: false, reason: 'an Ed25519 key is 32 bytes' };
  return { ok: true, key: { name, keyId: Number.parseInt(idHex, 16), type, raw } };
}

/** Parses a vkey; refuses a key ID that is not the one its name, type and key give. */
export function parseVerifierKey(text: string): KeyParse<VerifierKey> {
  if (typeof text !== 'string') return { ok: false, reason: 'not a string' };
  // Names hold no '+' but base64 may: split at the first two only.
  const parts = splitPlus(text, 3);
  if (!parts) return { ok: false, reason: 'a vkey is <name>+<hex key ID>+<base64 key>' };
  const p = parseKeyParts(parts[0]!, parts[1]!, parts[2]!);
  if (!p.ok) return p;
  const { name, keyId, type, raw } = p.key;
  try {
    ed25519PublicKey(raw);
  } catch {
    return { ok: false, reason: 'not an Ed25519 public key' };
  }
  if (computeKeyId(name, type, raw) !== keyId) return { ok: false, reason: 'key ID does not match the name and key' };
  return { ok: true, key: { name, keyId, type, publicKey: Uint8Array.from(raw) } };
}

/** `PRIVATE+KEY+<name>+<hex key ID>+<base64(type ‖ seed)>`, the signer key form of Go's sumdb/note. Secret. */
export function formatSignerKey(key: SignerKey): string {
  return `PRIVATE+KEY+${key.name}+${hex8(key.keyId)}+${encodeBase64(Uint8Array.of(key.type, ...key.seed))}`;
}

/** Parses a signer key; refuses one whose key ID does not match the public key its seed gives. */
export function parseSignerKey(text: string): KeyParse<SignerKey> {
  if (typeof text !== 'string') return { ok: false, reason: 'not a string' };
  const parts = splitPlus(text, 5);
  if (parts?.[0] !== 'PRIVATE' || parts[1] !== 'KEY') return { ok: false, reason: 'a signer key is PRIVATE+KEY+<name>+<hex key ID>+<base64 key>' };
  const p = parseKeyParts(parts[2]!, parts[3]!, parts[4]!);
  if (!p.ok) return p;
  const key = signerFromSeed(p.key.name, p.key.type, p.key.raw);
  if (key.keyId !== p.key.keyId) return { ok: false, reason: 'key ID does not match the name and key' };
  return { ok: true, key };
}

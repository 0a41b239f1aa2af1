import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StkError } from '../errors.ts';
import { keyRecordSignedText, type KeyRecord } from './format.ts';

/** PKCS#8 DER header of an Ed25519 private key; the 32-byte seed follows (RFC 8410). */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** An Ed25519 private key from its 32-byte RFC 8032 seed. */
export function privateKeyFromSeed(seed: Uint8Array): KeyObject {
  if (seed.length !== 32) throw new StkError('STK_ERR_LEDGER_KEY', 'an Ed25519 seed is 32 bytes', { length: seed.length });
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

/** The raw 32-byte public key (RFC 8032 encoding). */
export function rawPublicKey(key: KeyObject): Buffer {
  const jwk = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'jwk' });
  return Buffer.from(jwk.x!, 'base64url');
}

/** Ed25519 signature of `message` (pure Ed25519, no pre-hash), base64. */
export function signText(key: KeyObject, message: string | Uint8Array): string {
  return cryptoSign(null, typeof message === 'string' ? Buffer.from(message) : message, key).toString('base64');
}

/** True when `sig` (base64) is `key`'s Ed25519 signature of `message`. Never throws on bad input. */
export function verifyText(key: KeyObject, message: string | Uint8Array, sig: string): boolean {
  try {
    const bytes = Buffer.from(sig, 'base64');
    if (bytes.length !== 64) return false;
    return cryptoVerify(null, typeof message === 'string' ? Buffer.from(message) : message, key, bytes);
  } catch {
    return false;
  }
}

/** Key id: the first 16 hex characters of SHA-256 over the key's SPKI DER (what `openssl pkey -pubin -outform DER` prints). */
export function keyIdOf(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256')
    .update(pub.export({ format: 'der', type: 'spki' }))
    .digest('hex')
    .slice(0, 16);
}

export function publicKeyPem(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ format: 'pem', type: 'spki' }).toString();
}

/** Parses a key record's public key and checks that it matches the record's key id. */
export function publicKeyOfRecord(r: KeyRecord): KeyObject | null {
  try {
    const key = createPublicKey(r.publicKey);
    return key.asymmetricKeyType === 'ed25519' && keyIdOf(key) === r.keyId ? key : null;
  } catch {
    return null;
  }
}

interface StoredKeyring {
  format: 1;
  /** Oldest first; the last one signs. */
  records: KeyRecord[];
}

/**
 * The sealer's signing keys in a folder (mode 0700): `keyring.json` (the public key records,
 * oldest first) and one `<keyId>.key` PKCS#8 PEM per key (mode 0600). Only the sealer reads it.
 */
export class Keyring {
  readonly dir: string;
  readonly records: KeyRecord[];
  #current: KeyObject;

  private constructor(dir: string, records: KeyRecord[], current: KeyObject) {
    this.dir = dir;
    this.records = records;
    this.#current = current;
  }

  /** Opens the keyring in `dir`, creating it with a first key when `create` and there is none. */
  static async open(dir: string, o: { create?: boolean; now?: () => Date } = {}): Promise<Keyring> {
    let stored: StoredKeyring | null = null;
    try {
      stored = JSON.parse(await readFile(join(dir, 'keyring.json'), 'utf8')) as StoredKeyring;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new StkError('STK_ERR_LEDGER_KEY', `cannot read the ledger keyring in ${dir}: ${(err as Error).message}`, { dir }, { cause: err });
      }
    }
    if (!stored) {
      if (!o.create) throw new StkError('STK_ERR_LEDGER_KEY', `no ledger keyring in ${dir}`, { dir });
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await chmod(dir, 0o700);
      const key = generateKeyPairSync('ed25519').privateKey;
      const keyId = keyIdOf(key);
      const at = (o.now?.() ?? new Date()).toISOString();
      const record: KeyRecord = { format: 1, keyId, prevKeyId: null, at, publicKey: publicKeyPem(key), sig: '' };
      record.sig = signText(key, keyRecordSignedText(record));
      await writePrivateKey(dir, keyId, key);
      await writeKeyring(dir, { format: 1, records: [record] });
      return new Keyring(dir, [record], key);
    }
    if (!stored.records?.length) throw new StkError('STK_ERR_LEDGER_KEY', `ledger keyring in ${dir} has no keys`, { dir });
    const last = stored.records[stored.records.length - 1]!;
    return new Keyring(dir, stored.records, await readPrivateKey(dir, last.keyId));
  }

  /** Id of the key that signs now. */
  get keyId(): string {
    return this.records[this.records.length - 1]!.keyId;
  }

  /** Ed25519 signature (base64) of `message` with the current key. */
  sign(message: string | Uint8Array): string {
    return signText(this.#current, message);
  }

  /** True when `keyId` is one of this keyring's keys (current or retired). */
  knows(keyId: string): boolean {
    return this.records.some((r) => r.keyId === keyId);
  }

  publicKey(keyId: string): KeyObject | null {
    const r = this.records.find((k) => k.keyId === keyId);
    return r ? publicKeyOfRecord(r) : null;
  }

  /**
   * Makes a new key the signing key. Its record is endorsed by the current key, so a verifier that
   * trusts the old key learns the new one from the ledger; blocks signed before keep verifying.
   */
  async rotate(now: Date = new Date()): Promise<KeyRecord> {
    const key = generateKeyPairSync('ed25519').privateKey;
    const record: KeyRecord = { format: 1, keyId: keyIdOf(key), prevKeyId: this.keyId, at: now.toISOString(), publicKey: publicKeyPem(key), sig: '' };
    record.sig = signText(this.#current, keyRecordSignedText(record));
    await writePrivateKey(this.dir, record.keyId, key);
    await writeKeyring(this.dir, { format: 1, records: [...this.records, record] });
    this.records.push(record);
    this.#current = key;
    return record;
  }
}

async function writePrivateKey(dir: string, keyId: string, key: KeyObject): Promise<void> {
  await writeFile(join(dir, `${keyId}.key`), key.export({ format: 'pem', type: 'pkcs8' }).toString(), { mode: 0o600, flag: 'wx' });
}

async function readPrivateKey(dir: string, keyId: string): Promise<KeyObject> {
  try {
    return createPrivateKey(await readFile(join(dir, `${keyId}.key`), 'utf8'));
  } catch (err) {
    throw new StkError('STK_ERR_LEDGER_KEY', `cannot read ledger signing key ${keyId} in ${dir}`, { dir, keyId }, { cause: err });
  }
}

async function writeKeyring(dir: string, k: StoredKeyring): Promise<void> {
  // Written aside and renamed, so a crash never leaves a half-written keyring.
  const tmp = join(dir, 'keyring.json.tmp');
  await writeFile(tmp, `${JSON.stringify(k, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, join(dir, 'keyring.json'));
}

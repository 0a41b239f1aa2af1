import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';

/** RFC 6238 parameters every authenticator app understands: SHA-1, 6 digits, 30 s. */
export const TOTP_PERIOD_S = 30;
const DIGITS = 6;
/** Codes of the step before and after are accepted too (clock drift of up to 30 s either way). */
const WINDOW = 1;

/** A new TOTP secret (160 random bits, base32) and the `otpauth://` URI an app scans. */
export function newTotp(account: string, issuer = 'Stockade'): { secret: string; uri: string } {
  const secret = new Secret({ size: 20 });
  const totp = new TOTP({ issuer, label: account, secret, digits: DIGITS, period: TOTP_PERIOD_S, algorithm: 'SHA1' });
  return { secret: secret.base32, uri: totp.toString() };
}

/**
 * The time step a code belongs to, or null when it matches none within the window. The caller
 * refuses a step at or below the last one accepted for the user (a code is used once).
 */
export function totpStep(secretBase32: string, code: string, nowMs: number): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const totp = new TOTP({ secret: Secret.fromBase32(secretBase32), digits: DIGITS, period: TOTP_PERIOD_S, algorithm: 'SHA1' });
  const delta = totp.validate({ token: code, timestamp: nowMs, window: WINDOW });
  return delta === null ? null : Math.floor(nowMs / 1000 / TOTP_PERIOD_S) + delta;
}

/** The code of a secret at a time (tests and the enrollment check). */
export function totpCode(secretBase32: string, nowMs: number): string {
  return new TOTP({ secret: Secret.fromBase32(secretBase32), digits: DIGITS, period: TOTP_PERIOD_S, algorithm: 'SHA1' }).generate({ timestamp: nowMs });
}

export const RECOVERY_CODES = 10;

/** What the sealed recovery codes hold: a salt and the SHA-256 of each code (80 random bits each). */
export interface RecoverySet {
  salt: string;
  hashes: string[];
}

/** Ten single-use recovery codes (`xxxxx-xxxxx-xxxxx-xxxxx`, 80 bits each), and what is kept of them. */
export function newRecoveryCodes(): { codes: string[]; set: RecoverySet } {
  const salt = randomBytes(16).toString('base64url');
  const codes = Array.from({ length: RECOVERY_CODES }, () => {
    const hex = randomBytes(10).toString('hex');
    return `${hex.slice(0, 5)}-${hex.slice(5, 10)}-${hex.slice(10, 15)}-${hex.slice(15, 20)}`;
  });
  return { codes, set: { salt, hashes: codes.map((c) => recoveryHash(salt, c)) } };
}

function recoveryHash(salt: string, code: string): string {
  return createHash('sha256').update(`${salt}\0${code.trim().toLowerCase()}`).digest('hex');
}

/** The index of a presented recovery code in the set, or -1; every entry is compared in constant time. */
export function recoveryIndex(set: RecoverySet, presented: string): number {
  const h = Buffer.from(recoveryHash(set.salt, presented), 'hex');
  let found = -1;
  set.hashes.forEach((x, i) => {
    if (timingSafeEqual(Buffer.from(x, 'hex'), h)) found = i;
  });
  return found;
}

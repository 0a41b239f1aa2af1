import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Secrets shown once: enrollment secrets (`stk_es_…`) and operator tokens (`stk_tok_…`).
 * `<prefix>_<lookup>.<secret>`: the 12-character lookup part is public (it finds the record without
 * a scan); the 43-character secret part is 256 random bits. Only SHA-256 of the whole string is
 * stored: with 256 bits of entropy a slow hash adds nothing, and a fast one keeps verification
 * cheap and constant-time.
 */
export type SecretKind = 'enroll' | 'token';

const PREFIX: Record<SecretKind, string> = { enroll: 'stk_es_', token: 'stk_tok_' };
const LOOKUP_CHARS = 12;
const SECRET_CHARS = 43;

export interface MintedSecret {
  /** The plaintext, to be shown once and never stored. */
  secret: string;
  lookup: string;
  /** Hex SHA-256 of `secret`: what events and read models keep. */
  hash: string;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function mintSecret(kind: SecretKind): MintedSecret {
  const lookup = randomBytes(9).toString('base64url');
  const secret = `${PREFIX[kind]}${lookup}.${randomBytes(32).toString('base64url')}`;
  return { secret, lookup, hash: hashSecret(secret) };
}

/** The lookup part of a presented secret, or null when it is not of the kind's form. */
export function lookupOf(kind: SecretKind, presented: string): string | null {
  const p = PREFIX[kind];
  if (typeof presented !== 'string' || presented.length !== p.length + LOOKUP_CHARS + 1 + SECRET_CHARS || !presented.startsWith(p)) return null;
  const lookup = presented.slice(p.length, p.length + LOOKUP_CHARS);
  if (presented[p.length + LOOKUP_CHARS] !== '.') return null;
  if (!/^[A-Za-z0-9_-]+$/.test(lookup) || !/^[A-Za-z0-9_-]+$/.test(presented.slice(p.length + LOOKUP_CHARS + 1))) return null;
  return lookup;
}

const DUMMY = hashSecret('stk_dummy');

/**
 * Constant-time comparison of a presented secret with a stored hash. Pass `null` as the hash when
 * no record was found: the same work is done, so timing does not tell "unknown" from "wrong".
 */
export function secretMatches(presented: string, storedHash: string | null): boolean {
  const a = Buffer.from(hashSecret(typeof presented === 'string' ? presented : ''), 'hex');
  const b = Buffer.from(storedHash && /^[0-9a-f]{64}$/.test(storedHash) ? storedHash : DUMMY, 'hex');
  return timingSafeEqual(a, b) && storedHash !== null;
}

/**
 * Decoding of Active Directory attribute values: Windows FILETIME, binary SIDs,
 * `userAccountControl` and `groupType` bits, GeneralizedTime, ranged attribute names.
 * Pure functions; nothing here talks to a directory.
 */

/** `userAccountControl` bits ([MS-ADTS] 2.2.16), by the names Microsoft documents. */
export const UAC_FLAGS = {
  SCRIPT: 0x1,
  ACCOUNTDISABLE: 0x2,
  HOMEDIR_REQUIRED: 0x8,
  LOCKOUT: 0x10,
  PASSWD_NOTREQD: 0x20,
  PASSWD_CANT_CHANGE: 0x40,
  ENCRYPTED_TEXT_PWD_ALLOWED: 0x80,
  TEMP_DUPLICATE_ACCOUNT: 0x100,
  NORMAL_ACCOUNT: 0x200,
  INTERDOMAIN_TRUST_ACCOUNT: 0x800,
  WORKSTATION_TRUST_ACCOUNT: 0x1000,
  SERVER_TRUST_ACCOUNT: 0x2000,
  DONT_EXPIRE_PASSWORD: 0x10000,
  MNS_LOGON_ACCOUNT: 0x20000,
  SMARTCARD_REQUIRED: 0x40000,
  TRUSTED_FOR_DELEGATION: 0x80000,
  NOT_DELEGATED: 0x100000,
  USE_DES_KEY_ONLY: 0x200000,
  DONT_REQ_PREAUTH: 0x400000,
  PASSWORD_EXPIRED: 0x800000,
  TRUSTED_TO_AUTH_FOR_DELEGATION: 0x1000000,
  PARTIAL_SECRETS_ACCOUNT: 0x4000000,
} as const;

export type UacFlag = keyof typeof UAC_FLAGS;

/** The names of the bits set in a `userAccountControl` value, in bit order; unknown bits are left out. */
export function decodeUac(value: number): UacFlag[] {
  return (Object.entries(UAC_FLAGS) as Array<[UacFlag, number]>).filter(([, bit]) => (value & bit) !== 0).map(([name]) => name);
}

// FILETIME counts 100 ns intervals since 1601-01-01T00:00:00Z; the Unix epoch is this many ms later.
const EPOCH_DIFF_MS = 11_644_473_600_000n;
/** 2^63 - 1: AD's "never" (accountExpires, maxPwdAge). */
const FILETIME_NEVER = 0x7fff_ffff_ffff_ffffn;
/** Past this, a Date cannot represent the instant (year 275760). */
const MAX_DATE_MS = 8_640_000_000_000_000n;

/**
 * A Windows FILETIME (decimal string, as LDAP returns it) as an ISO time with millisecond
 * precision; null for 0 ("never set" / "must change"), for 2^63-1 ("never") and for anything that
 * is not a representable instant.
 */
export function filetimeToIso(value: string | undefined | null): string | null {
  if (value === undefined || value === null || !/^-?\d{1,20}$/.test(value)) return null;
  const ft = BigInt(value);
  if (ft <= 0n || ft >= FILETIME_NEVER) return null;
  const ms = ft / 10_000n - EPOCH_DIFF_MS;
  if (ms > MAX_DATE_MS || ms < -MAX_DATE_MS) return null;
  return new Date(Number(ms)).toISOString();
}

/** An instant as a Windows FILETIME decimal string (whole milliseconds). */
export function dateToFiletime(date: Date): string {
  return ((BigInt(date.getTime()) + EPOCH_DIFF_MS) * 10_000n).toString();
}

/**
 * A binary SID ([MS-DTYP] 2.4.2: revision, sub-authority count, 48-bit big-endian authority,
 * little-endian 32-bit sub-authorities) in its string form `S-1-5-21-…`; null when malformed.
 */
export function decodeSid(buf: Uint8Array): string | null {
  if (buf.length < 8) return null;
  const revision = buf[0]!;
  const count = buf[1]!;
  if (revision !== 1 || count > 15 || buf.length !== 8 + 4 * count) return null;
  let authority = 0;
  for (let i = 2; i < 8; i++) authority = authority * 256 + buf[i]!;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const parts = [`S-1-${authority}`];
  for (let i = 0; i < count; i++) parts.push(String(view.getUint32(8 + 4 * i, true)));
  return parts.join('-');
}

/** A string SID in its binary form (the inverse of decodeSid); null when it is not a SID. */
export function encodeSid(sid: string): Buffer | null {
  const m = /^S-1-(\d{1,15})((?:-\d{1,10}){0,15})$/.exec(sid);
  if (!m) return null;
  const authority = Number(m[1]);
  const subs = m[2] ? m[2].slice(1).split('-').map(Number) : [];
  if (authority > 0xffff_ffff_ffff || subs.some((s) => s > 0xffff_ffff)) return null;
  const buf = Buffer.alloc(8 + 4 * subs.length);
  buf[0] = 1;
  buf[1] = subs.length;
  buf.writeUIntBE(authority, 2, 6);
  for (const [i, s] of subs.entries()) buf.writeUInt32LE(s, 8 + 4 * i);
  return buf;
}

/** The relative id (last sub-authority) of a string SID; null unless it has at least two sub-authorities. */
export function sidRid(sid: string): number | null {
  if (!/^S-1-\d+(?:-\d+){2,}$/.test(sid)) return null;
  return Number(sid.slice(sid.lastIndexOf('-') + 1));
}

/** The domain part of a domain account's SID (`S-1-5-21-a-b-c`), or null for other SIDs. */
export function sidDomain(sid: string): string | null {
  const m = /^(S-1-5-21-\d+-\d+-\d+)-\d+$/.exec(sid);
  return m ? m[1]! : null;
}

/** An LDAP GeneralizedTime (`20261130034201.0Z`) as an ISO time; null when it is not one. */
export function generalizedTimeToIso(value: string | undefined | null): string | null {
  const m = value ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:[.,](\d+))?Z$/.exec(value) : null;
  if (!m) return null;
  const ms = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

export type GroupScope = 'domain-local' | 'global' | 'universal' | 'unknown';

/** `groupType` ([MS-ADTS] 2.2.12) as scope and security flag; LDAP gives it as a signed 32-bit number. */
export function decodeGroupType(value: number): { scope: GroupScope; security: boolean } {
  const v = value >>> 0;
  const scope: GroupScope = v & 0x4 ? 'domain-local' : v & 0x2 ? 'global' : v & 0x8 ? 'universal' : 'unknown';
  return { scope, security: (v & 0x8000_0000) !== 0 };
}

/**
 * A ranged attribute description (`member;range=0-1499`, `member;range=1500-*`): AD returns one
 * when a multi-valued attribute has more values than MaxValRange. `end` is null for `*` (the last
 * range).
 */
export function parseRange(description: string): { attribute: string; start: number; end: number | null } | null {
  const m = /^([A-Za-z][\w-]*);range=(\d+)-(\d+|\*)$/i.exec(description);
  if (!m) return null;
  return { attribute: m[1]!, start: Number(m[2]), end: m[3] === '*' ? null : Number(m[3]) };
}

/** AD's sub-code in an LDAP diagnostic message (`…, data 52e, v1db1`), lower-case; null when absent. */
export function adDataCode(diagnostic: string): string | null {
  return /\bdata ([0-9a-f]{1,8})\b/i.exec(diagnostic)?.[1]?.toLowerCase() ?? null;
}

/** What AD's bind sub-codes mean (the `data` part of a 49 invalidCredentials answer). */
export const BIND_REASONS: Record<string, string> = {
  '525': 'no-such-user',
  '52e': 'invalid-credentials',
  '530': 'logon-hours',
  '531': 'workstation-not-permitted',
  '532': 'password-expired',
  '533': 'account-disabled',
  '701': 'account-expired',
  '773': 'must-change-password',
  '775': 'locked-out',
};

import { hash, type Options, verify } from '@node-rs/argon2';
import { StkError } from '../errors.ts';

/**
 * Argon2id at OWASP's first recommended setting: 19 MiB, 2 passes, 1 lane. On the 2-core
 * reference machine one verification takes ~26 ms (46 MiB/1 pass: ~33 ms; 64 MiB/2 passes:
 * ~40 ms), so one API process verifies ~40–70 passwords a second and four concurrent sign-ins
 * (libuv's pool) hold at most ~76 MiB. `npm run bench -- people` measures it beside a bare hash
 * loop. The parameters are part of each stored hash, so raising them later keeps old hashes valid.
 */
// `algorithm: 2` is Argon2id; the binding's enum is a const enum that isolated modules cannot import.
export const ARGON2_PARAMS: Options = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;

/** Argon2id hash (PHC string) of a password. */
export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_PARAMS);
}

// A hash of nothing anyone knows: an unknown account still costs one verification, so timing does
// not tell an unknown e-mail from a wrong password.
let dummy: Promise<string> | null = null;

/** Verifies a password against a stored hash; with `null` (no such user) does the same work and fails. */
export async function verifyPassword(stored: string | null, password: string): Promise<boolean> {
  dummy ??= hashPassword(`stk-dummy-${Math.random()}`);
  const h = stored ?? (await dummy);
  try {
    return (await verify(h, password)) && stored !== null;
  } catch {
    return false;
  }
}

/**
 * Passwords people pick first; refused outright. Deliberately short and shipped with the code:
 * no breached-password service is called (no network), and length does most of the work.
 */
const COMMON = new Set(
  [
    'password',
    'passw0rd',
    'password1',
    'password123',
    '123456789012',
    '1234567890',
    'qwertyuiop',
    'qwerty123456',
    'iloveyou',
    'admin',
    'administrator',
    'letmein',
    'welcome',
    'welcome1',
    'changeme',
    'trustno1',
    'sunshine',
    'princess',
    'football',
    'baseball',
    'dragon',
    'monkey',
    'shadow',
    'master',
    'superman',
    'starwars',
    'whatever',
    'michael',
    'jennifer',
    'abc123',
    'stockade',
    'security',
    'p@ssw0rd',
    'p@ssword',
    'correcthorsebatterystaple',
    'aaaaaaaaaaaa',
    'qazwsxedcrfv',
    '1q2w3e4r5t6y',
    'zaq12wsxcde3',
    'asdfghjkl',
    'zxcvbnm',
    'summer',
    'winter',
    'spring',
    'autumn',
    'company',
    'secret',
  ].map((p) => p.toLowerCase()),
);

/**
 * The password policy: 12 to 256 characters; not a common password (with digits and symbols
 * around it stripped: `Password2024!` is `password`); not made of one repeated character or a
 * plain run; not containing the user's name or the e-mail's local part. Returns nothing or
 * throws STK_ERR_PASSWORD_WEAK with `reason`.
 */
export function checkPasswordPolicy(password: string, user: { name: string; email: string }): void {
  const weak = (reason: string, message: string) => new StkError('STK_ERR_PASSWORD_WEAK', message, { reason, field: 'password' });
  if (typeof password !== 'string' || password.length < PASSWORD_MIN) throw weak('too-short', `a password needs at least ${PASSWORD_MIN} characters`);
  if (password.length > PASSWORD_MAX) throw weak('too-long', `a password has at most ${PASSWORD_MAX} characters`);
  const lower = password.toLowerCase();
  const core = lower.replace(/^[^a-z]+|[^a-z]+$/g, '');
  if (COMMON.has(lower) || COMMON.has(core) || COMMON.has(lower.replace(/[^a-z0-9]/g, '')))
    throw weak('common', 'this password is one of the most common ones');
  if (new Set(lower).size <= 2) throw weak('repetitive', 'this password repeats one or two characters');
  if (isRun(lower)) throw weak('sequence', 'this password is a plain sequence of characters');
  const parts = [user.name, user.email.split('@')[0] ?? '', ...user.name.split(/\s+/)].map((x) => x.trim().toLowerCase()).filter((x) => x.length >= 3);
  if (parts.some((x) => lower.includes(x))) throw weak('personal', 'a password cannot contain your name or e-mail');
}

function isRun(s: string): boolean {
  if (s.length < 3) return false;
  const step = s.charCodeAt(1) - s.charCodeAt(0);
  if (Math.abs(step) !== 1) return false;
  for (let i = 2; i < s.length; i++) if (s.charCodeAt(i) - s.charCodeAt(i - 1) !== step) return false;
  return true;
}

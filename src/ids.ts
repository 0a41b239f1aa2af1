import { randomBytes } from 'node:crypto';
import { StkError } from './errors.ts';

/** Tenant ids: lower-case, DNS-label-like; they appear in NATS subjects and URLs. */
export const TENANT_ID_PATTERN = '^[a-z0-9][a-z0-9-]{0,62}$';
/** Every other id that can reach a subject (agent, aggregate, event, command ids): token-safe. */
export const TOKEN_ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';
/** Aggregate types are names we choose in code, never client input; kept to a small alphabet. */
export const AGGREGATE_TYPE_PATTERN = '^[a-z][a-z0-9-]{0,31}$';

const tenantRe = new RegExp(TENANT_ID_PATTERN);
const tokenRe = new RegExp(TOKEN_ID_PATTERN);
const aggregateTypeRe = new RegExp(AGGREGATE_TYPE_PATTERN);

export type IdKind = 'tenant' | 'token' | 'aggregateType';

const patterns: Record<IdKind, RegExp> = { tenant: tenantRe, token: tokenRe, aggregateType: aggregateTypeRe };

/** True when `value` is a string of the given id kind. */
export function isValidId(kind: IdKind, value: unknown): value is string {
  return typeof value === 'string' && patterns[kind].test(value);
}

/**
 * Throws STK_ERR_INVALID_ID unless `value` is of the given kind. `field` names the input in the
 * error so a client can tell which id was refused; the value itself is echoed only when short,
 * because it is untrusted input that may end up in a log line.
 */
export function assertId(kind: IdKind, value: unknown, field: string): asserts value is string {
  if (!isValidId(kind, value)) {
    const shown = typeof value === 'string' && value.length <= 80 ? value : typeof value;
    throw new StkError('STK_ERR_INVALID_ID', `invalid ${field}: ${JSON.stringify(shown)}`, { field, kind });
  }
}

// Ids are minted on the hot path of every append: drawing 16 bytes at a time from a pooled
// CSPRNG buffer costs a fraction of one randomBytes call per id.
const POOL_BYTES = 4096;
let pool = randomBytes(POOL_BYTES);
let poolOffset = 0;

/**
 * A new server-generated id: 16 random bytes (CSPRNG), base64url (22 characters, token-safe). It
 * never starts with `-`: an id is typed as an argument (`stockade user grant <userId> …`), and one
 * that looks like an option is taken for one (1 id in 64 did). Drawing again costs 1/64 of a bit.
 */
export function newId(prefix = ''): string {
  for (;;) {
    if (poolOffset + 16 > POOL_BYTES) {
      pool = randomBytes(POOL_BYTES);
      poolOffset = 0;
    }
    const id = pool.toString('base64url', poolOffset, poolOffset + 16);
    poolOffset += 16;
    if (id.charCodeAt(0) !== 0x2d) return prefix + id;
  }
}

import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { StkError } from '../errors.ts';
import { isValidId } from '../ids.ts';
import type { AdminStore } from '../store/store.ts';
import type { TokenDoc } from '../../projections/tokens/projection.ts';
import type { TokenRole } from '../../commands/tokens/events.ts';
import { lookupOf, secretMatches } from '../tenancy/secrets.ts';

/** Who is calling: the admin (every tenant) or a token bound to one tenant with a role. */
export type Principal = { kind: 'admin' } | { kind: 'token'; tenant: string; role: TokenRole; tokenId: string };

/** What a route needs: `admin` (admin key only), `write` (admin or operator), `read` (any role). */
export type Access = 'admin' | 'write' | 'read';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** The Bearer credential of a request; STK_ERR_AUTH_REQUIRED when there is none of the allowed form. */
export function credentialOf(req: FastifyRequest): string {
  const h = req.headers.authorization;
  const m = typeof h === 'string' ? /^Bearer ([!-~]{1,200})$/.exec(h) : null;
  if (!m) throw new StkError('STK_ERR_AUTH_REQUIRED', 'missing or malformed Authorization: Bearer credential');
  return m[1]!;
}

/**
 * Resolves a credential (the admin key or a tenant token). A tenant token is found through its
 * public lookup part and compared in constant time with the stored hash; a revoked token's lookup
 * is gone from the index, and the document's `revoked` flag is checked as well. Anything else is
 * STK_ERR_AUTH_REQUIRED.
 */
export async function authenticate(presented: string, store: AdminStore, adminKey: string): Promise<Principal> {
  if (sameSecret(presented, adminKey)) return { kind: 'admin' };
  const lookup = lookupOf('token', presented);
  const ref = lookup ? await store.lookup<{ tenant: string; id: string }>('tokens', 'token', lookup) : null;
  const doc = ref ? await store.tenant(ref.tenant).get<TokenDoc>('tokens', ref.id) : null;
  const ok = secretMatches(presented, doc?.hash ?? null);
  if (!ok || !doc || doc.revoked || !ref) throw new StkError('STK_ERR_AUTH_REQUIRED', 'invalid credential');
  return { kind: 'token', tenant: ref.tenant, role: doc.role, tokenId: doc.id };
}

/** The actor recorded in events for a principal. */
export function actorOf(p: Principal): { kind: 'operator'; id: string } {
  return { kind: 'operator', id: p.kind === 'admin' ? 'admin' : `token:${p.tokenId}` };
}

/**
 * The tenant wall for a route under /tenants/:tenant. A token of another tenant gets exactly the
 * answer a missing tenant gets (404), before the body is even parsed; so does an admin asking for a
 * tenant that does not exist. Role checks come after, so they never reveal another tenant.
 */
export function checkTenantAccess(p: Principal, tenantParam: unknown): string {
  if (p.kind === 'token' && p.tenant !== tenantParam) throw new StkError('STK_ERR_NOT_FOUND', 'not found');
  if (!isValidId('tenant', tenantParam)) throw new StkError('STK_ERR_NOT_FOUND', 'not found');
  return tenantParam;
}

/** Role check within the caller's own tenant. */
export function checkRole(p: Principal, access: Access): void {
  if (p.kind === 'admin') return;
  if (access === 'admin') throw new StkError('STK_ERR_FORBIDDEN', 'this action needs the admin key');
  if (access === 'write' && p.role !== 'operator') throw new StkError('STK_ERR_FORBIDDEN', 'auditors can read but not change anything');
}

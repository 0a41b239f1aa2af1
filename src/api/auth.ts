import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { TokenRole } from '../../commands/tokens/events.ts';
import type { TokenDoc } from '../../projections/tokens/projection.ts';
import { SESSION_CREDENTIAL_PREFIX, sidOfCredential } from '../dashboard/sessions.ts';
import type { Actor } from '../domain/events.ts';
import { StkError } from '../errors.ts';
import type { Grants, People } from '../people/people.ts';
import type { AdminStore } from '../store/store.ts';
import { lookupOf, secretMatches } from '../tenancy/secrets.ts';

/** A person signed in (a dashboard session) or acting through one of their API tokens. */
export interface UserPrincipal {
  kind: 'user';
  userId: string;
  name: string;
  via: { kind: 'session'; sessionId: string; sso: { issuer: string; subject: string } | null; mfaPending: boolean } | { kind: 'token'; tokenId: string };
  /** Tenant → roles; the install tenant's entry holds install-wide roles. Read fresh on every request. */
  grants: Grants;
}

/**
 * Who is calling: the admin key (break-glass, every tenant), a customer's service token bound to
 * one tenant with a role, or a user.
 */
export type Principal = { kind: 'admin' } | { kind: 'token'; tenant: string; role: TokenRole; tokenId: string } | UserPrincipal;

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

/** What authentication reads. */
export interface AuthDeps {
  admin: AdminStore;
  adminKey: string;
  people: People;
  /** The request came from this process's dashboard (a session credential is honoured only then). */
  internal?: boolean;
  now?: () => number;
}

const invalid = () => new StkError('STK_ERR_AUTH_REQUIRED', 'invalid credential');

/**
 * Resolves a credential: the admin key; a dashboard session of a user (`stk_ses_…`, only on calls
 * the dashboard makes in-process); or an API token. A token is found through its public lookup part
 * and compared in constant time with the stored hash; a revoked token's lookup is gone from the
 * index, its `revoked` flag is checked as well, and so is its expiry. A user's token and session
 * work only while the user is active — read from the log on every call, so a disable holds on
 * every process at once — and a session only within the user's session epoch. Anything else is
 * STK_ERR_AUTH_REQUIRED, the same answer whatever the reason.
 */
export async function authenticate(presented: string, deps: AuthDeps): Promise<Principal> {
  if (sameSecret(presented, deps.adminKey)) return { kind: 'admin' };
  const now = deps.now?.() ?? Date.now();
  if (presented.startsWith(SESSION_CREDENTIAL_PREFIX)) {
    const sid = sidOfCredential(presented);
    if (!sid || !deps.internal) throw invalid();
    const s = await deps.people.sessions.get(sid);
    if (!s?.user) throw invalid();
    const u = await deps.people.user(s.user.userId);
    if (u.state.status !== 'active' || u.state.epoch !== s.user.epoch) {
      await deps.people.sessions.destroy(sid);
      throw invalid();
    }
    return {
      kind: 'user',
      userId: s.user.userId,
      name: u.state.name,
      via: { kind: 'session', sessionId: s.id, sso: s.user.sso, mfaPending: s.user.mfaPending },
      grants: await deps.people.grants(s.user.userId),
    };
  }
  const lookup = lookupOf('token', presented);
  const ref = lookup ? await deps.admin.lookup<{ tenant: string; id: string }>('tokens', 'token', lookup) : null;
  const doc = ref ? await deps.admin.tenant(ref.tenant).get<TokenDoc>('tokens', ref.id) : null;
  const ok = secretMatches(presented, doc?.hash ?? null);
  if (!ok || !doc || doc.revoked || !ref) throw invalid();
  if (doc.expiresAt && Date.parse(doc.expiresAt) <= now) throw invalid();
  if (doc.owner?.kind === 'user') {
    const u = await deps.people.user(doc.owner.id);
    if (u.state.status !== 'active') throw invalid();
    deps.people.usage.used(doc.id, new Date(now));
    return { kind: 'user', userId: doc.owner.id, name: u.state.name, via: { kind: 'token', tokenId: doc.id }, grants: await deps.people.grants(doc.owner.id) };
  }
  if (!doc.role) throw invalid();
  deps.people.usage.used(doc.id, new Date(now));
  return { kind: 'token', tenant: ref.tenant, role: doc.role, tokenId: doc.id };
}

/**
 * The actor recorded in events for a principal: users by their id, with the token, session or
 * single sign-on subject they came through in `via`.
 */
export function actorOf(p: Principal): Actor {
  if (p.kind === 'admin') return { kind: 'operator', id: 'admin' };
  if (p.kind === 'token') return { kind: 'operator', id: `token:${p.tokenId}` };
  return { kind: 'operator', id: `user:${p.userId}`, via: viaOf(p) };
}

/** How a user came in, as the audit trail names it. */
export function viaOf(p: UserPrincipal): string {
  if (p.via.kind === 'token') return `token:${p.via.tokenId}`;
  if (p.via.sso) return `sso:${p.via.sso.issuer}#${p.via.sso.subject}`.slice(0, 300);
  return `session:${p.via.sessionId.slice(0, 16)}`;
}

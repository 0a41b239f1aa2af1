import { tokenDecider } from '../../commands/tokens/decider.ts';
import type { Role } from '../../src/api/permissions.ts';
import { execute } from '../../src/domain/execute.ts';
import { newId } from '../../src/ids.ts';
import { INSTALL_TENANT } from '../../src/people/install.ts';
import { mintSecret } from '../../src/tenancy/secrets.ts';
import type { ApiFixture } from '../helpers/api.ts';

let n = 0;

/** A password the policy accepts. */
export const PASSWORD = 'violet-kestrel-harbour-42';

/** A person of the install with roles, and an API token of theirs (minted on the log, as `POST /me/tokens` does). */
export interface Person {
  userId: string;
  email: string;
  token: string;
  tokenId: string;
}

/**
 * Invites a user as the admin, gives them `install` roles and roles per customer through the API,
 * and mints them an API token; returns once this process's read models show all of it.
 */
export async function person(
  f: ApiFixture,
  roles: { install?: Role[]; tenants?: Record<string, Role[]> },
  o: { password?: string | null } = {},
): Promise<Person & { invitation: string }> {
  const email = `p${process.pid}-${++n}-${newId().slice(0, 6)}@example.test`.toLowerCase();
  const u = await f.call('POST', '/api/v1/users', { body: { name: `Person ${n}`, email } });
  if (u.status !== 201) throw new Error(`invite: ${u.status} ${JSON.stringify(u.body)}`);
  const userId = u.body.id as string;
  if (o.password !== null) {
    const a = await f.call('POST', '/api/v1/invitations/accept', { token: null, body: { token: u.body.invitation.token, password: o.password ?? PASSWORD } });
    if (a.status !== 200) throw new Error(`accept: ${a.status} ${JSON.stringify(a.body)}`);
  }
  if (roles.install?.length) {
    const r = await f.call('PUT', `/api/v1/users/${userId}/roles`, { body: { roles: roles.install } });
    if (r.status !== 200) throw new Error(`install roles: ${r.status} ${JSON.stringify(r.body)}`);
  }
  for (const [tenant, rs] of Object.entries(roles.tenants ?? {})) {
    const r = await f.call('PUT', `/api/v1/tenants/${tenant}/access`, { body: { userId, roles: rs } });
    if (r.status !== 200) throw new Error(`roles on ${tenant}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  const t = await userToken(f, userId);
  return { userId, email, token: t.token, tokenId: t.tokenId, invitation: u.body.invitation.token };
}

/** Another API token of a user, minted on the log as `POST /me/tokens` does. */
export async function userToken(f: ApiFixture, userId: string, expiresAt = '2099-01-01T00:00:00.000Z'): Promise<{ token: string; tokenId: string }> {
  const tokenId = newId();
  const s = mintSecret('token');
  const r = await execute(
    f.stk.runtime.log,
    { tenant: INSTALL_TENANT, id: tokenId },
    tokenDecider,
    { kind: 'create', token: { role: null, label: 'test', lookup: s.lookup, hash: s.hash, owner: { kind: 'user', id: userId }, expiresAt } },
    { actor: { kind: 'operator', id: `user:${userId}` }, known: 'new' },
  );
  await settled(f, r.position);
  return { token: s.secret, tokenId };
}

/** Waits until this process's read models reach `position` (or everything the log holds now). */
export async function settled(f: ApiFixture, position?: number): Promise<void> {
  const p = position ?? (await f.stk.runtime.log.lastPosition());
  // Generous: a loaded 2-core box running other suites can hold a replay or an offboarding for seconds.
  if (!(await f.stk.runtime.readModels!.projector.waitFor(p, 30_000))) throw new Error(`projector did not reach ${p}`);
}

import { accessDecider, rolesOf } from '../../../commands/access/decider.ts';
import { userDecider } from '../../../commands/users/decider.ts';
import type { AccessDoc } from '../../../projections/access/projection.ts';
import { emailKey, type UserDoc } from '../../../projections/users/projection.ts';
import { StkError } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { INSTALL_TENANT } from '../../people/install.ts';
import {
  INVITATION_DEFAULT_HOURS,
  INVITATION_MAX_HOURS,
  invitationLookup,
  invitationMatches,
  invitationPath,
  mintInvitation,
} from '../../people/invitations.ts';
import { checkPasswordPolicy, hashPassword } from '../../people/passwords.ts';
import { fold } from '../../domain/decider.ts';
import { execute } from '../../domain/execute.ts';
import { canSee } from '../access.ts';
import type { Role } from '../permissions.ts';
import { type InstallContext, type InstallRouteDef, installRoute, type PublicContext, type PublicRouteDef, publicRoute } from '../route.ts';
import { ID, text } from '../schemas.ts';
import { checkGrantable, ROLES_SCHEMA } from './access.ts';

const EMAIL = { type: 'string', minLength: 3, maxLength: 254, pattern: '^[^\\s@]+@[^\\s@]+$' };
const USER_PARAM = { userId: ID };

/** A user as lists show them: no credential, no invitation lookup. */
export function userView(u: UserDoc) {
  const { invitationLookup: _l, seq: _s, ...rest } = u;
  return rest;
}

function invitation(hours: number | undefined) {
  const h = hours ?? INVITATION_DEFAULT_HOURS;
  const inv = mintInvitation();
  const expiresAt = new Date(Date.now() + h * 3600_000).toISOString();
  return { event: { lookup: inv.lookup, hash: inv.hash, expiresAt }, shown: { token: inv.secret, path: invitationPath(inv.secret), expiresAt } };
}

async function mustUser(c: InstallContext<unknown, unknown, { userId: string }>): Promise<UserDoc> {
  const u = await c.admin.tenant(INSTALL_TENANT).get<UserDoc>('users', c.params.userId);
  if (!u) throw new StkError('STK_ERR_NOT_FOUND', 'not found', { field: 'userId' });
  return u;
}

/** Every grant of a user that the caller may see (install-wide roles, and customers it can see). */
async function rolesView(c: InstallContext, userId: string) {
  const grants = await c.people.grants(userId);
  const install = grants[INSTALL_TENANT] ?? [];
  const tenants = Object.entries(grants)
    .filter(([t]) => t !== INSTALL_TENANT && canSee(c.principal, t))
    .map(([tenant, roles]) => ({ tenant, roles }));
  return { install, tenants };
}

function userChange(
  action: string,
  summary: string,
  command: (c: InstallContext<{ reason?: string }, unknown, { userId: string }>) => Parameters<typeof userDecider.decide>[0],
  body?: InstallRouteDef['body'],
): InstallRouteDef {
  return installRoute({
    method: 'POST',
    url: `/users/:userId/${action}`,
    permission: 'users.manage',
    area: 'users',
    summary,
    params: USER_PARAM,
    ...(body ? { body } : {}),
    handler: async (c: InstallContext<{ reason?: string }, unknown, { userId: string }>) => {
      await mustUser(c);
      const r = await c.execute(INSTALL_TENANT, userDecider, c.params.userId, command(c));
      // The epoch already ends every session on every process; this removes their entries too.
      if (action === 'disable' || action === 'end-sessions') await c.people.sessions.destroyAllForUser(c.params.userId);
      const consistencyToken = await c.settle(INSTALL_TENANT, r.position);
      const doc = await c.admin.tenant(INSTALL_TENANT).get<UserDoc>('users', c.params.userId);
      return { ...(doc ? userView(doc) : { id: c.params.userId }), consistencyToken };
    },
  });
}

/** The install's users: invitations, roles across customers, disable and enable. */
export const userRoutes: InstallRouteDef[] = [
  installRoute({
    method: 'POST',
    url: '/users',
    permission: 'users.manage',
    area: 'users',
    status: 201,
    summary: 'Invite a user: the answer carries the invitation (single use, expiring), shown this once',
    body: {
      properties: { name: text(200), email: EMAIL, expiresInHours: { type: 'integer', minimum: 1, maximum: INVITATION_MAX_HOURS } },
      required: ['name', 'email'],
    },
    handler: async (c: InstallContext<{ name: string; email: string; expiresInHours?: number }>) => {
      const { name, email } = c.body;
      if (await c.admin.lookup('users', 'user-email', emailKey(email)))
        throw new StkError('STK_ERR_USER_EXISTS', 'a user with this e-mail exists', { field: 'email' });
      const id = newId();
      const inv = invitation(c.body.expiresInHours);
      const r = await c.execute(INSTALL_TENANT, userDecider, id, { kind: 'invite', user: { name, email, invitation: inv.event } }, { known: 'new' });
      return { id, name, email, status: 'invited', invitation: inv.shown, consistencyToken: await c.settle(INSTALL_TENANT, r.position) };
    },
  }),
  installRoute({
    method: 'GET',
    url: '/users',
    permission: 'users.read',
    area: 'users',
    summary: 'List the users of the install, newest first; `q` finds a name or e-mail (part of it, any case); with the total',
    query: {
      status: { type: 'string', enum: ['invited', 'active', 'disabled'] },
      q: text(100),
      limit: { type: 'string', pattern: '^[0-9]{1,3}$' },
      cursor: { type: 'string', maxLength: 200 },
    },
    handler: async (c: InstallContext<unknown, { status?: string; q?: string; limit?: string; cursor?: string }>) => {
      const q = c.query.q?.trim().toLowerCase();
      const limit = Math.min(Math.max(Number(c.query.limit ?? 200) || 200, 1), 200);
      const page = await c.admin.tenant(INSTALL_TENANT).query<UserDoc>('users', {
        limit,
        filter: c.query.status ? { status: c.query.status } : {},
        ...(q ? { match: (d) => (d as UserDoc).name.toLowerCase().includes(q) || (d as UserDoc).email.toLowerCase().includes(q) } : {}),
        ...(c.query.cursor ? { cursor: c.query.cursor } : {}),
      });
      return { items: page.items.map(userView), nextCursor: page.nextCursor, total: page.total, totalExact: page.totalExact };
    },
  }),
  installRoute({
    method: 'GET',
    url: '/users/:userId',
    permission: 'users.read',
    area: 'users',
    summary: 'One user, with the roles they hold install-wide and on the customers you can see',
    params: USER_PARAM,
    handler: async (c: InstallContext<unknown, unknown, { userId: string }>) => ({
      ...userView(await mustUser(c)),
      roles: await rolesView(c, c.params.userId),
    }),
  }),
  installRoute({
    method: 'PUT',
    url: '/users/:userId/roles',
    permission: 'users.manage',
    area: 'users',
    summary: "Set a user's install-wide roles (MSP owner, MSP admin, auditor); nobody grants more than they hold",
    params: USER_PARAM,
    body: { properties: { roles: ROLES_SCHEMA }, required: ['roles'] },
    handler: async (c: InstallContext<{ roles: Role[] }, unknown, { userId: string }>) => {
      await mustUser(c);
      const current = (await c.admin.tenant(INSTALL_TENANT).get<AccessDoc>('access', c.params.userId))?.roles ?? [];
      checkGrantable(c.principal, INSTALL_TENANT, [...new Set([...c.body.roles, ...current.filter((r) => !c.body.roles.includes(r))])]);
      const r = await c.execute(INSTALL_TENANT, accessDecider, c.params.userId, { kind: 'set', roles: c.body.roles, source: 'manual', scope: 'install' });
      const consistencyToken = await c.settle(INSTALL_TENANT, r.position);
      return { userId: c.params.userId, roles: rolesOf({ roles: Object.fromEntries(c.body.roles.map((x) => [x, 'manual'])) }), consistencyToken };
    },
  }),
  installRoute({
    method: 'POST',
    url: '/users/:userId/invitation',
    permission: 'users.manage',
    area: 'users',
    summary: 'A new invitation for a user who has not accepted theirs; the old one stops working',
    params: USER_PARAM,
    body: { properties: { expiresInHours: { type: 'integer', minimum: 1, maximum: INVITATION_MAX_HOURS } } },
    handler: async (c: InstallContext<{ expiresInHours?: number }, unknown, { userId: string }>) => {
      await mustUser(c);
      const inv = invitation(c.body.expiresInHours);
      const r = await c.execute(INSTALL_TENANT, userDecider, c.params.userId, { kind: 'renew-invitation', invitation: inv.event });
      return { id: c.params.userId, invitation: inv.shown, consistencyToken: await c.settle(INSTALL_TENANT, r.position) };
    },
  }),
  userChange(
    'disable',
    'Disable a user: every session and API token of theirs stops working at once, on every process',
    (c) => ({ kind: 'disable', reason: c.body.reason ?? '' }),
    {
      properties: { reason: text(500) },
      required: ['reason'],
    },
  ),
  userChange('enable', 'Enable a disabled user again (their old sessions stay ended)', () => ({ kind: 'enable' })),
  userChange('reset-mfa', "Remove a user's TOTP and recovery codes (they set MFA up again); ends their sessions", () => ({ kind: 'reset-mfa' })),
  userChange('end-sessions', 'End every dashboard session of a user, on every process', () => ({ kind: 'end-sessions' })),
];

/** `POST /invitations/accept`: the one route without a credential; the invitation is the credential. */
export const invitationRoutes: PublicRouteDef[] = [
  publicRoute({
    method: 'POST',
    url: '/invitations/accept',
    area: 'users',
    summary: 'Accept an invitation with a password (policy: 12+ characters, not common, not your name or e-mail); then sign in',
    body: { properties: { token: { type: 'string', maxLength: 100 }, password: { type: 'string', maxLength: 1024 } }, required: ['token', 'password'] },
    handler: async (c: PublicContext<{ token: string; password: string }>) => {
      const { token, password } = c.body;
      const refused = () => new StkError('STK_ERR_INVITATION_INVALID', 'this invitation is not valid: it was used, replaced or has expired');
      const lookup = invitationLookup(token);
      const ref = lookup ? await c.api.store.admin.lookup<{ userId: string }>('users', 'invitation', lookup) : null;
      const r = ref ? await c.api.log.readAggregate({ tenant: INSTALL_TENANT, aggregateType: userDecider.aggregateType, aggregateId: ref.userId }) : null;
      const state = r ? fold(userDecider, r.events) : null;
      if (!invitationMatches(token, state?.invitation?.hash ?? null) || !state || !ref) throw refused();
      checkPasswordPolicy(password, { name: state.name, email: state.email });
      const sealed = c.people.vault.seal(await hashPassword(password), ref.userId, 'password');
      // Decided against the state just read (a used, replaced or expired invitation is refused there).
      await execute(
        c.api.log,
        { tenant: INSTALL_TENANT, id: ref.userId },
        userDecider,
        { kind: 'accept-invitation', lookup: lookup!, password: sealed, now: new Date().toISOString() },
        { actor: { kind: 'operator', id: `user:${ref.userId}`, via: 'invitation' }, known: { version: r!.version, state } },
      );
      return { userId: ref.userId, status: 'active', email: state.email };
    },
  }),
];

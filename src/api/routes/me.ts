import { userDecider } from '../../../commands/users/decider.ts';
import { tokenDecider } from '../../../commands/tokens/decider.ts';
import type { TokenDoc } from '../../../projections/tokens/projection.ts';
import { StkError } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { INSTALL_TENANT } from '../../people/install.ts';
import { checkPasswordPolicy, hashPassword, verifyPassword } from '../../people/passwords.ts';
import { mfaRequired } from '../../people/signin.ts';
import { newRecoveryCodes, newTotp, totpStep } from '../../people/totp.ts';
import { mintSecret } from '../../tenancy/secrets.ts';
import { installPermissions } from '../access.ts';
import type { UserPrincipal } from '../auth.ts';
import { type InstallContext, type InstallRouteDef, installRoute } from '../route.ts';
import { ID, text } from '../schemas.ts';
import { tokenView } from './tenants.ts';
import { tokenExpiry, withLastUsed } from './tokens.ts';

/** The caller as a user; the admin key and service tokens have no "me" beyond `GET /me`. */
function me(c: InstallContext): UserPrincipal {
  if (c.principal.kind !== 'user') throw new StkError('STK_ERR_FORBIDDEN', 'only a signed-in person has this', { context: 'self' });
  return c.principal;
}

/** A TOTP set-up in progress travels sealed to the client and back, so any process can finish it. */
const TICKET_MS = 10 * 60_000;

function self(d: Omit<Parameters<typeof installRoute>[0], 'permission' | 'area'>): InstallRouteDef {
  return installRoute({ ...d, permission: 'self', area: 'me' });
}

/** A person's own profile, sessions, API tokens, password and MFA. */
export const meRoutes: InstallRouteDef[] = [
  self({
    method: 'GET',
    url: '/me',
    summary: 'Who the credential is: a user (roles, MFA), a service token, or the admin key (`breakGlass: true`, for a banner)',
    handler: async (c) => {
      const p = c.principal;
      if (p.kind === 'admin') return { kind: 'admin', breakGlass: true, permissions: [...installPermissions(p)] };
      if (p.kind === 'token') return { kind: 'token', tenant: p.tenant, role: p.role, breakGlass: false };
      const u = await c.people.user(p.userId);
      const settings = await c.people.refreshSettings();
      return {
        kind: 'user',
        breakGlass: false,
        id: p.userId,
        name: u.state.name,
        email: u.state.email,
        via: p.via.kind,
        sso: p.via.kind === 'session' ? p.via.sso : null,
        mfa: {
          enrolled: u.state.totp !== null,
          required: mfaRequired(c.people, p.grants),
          pending: p.via.kind === 'session' && p.via.mfaPending,
          recoveryCodesLeft: u.state.recovery ? u.state.recovery.count - u.state.recovery.used.length : 0,
        },
        hasPassword: u.state.password !== null,
        roles: {
          install: p.grants[INSTALL_TENANT] ?? [],
          tenants: Object.entries(p.grants)
            .filter(([t]) => t !== INSTALL_TENANT)
            .map(([tenant, roles]) => ({ tenant, roles })),
        },
        permissions: [...installPermissions(p)],
        // What a new API token of theirs may ask for (the install's default and maximum lifetime).
        tokenDays: { default: settings.tokenDefaultDays, max: settings.tokenMaxDays },
      };
    },
  }),
  self({
    method: 'GET',
    url: '/me/sessions',
    summary: 'Your dashboard sessions (which one is this, when last used, from where)',
    handler: async (c) => {
      const p = me(c);
      const current = p.via.kind === 'session' ? p.via.sessionId : null;
      return { items: (await c.people.sessions.listForUser(p.userId)).map((s) => ({ ...s, current: s.id === current })) };
    },
  }),
  self({
    method: 'DELETE',
    url: '/me/sessions/:sessionId',
    summary: 'End one of your sessions, on every process',
    params: { sessionId: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
    status: 204,
    handler: async (c: InstallContext<unknown, unknown, { sessionId: string }>) => {
      if (!(await c.people.sessions.destroyById(me(c).userId, c.params.sessionId))) throw new StkError('STK_ERR_NOT_FOUND', 'not found');
      return null;
    },
  }),
  self({
    method: 'POST',
    url: '/me/sessions/end-all',
    summary: 'End every session of yours, this one included, on every process',
    handler: async (c) => {
      const p = me(c);
      const r = await c.execute(INSTALL_TENANT, userDecider, p.userId, { kind: 'end-sessions' });
      await c.people.sessions.destroyAllForUser(p.userId);
      return { ended: true, consistencyToken: await c.settle(INSTALL_TENANT, r.position) };
    },
  }),
  self({
    method: 'GET',
    url: '/me/tokens',
    summary: 'Your API tokens with expiry and last use',
    handler: async (c) => {
      const p = me(c);
      const page = await c.admin.tenant(INSTALL_TENANT).list<TokenDoc>('tokens', { filter: { ownerId: p.userId }, limit: 200 });
      return { items: await withLastUsed(c.people, page.items.map(tokenView)) };
    },
  }),
  self({
    method: 'POST',
    url: '/me/tokens',
    status: 201,
    summary: "An API token that acts as you (your roles, while you are active); shown once; expires after `expiresInDays` within the install's maximum",
    body: { properties: { label: text(200), expiresInDays: { type: 'integer', minimum: 1, maximum: 3650 } }, required: ['label'] },
    handler: async (c: InstallContext<{ label: string; expiresInDays?: number }>) => {
      const p = me(c);
      if (p.via.kind === 'token') throw new StkError('STK_ERR_FORBIDDEN', 'a token cannot make tokens; sign in', { context: 'self' });
      // A session that still has to set up MFA reaches only that: a token made now would skip it.
      if (p.via.mfaPending) throw new StkError('STK_ERR_MFA_REQUIRED', 'set up MFA first: the install requires it for you');
      const expiresAt = tokenExpiry(await c.people.refreshSettings(), c.body.expiresInDays);
      const id = newId();
      const s = mintSecret('token');
      const owner = { kind: 'user' as const, id: p.userId };
      const r = await c.execute(
        INSTALL_TENANT,
        tokenDecider,
        id,
        { kind: 'create', token: { role: null, label: c.body.label, lookup: s.lookup, hash: s.hash, owner, expiresAt } },
        { known: 'new' },
      );
      return { id, label: c.body.label, owner, expiresAt, token: s.secret, consistencyToken: await c.settle(INSTALL_TENANT, r.position) };
    },
  }),
  self({
    method: 'POST',
    url: '/me/tokens/:tokenId/revoke',
    summary: 'Revoke one of your API tokens; it stops working at once',
    params: { tokenId: ID },
    handler: async (c: InstallContext<unknown, unknown, { tokenId: string }>) => {
      const p = me(c);
      const t = await c.admin.tenant(INSTALL_TENANT).get<TokenDoc>('tokens', c.params.tokenId);
      if (t?.owner?.kind !== 'user' || t.owner.id !== p.userId) throw new StkError('STK_ERR_NOT_FOUND', 'not found');
      const r = await c.execute(INSTALL_TENANT, tokenDecider, t.id, { kind: 'revoke' });
      return { id: t.id, revoked: true, consistencyToken: await c.settle(INSTALL_TENANT, r.position) };
    },
  }),
  self({
    method: 'POST',
    url: '/me/password',
    summary: 'Change your password (the current one is needed); every session of yours ends',
    body: { properties: { current: { type: 'string', maxLength: 1024 }, password: { type: 'string', maxLength: 1024 } }, required: ['current', 'password'] },
    handler: async (c: InstallContext<{ current: string; password: string }>) => {
      const p = me(c);
      const u = await c.people.user(p.userId);
      const stored = u.state.password ? c.people.vault.open<string>(u.state.password, p.userId, 'password') : null;
      if (!(await verifyPassword(stored, c.body.current))) throw new StkError('STK_ERR_AUTH_REQUIRED', 'the current password is wrong');
      checkPasswordPolicy(c.body.password, { name: u.state.name, email: u.state.email });
      const sealed = c.people.vault.seal(await hashPassword(c.body.password), p.userId, 'password');
      const r = await c.execute(INSTALL_TENANT, userDecider, p.userId, { kind: 'change-password', password: sealed });
      await c.people.sessions.destroyAllForUser(p.userId);
      return { changed: true, consistencyToken: await c.settle(INSTALL_TENANT, r.position) };
    },
  }),
  self({
    method: 'POST',
    url: '/me/mfa/totp',
    summary: 'Start setting up TOTP: a secret and its otpauth URI, and a ticket to confirm with a first code',
    handler: async (c) => {
      const p = me(c);
      const u = await c.people.user(p.userId);
      if (u.state.totp) throw new StkError('STK_ERR_INVALID_TRANSITION', 'MFA is set up already', { actual: 'enrolled' });
      const t = newTotp(u.state.email || u.state.name);
      const ticket = c.people.vault.seal({ secret: t.secret, until: Date.now() + TICKET_MS }, p.userId, 'totp-ticket');
      return { secret: t.secret, uri: t.uri, ticket };
    },
  }),
  self({
    method: 'POST',
    url: '/me/mfa/totp/confirm',
    summary: 'Finish setting up TOTP with a current code; answers ten single-use recovery codes, shown this once',
    body: { properties: { ticket: { type: 'string', maxLength: 400 }, code: { type: 'string', pattern: '^[0-9]{6}$' } }, required: ['ticket', 'code'] },
    handler: async (c: InstallContext<{ ticket: string; code: string }>) => {
      const p = me(c);
      let t: { secret: string; until: number };
      try {
        t = c.people.vault.open(c.body.ticket, p.userId, 'totp-ticket');
      } catch {
        throw new StkError('STK_ERR_VALIDATION', 'not a set-up ticket of yours', { field: 'ticket' });
      }
      if (t.until < Date.now()) throw new StkError('STK_ERR_VALIDATION', 'the set-up ticket has expired; start again', { field: 'ticket' });
      const step = totpStep(t.secret, c.body.code, Date.now());
      if (step === null) throw new StkError('STK_ERR_MFA_INVALID', 'the code is not valid', { field: 'code' });
      if (!(await c.people.guard.useTotpStep(p.userId, step))) throw new StkError('STK_ERR_MFA_REPLAYED', 'this code was used already', { field: 'code' });
      const rc = newRecoveryCodes();
      const r = await c.execute(INSTALL_TENANT, userDecider, p.userId, {
        kind: 'enroll-totp',
        totp: c.people.vault.seal(t.secret, p.userId, 'totp'),
        recovery: { sealed: c.people.vault.seal(rc.set, p.userId, 'recovery'), count: rc.codes.length },
      });
      // A session that had to set up MFA first is still limited: the user signs in again, now with a code.
      return { enrolled: true, recoveryCodes: rc.codes, consistencyToken: await c.settle(INSTALL_TENANT, r.position) };
    },
  }),
  self({
    method: 'POST',
    url: '/me/mfa/reset',
    summary:
      'Remove your authenticator (to move to a new phone): needs a current TOTP code; every session of yours ends and you set MFA up again at the next sign-in',
    body: { properties: { code: { type: 'string', pattern: '^[0-9]{6}$' } }, required: ['code'] },
    handler: async (c: InstallContext<{ code: string }>) => {
      const p = me(c);
      const u = await c.people.user(p.userId);
      if (!u.state.totp) throw new StkError('STK_ERR_INVALID_TRANSITION', 'you have no MFA set up', { actual: 'none' });
      const step = totpStep(c.people.vault.open<string>(u.state.totp, p.userId, 'totp'), c.body.code, Date.now());
      if (step === null) throw new StkError('STK_ERR_MFA_INVALID', 'the code is not valid', { field: 'code' });
      if (!(await c.people.guard.useTotpStep(p.userId, step))) throw new StkError('STK_ERR_MFA_REPLAYED', 'this code was used already', { field: 'code' });
      const r = await c.execute(INSTALL_TENANT, userDecider, p.userId, { kind: 'reset-mfa' });
      await c.people.sessions.destroyAllForUser(p.userId);
      return { reset: true, consistencyToken: await c.settle(INSTALL_TENANT, r.position) };
    },
  }),
  self({
    method: 'POST',
    url: '/me/recovery-codes',
    summary: 'New recovery codes (the old ones stop working); needs a current TOTP code',
    body: { properties: { code: { type: 'string', pattern: '^[0-9]{6}$' } }, required: ['code'] },
    handler: async (c: InstallContext<{ code: string }>) => {
      const p = me(c);
      const u = await c.people.user(p.userId);
      if (!u.state.totp) throw new StkError('STK_ERR_INVALID_TRANSITION', 'set up MFA first', { actual: 'none' });
      const step = totpStep(c.people.vault.open<string>(u.state.totp, p.userId, 'totp'), c.body.code, Date.now());
      if (step === null) throw new StkError('STK_ERR_MFA_INVALID', 'the code is not valid', { field: 'code' });
      if (!(await c.people.guard.useTotpStep(p.userId, step))) throw new StkError('STK_ERR_MFA_REPLAYED', 'this code was used already', { field: 'code' });
      const rc = newRecoveryCodes();
      const r = await c.execute(INSTALL_TENANT, userDecider, p.userId, {
        kind: 'set-recovery-codes',
        recovery: { sealed: c.people.vault.seal(rc.set, p.userId, 'recovery'), count: rc.codes.length },
      });
      return { recoveryCodes: rc.codes, consistencyToken: await c.settle(INSTALL_TENANT, r.position) };
    },
  }),
];

import { accessDecider } from '../../commands/access/decider.ts';
import { userDecider } from '../../commands/users/decider.ts';
import { ssoKey } from '../../projections/users/projection.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { UserPrincipal } from '../api/auth.ts';
import { execute } from '../domain/execute.ts';
import { isStkError, StkError } from '../errors.ts';
import { newId } from '../ids.ts';
import { INSTALL_TENANT } from '../people/install.ts';
import { loadOidcConfig, rolesFromClaims, SsoClient, type SsoFlight } from '../people/oidc.ts';
import type { Grants, People } from '../people/people.ts';
import { passwordSignIn, recordSignIn } from '../people/signin.ts';
import type { DashboardContext } from './context.ts';
import { assertSameOrigin, noStore, sessionSetCookie, UI_PREFIX } from './security.ts';
import type { SessionUser } from './sessions.ts';
import type { SignInThrottle } from './throttle.ts';

/** Cookie that carries a single sign-on in flight from `/ui/sso/start` to the callback (sealed, 10 minutes). */
const FLIGHT_COOKIE = 'stk_sso';

/**
 * Sign-in of people: e-mail and password (with TOTP or a recovery code when they have MFA), and
 * single sign-on with OpenID Connect (authorization code + PKCE, state and nonce). Either way the
 * session is bound to the user: the API checks the user on every call, so a disable ends it on
 * every process at once.
 */
export function registerSignIn(ui: FastifyInstance, ctx: DashboardContext, throttle: SignInThrottle, home: (grants: Grants) => string): void {
  const sso = (): SsoClient | null => {
    const c = loadOidcConfig(ctx.rt.config.dataDir);
    return c ? new SsoClient(c) : null;
  };
  let client: SsoClient | null | undefined;
  const ssoClient = (): SsoClient | null => {
    if (client === undefined) client = sso();
    return client;
  };

  const startSession = async (
    req: FastifyRequest,
    reply: FastifyReply,
    people: People,
    user: SessionUser,
    grants: Grants,
    method: Parameters<typeof recordSignIn>[2]['method'],
  ) => {
    const principal: UserPrincipal = {
      kind: 'user',
      userId: user.userId,
      name: user.name,
      via: { kind: 'session', sessionId: '', sso: user.sso, mfaPending: user.mfaPending },
      grants: {},
    };
    const { sid, session } = await people.sessions.create('', principal, { user, ip: req.ip, userAgent: String(req.headers['user-agent'] ?? '') });
    await recordSignIn(
      people,
      user.userId,
      { method, session: session.id.slice(0, 16), ip: req.ip },
      user.sso ? `sso:${user.sso.issuer}#${user.sso.subject}` : `session:${session.id.slice(0, 16)}`,
    );
    reply.header('set-cookie', sessionSetCookie(req, sid));
    noStore(reply);
    return { session, home: user.mfaPending ? `${UI_PREFIX}/account` : home(grants) };
  };

  ui.post(
    '/session/password',
    {
      schema: {
        body: {
          type: 'object',
          properties: {
            email: { type: 'string', minLength: 3, maxLength: 254 },
            password: { type: 'string', minLength: 1, maxLength: 1024 },
            code: { type: 'string', maxLength: 40 },
          },
          required: ['email', 'password'],
          additionalProperties: false,
        },
      },
    },
    async (req, reply) => {
      assertSameOrigin(req);
      throttle.check(req.ip);
      const people = await ctx.people();
      const body = req.body as { email: string; password: string; code?: string };
      let signedIn: Awaited<ReturnType<typeof passwordSignIn>>;
      try {
        await people.refreshSettings();
        signedIn = await passwordSignIn(people, { ...body, ip: req.ip });
      } catch (err) {
        if (isStkError(err) && err.code !== 'STK_ERR_MFA_REQUIRED') {
          throttle.failed(req.ip);
          void people.refusals.record([INSTALL_TENANT], {
            at: new Date().toISOString(),
            kind: 'sign-in',
            code: err.code,
            actor: `email:${body.email.toLowerCase().slice(0, 254)}`,
            via: 'password',
            method: 'POST',
            route: '/ui/session/password',
            ip: req.ip,
          });
        }
        throw err;
      }
      throttle.succeeded(req.ip);
      const user: SessionUser = { userId: signedIn.userId, name: signedIn.name, epoch: signedIn.state.epoch, sso: null, mfaPending: signedIn.mfaPending };
      const { session, home: to } = await startSession(req, reply, people, user, signedIn.grants, signedIn.method);
      req.log.info({ userId: user.userId, method: signedIn.method }, 'dashboard sign-in');
      return reply.status(201).send({ home: to, csrf: session.csrf, mfaPending: signedIn.mfaPending });
    },
  );

  // What the sign-in page offers: the single sign-on button only when the install has it set up.
  ui.get('/sign-in-options', async (_req, reply) => {
    noStore(reply);
    return { sso: ssoClient() !== null };
  });

  /**
   * A failed single sign-on in a browser lands on the sign-in page, which says why (with the code);
   * other clients (no `text/html` in Accept) get the API's JSON error as before.
   */
  const forBrowsers =
    (handler: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>) =>
    async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
      try {
        return await handler(req, reply);
      } catch (err) {
        if (!/\btext\/html\b/.test(String(req.headers.accept ?? '')) || !isStkError(err)) throw err;
        noStore(reply);
        return reply.redirect(`${UI_PREFIX}/login?error=${encodeURIComponent(err.code)}`, 303);
      }
    };

  ui.get(
    '/sso/start',
    forBrowsers(async (req, reply) => {
      const client = ssoClient();
      if (!client) throw new StkError('STK_ERR_SSO_FAILED', 'single sign-on is not set up on this install');
      const people = await ctx.people();
      const { url, flight } = await client.start();
      const sealed = people.vault.seal(flight, 'sso', 'flight');
      // Lax: the provider sends the browser back with a top-level GET from its own site.
      reply.header(
        'set-cookie',
        `${FLIGHT_COOKIE}=${sealed}; Path=${UI_PREFIX}/sso; HttpOnly; SameSite=Lax; Max-Age=600${req.protocol === 'https' ? '; Secure' : ''}`,
      );
      noStore(reply);
      return reply.redirect(url, 303);
    }),
  );

  ui.get(
    '/sso/callback',
    forBrowsers(async (req, reply) => {
      const client = ssoClient();
      if (!client) throw new StkError('STK_ERR_SSO_FAILED', 'single sign-on is not set up on this install');
      const people = await ctx.people();
      const cookie = /(?:^|;\s*)stk_sso=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
      reply.header('set-cookie', `${FLIGHT_COOKIE}=; Path=${UI_PREFIX}/sso; HttpOnly; SameSite=Lax; Max-Age=0`);
      let flight: SsoFlight;
      try {
        flight = people.vault.open<SsoFlight>(cookie ?? '', 'sso', 'flight');
      } catch {
        throw new StkError('STK_ERR_SSO_FAILED', 'no single sign-on in progress in this browser; start again');
      }
      const here = new URL(client.settings.redirectUri);
      const callback = new URL(req.url, `${here.protocol}//${here.host}`);
      let claims: Awaited<ReturnType<SsoClient['finish']>>;
      try {
        claims = await client.finish(callback, flight);
      } catch (err) {
        void people.refusals.record([INSTALL_TENANT], {
          at: new Date().toISOString(),
          kind: 'sign-in',
          code: 'STK_ERR_SSO_FAILED',
          actor: 'anonymous',
          via: 'sso',
          method: 'GET',
          route: '/ui/sso/callback',
          ip: req.ip,
        });
        throw err;
      }
      const mapped = rolesFromClaims(client.settings, claims);
      if (Object.keys(mapped).length === 0) {
        void people.refusals.record([INSTALL_TENANT], {
          at: new Date().toISOString(),
          kind: 'sign-in',
          code: 'STK_ERR_FORBIDDEN',
          actor: `sso:${claims.iss}#${claims.sub}`.slice(0, 300),
          via: 'sso',
          method: 'GET',
          route: '/ui/sso/callback',
          ip: req.ip,
        });
        throw new StkError('STK_ERR_FORBIDDEN', 'your identity provider gives you no role on this install');
      }
      const sso = { issuer: claims.iss, subject: claims.sub };
      const actor = { kind: 'operator' as const, id: 'sso', via: `sso:${sso.issuer}#${sso.subject}`.slice(0, 300) };
      let userId = await people.store.admin.lookup<string>('users', 'user-sso', ssoKey(sso.issuer, sso.subject));
      let position = 0;
      if (!userId) {
        userId = newId();
        const name = String(claims.name ?? claims.preferred_username ?? claims.email ?? sso.subject).slice(0, 200);
        const r = await execute(
          ctx.rt.log,
          { tenant: INSTALL_TENANT, id: userId },
          userDecider,
          { kind: 'provision', user: { name, email: String(claims.email ?? ''), sso } },
          {
            actor: { ...actor, id: `user:${userId}` },
            known: 'new',
          },
        );
        position = r.position;
      }
      const u = await people.user(userId);
      if (u.state.status !== 'active') throw new StkError('STK_ERR_AUTH_REQUIRED', 'this account is disabled');
      // The provider's groups decide the SSO-given roles at every sign-in; roles given by hand stay.
      const current = await people.grants(userId);
      for (const tenant of new Set([...Object.keys(mapped), ...Object.keys(current)])) {
        const scope = tenant === INSTALL_TENANT ? 'install' : 'tenant';
        const r = await execute(
          ctx.rt.log,
          { tenant, id: userId },
          accessDecider,
          { kind: 'set', roles: mapped[tenant] ?? [], source: 'sso', scope },
          {
            actor: { ...actor, id: `user:${userId}` },
          },
        );
        position = Math.max(position, r.position);
      }
      // The next page reads grants from this process's read models: let them catch up first.
      if (position > 0) await ctx.rt.readModels?.projector.waitFor(position, 5_000);
      const grants = await people.grants(userId);
      const fresh = await people.user(userId);
      const user: SessionUser = { userId, name: fresh.state.name, epoch: fresh.state.epoch, sso, mfaPending: false };
      // An SSO user's second factor is the identity provider's business: no TOTP is asked here.
      const { home: to } = await startSession(req, reply, people, user, grants, 'sso');
      req.log.info({ userId, method: 'sso' }, 'dashboard sign-in');
      return reply.redirect(to, 303);
    }),
  );
}

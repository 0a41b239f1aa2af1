import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticate, type Principal } from '../api/auth.ts';
import type { Grants } from '../people/people.ts';
import { INSTALL_TENANT } from '../people/install.ts';
import { dataPaths } from '../datadir.ts';
import { ACTIONS, AREA_PRODUCTS, PRODUCTS } from '../domain/products.ts';
import { isStkError } from '../errors.ts';
import { isValidId } from '../ids.ts';
import type { Asset } from './assets.ts';
import type { DashboardContext } from './context.ts';
import { assertCsrf, assertSameOrigin, noStore, sessionCookie, sessionSetCookie, UI_PREFIX } from './security.ts';
import type { Session } from './sessions.ts';
import { registerSignIn } from './signin.ts';
import { SignInThrottle } from './throttle.ts';

/** The pages of one customer; each is also a path `/ui/t/<tenant>/<page>`. */
export const TENANT_PAGES = ['overview', 'agents', 'alerts', 'incidents', 'findings', 'scans', 'evidence', 'audit', 'ledger'] as const;

/** Largest credential the sign-in form takes (the API takes 200 printable characters). */
const CREDENTIAL_MAX = 200;

/**
 * The HTML shell and the session routes. Every page URL is checked here, on the server, before
 * the shell is sent: a page of a tenant the session cannot see, or of a product that is off,
 * answers 404 with nothing of the tenant in it — the address bar is not a way around the switcher.
 */
export function registerPages(ui: FastifyInstance, ctx: DashboardContext, assets: Map<string, Asset>): void {
  const shell = assets.get('index.html')!;
  const login = assets.get('login.html')!;
  const missing = assets.get('not-found.html')!;

  const throttle = new SignInThrottle();
  const html = (reply: FastifyReply, asset: Asset, status = 200): FastifyReply => {
    noStore(reply);
    return reply.status(status).type(asset.type).send(asset.body);
  };
  /** Where a person lands: the customers list when they see several, their customer's overview when one. */
  const userHome = (grants: Grants): string => {
    const tenants = Object.keys(grants).filter((t) => t !== INSTALL_TENANT);
    return (grants[INSTALL_TENANT] ?? []).length > 0 || tenants.length !== 1 ? `${UI_PREFIX}/customers` : `${UI_PREFIX}/t/${tenants[0]}/overview`;
  };
  const home = async (s: Session): Promise<string> =>
    s.principal.kind === 'admin'
      ? `${UI_PREFIX}/customers`
      : s.principal.kind === 'token'
        ? `${UI_PREFIX}/t/${s.principal.tenant}/overview`
        : userHome(await (await ctx.people()).grants(s.principal.userId));
  /** Sends the shell when the session may see this page, the 404 page otherwise, the sign-in page without a session. */
  const page = async (req: FastifyRequest, reply: FastifyReply, check: (s: Session) => Promise<boolean> | boolean): Promise<FastifyReply> => {
    const s = await ctx.session(req);
    if (!s) return reply.redirect(`${UI_PREFIX}/login`, 303);
    let allowed: boolean;
    try {
      allowed = await check(s);
    } catch (err) {
      if (!isStkError(err, 'STK_ERR_AUTH_REQUIRED')) throw err;
      // The credential was revoked since sign-in: the session ends and sign-in is the next page.
      await ctx.sessions.destroy(sessionCookie(req));
      reply.header('set-cookie', sessionSetCookie(req, null));
      return reply.redirect(`${UI_PREFIX}/login`, 303);
    }
    return allowed ? html(reply, shell) : html(reply, missing, 404);
  };

  // Any other address under /ui is the dashboard's own "not found" page, with its headers.
  ui.setNotFoundHandler((_req, reply) => html(reply, missing, 404));

  ui.get('/', async (req, reply) => {
    const s = await ctx.session(req);
    return reply.redirect(s ? await home(s) : `${UI_PREFIX}/login`, 303);
  });
  ui.get('/login', async (req, reply) => {
    const s = await ctx.session(req);
    return s ? reply.redirect(await home(s), 303) : html(reply, login);
  });
  ui.get('/customers', (req, reply) => page(req, reply, (s) => s.principal.kind !== 'token'));
  const tenantPage = (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const { tenant, page: name } = req.params as { tenant: string; page?: string };
    return page(req, reply, async (s) => {
      if (!isValidId('tenant', tenant)) return false;
      if (name !== undefined && !(TENANT_PAGES as readonly string[]).includes(name)) return false;
      const view = await ctx.tenantView(s, tenant);
      if (!view) return false;
      const products = name ? AREA_PRODUCTS[name] : undefined;
      return !products || products.some((p) => view.products.includes(p));
    });
  };
  const idParam = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' };
  const tenantParams = { type: 'object', properties: { tenant: { type: 'string', maxLength: 63 }, page: { type: 'string', maxLength: 32 }, id: idParam } };
  ui.get('/t/:tenant', { schema: { params: tenantParams } }, tenantPage);
  ui.get('/t/:tenant/:page', { schema: { params: tenantParams } }, tenantPage);
  ui.get('/t/:tenant/:page/:id', { schema: { params: tenantParams } }, tenantPage);

  ui.get('/session', async (req, reply) => {
    const s = await ctx.requireSession(req);
    noStore(reply);
    const p = s.principal;
    return {
      principal:
        p.kind === 'admin'
          ? { kind: 'admin' }
          : p.kind === 'token'
            ? { kind: 'token', tenant: p.tenant, role: p.role }
            : { kind: 'user', id: s.user?.userId ?? p.userId, name: s.user?.name ?? p.name, sso: s.user?.sso ?? null, mfaPending: s.user?.mfaPending ?? false },
      // The admin key is the break-glass credential: the dashboard shows a banner while it is in use.
      breakGlass: p.kind === 'admin',
      csrf: s.csrf,
      expiresAt: s.expiresAt,
      pages: TENANT_PAGES,
      products: PRODUCTS,
      areaProducts: AREA_PRODUCTS,
      actions: ACTIONS,
      // What the enroll command shown with a new secret needs; only an admin creates customers.
      ...(p.kind === 'admin'
        ? {
            enroll: {
              ingressUrl: `https://${ctx.rt.config.ingressHost}:${ctx.rt.config.ingressPort}`,
              caPath: join(dataPaths(ctx.rt.config.dataDir).pki, 'ca.crt'),
            },
          }
        : {}),
    };
  });

  ui.post(
    '/session',
    {
      schema: {
        body: {
          type: 'object',
          properties: { credential: { type: 'string', minLength: 1, maxLength: CREDENTIAL_MAX } },
          required: ['credential'],
          additionalProperties: false,
        },
      },
    },
    async (req, reply) => {
      assertSameOrigin(req);
      throttle.check(req.ip);
      const { credential } = req.body as { credential: string };
      // The operator API's own check of the Bearer credential, handed the credential as a header.
      let principal: Principal;
      try {
        const people = await ctx.people();
        principal = await authenticate(credential, { admin: ctx.rt.readModels!.store.admin, adminKey: ctx.rt.adminKey, people });
        if (principal.kind === 'admin') await people.breakGlass.used({ method: 'POST', route: '/ui/session', ip: req.ip, via: 'dashboard' });
      } catch (err) {
        if (isStkError(err, 'STK_ERR_AUTH_REQUIRED')) throttle.failed(req.ip);
        throw err;
      }
      throttle.succeeded(req.ip);
      const { sid, session } = await ctx.sessions.create(credential, principal);
      req.log.info(
        {
          principal: principal.kind,
          ...(principal.kind === 'token' ? { tenant: principal.tenant, role: principal.role } : {}),
          ...(principal.kind === 'user' ? { userId: principal.userId } : {}),
        },
        'dashboard sign-in',
      );
      noStore(reply);
      reply.header('set-cookie', sessionSetCookie(req, sid));
      return reply.status(201).send({ home: await home(session), csrf: session.csrf });
    },
  );

  registerSignIn(ui, ctx, throttle, userHome);

  ui.delete('/session', async (req, reply) => {
    const s = await ctx.session(req);
    if (s) assertCsrf(req, s);
    if (s) await ctx.sessions.destroy(sessionCookie(req));
    reply.header('set-cookie', sessionSetCookie(req, null));
    return reply.status(204).send();
  });

  ui.get('/assets/*', async (req, reply) => {
    const name = (req.params as { '*': string })['*'];
    const asset = assets.get(name);
    if (!asset || name.endsWith('.html')) return html(reply, missing, 404);
    reply.header('etag', asset.etag).header('cache-control', 'no-cache');
    if (req.headers['if-none-match'] === asset.etag) return reply.status(304).send();
    return reply.type(asset.type).send(asset.body);
  });
}

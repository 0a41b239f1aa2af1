import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticate, type Principal } from '../api/auth.ts';
import type { Grants } from '../people/people.ts';
import { INSTALL_TENANT } from '../people/install.ts';
import { dataPaths } from '../datadir.ts';
import { ACTIONS, AREA_PRODUCTS, PRODUCTS } from '../domain/products.ts';
import { ACTION_ARGS } from '../domain/actions.ts';
import { installPermissions, permissionsOn } from '../api/access.ts';
import { ROLES, TENANT_PERMISSIONS } from '../api/permissions.ts';
import { isStkError } from '../errors.ts';
import { ITEM_ID_RE, PAGE_SPECS, pageAllowed, pagePermitted, pageSpec, TENANT_ID_RE, TENANT_PAGES } from './page-list.ts';
import type { Asset } from './assets.ts';
import type { DashboardContext } from './context.ts';
import { assertCsrf, assertSameOrigin, noStore, sessionCookie, sessionSetCookie, UI_PREFIX } from './security.ts';
import type { Session } from './sessions.ts';
import { registerSignIn } from './signin.ts';
import { SignInThrottle } from './throttle.ts';

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
  /**
   * Where a person lands: the all-customers overview for MSP roles (whoever may read it), else the
   * customers list when they see several, their customer's overview when one.
   */
  const userHome = (grants: Grants): string => {
    const tenants = Object.keys(grants).filter((t) => t !== INSTALL_TENANT);
    if (Object.values(grants).some((roles) => roles.some((r) => (ROLES[r].install as readonly string[]).includes('overview.read'))))
      return `${UI_PREFIX}/overview`;
    return (grants[INSTALL_TENANT] ?? []).length > 0 || tenants.length !== 1 ? `${UI_PREFIX}/customers` : `${UI_PREFIX}/t/${tenants[0]}/overview`;
  };
  const home = async (s: Session): Promise<string> =>
    s.user?.mfaPending
      ? `${UI_PREFIX}/account`
      : s.principal.kind === 'admin'
        ? `${UI_PREFIX}/customers`
        : s.principal.kind === 'token'
          ? `${UI_PREFIX}/t/${s.principal.tenant}/overview`
          : userHome(await (await ctx.people()).grants(s.principal.userId));
  /** Sends the shell when the session may see this page, the 404 page otherwise, the sign-in page without a session. */
  const page = async (req: FastifyRequest, reply: FastifyReply, check: (s: Session) => Promise<boolean> | boolean): Promise<FastifyReply> => {
    const s = await ctx.session(req);
    if (!s) return reply.redirect(loginFor(req.url), 303);
    // A person who must set up MFA first reaches only that, on their account page.
    if (s.user?.mfaPending && !req.url.startsWith(`${UI_PREFIX}/account`)) return reply.redirect(`${UI_PREFIX}/account`, 303);
    let allowed: boolean;
    try {
      allowed = await check(s);
    } catch (err) {
      if (!isStkError(err, 'STK_ERR_AUTH_REQUIRED')) throw err;
      // The credential was revoked since sign-in: the session ends and sign-in is the next page.
      await ctx.sessions.destroy(sessionCookie(req));
      reply.header('set-cookie', sessionSetCookie(req, null));
      return reply.redirect(loginFor(req.url), 303);
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
    if (!s) return html(reply, login);
    return reply.redirect(returnPath((req.query as { next?: unknown }).next) ?? (await home(s)), 303);
  });
  // Accepting an invitation needs no session (the invitation is the credential); its token stays in
  // the address's fragment, which the browser never sends here.
  ui.get('/invite', async (_req, reply) => html(reply, login));
  // Page addresses are checked here rather than by a route schema: a schema failure would answer
  // the API's JSON 400, and a person who mistypes an address should get the dashboard's page.
  // Install pages (customers, people, the all-customers overview…): for sessions that see several
  // customers, holding one of the page's permissions (install-wide, or on any customer they see).
  for (const spec of PAGE_SPECS.filter((x) => x.scope === 'install')) {
    const installPage = (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
      const { id } = req.params as { id?: string };
      return page(req, reply, async (s) => {
        if (s.principal.kind === 'token' || (spec.person && s.principal.kind !== 'user')) return false;
        if (id !== undefined && !(spec.name === 'customers' ? TENANT_ID_RE : ITEM_ID_RE).test(id)) return false;
        if (!spec.permissions) return true;
        const a = await accessOf(ctx, s);
        const held = new Set([...a.install, ...a.everywhere, ...Object.values(a.tenants).flat()]);
        return pagePermitted(spec, (x) => held.has(x));
      });
    };
    ui.get(`/${spec.name}`, installPage);
    if (spec.detail) ui.get(`/${spec.name}/:id`, installPage);
  }
  const tenantPage = (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const { tenant, page: name, id } = req.params as { tenant: string; page?: string; id?: string };
    return page(req, reply, async (s) => {
      if (!TENANT_ID_RE.test(tenant)) return false;
      const spec = pageSpec('tenant', name ?? 'overview');
      if (!spec || (id !== undefined && (!spec.detail || !(spec.detailId ?? ITEM_ID_RE).test(id)))) return false;
      const view = await ctx.tenantView(s, tenant);
      if (view === null || !pageAllowed(spec, view.products)) return false;
      if (!spec.permissions) return true;
      const a = await accessOf(ctx, s);
      return pagePermitted(spec, (x) => a.install.includes(x) || a.everywhere.includes(x) || (a.tenants[tenant] ?? []).includes(x));
    });
  };
  ui.get('/t/:tenant', tenantPage);
  ui.get('/t/:tenant/:page', tenantPage);
  ui.get('/t/:tenant/:page/:id', tenantPage);

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
      // What the session may do, for showing only the buttons it can use (the API decides anyway).
      access: await accessOf(ctx, s),
      csrf: s.csrf,
      expiresAt: s.expiresAt,
      pages: TENANT_PAGES,
      products: PRODUCTS,
      areaProducts: AREA_PRODUCTS,
      actions: ACTIONS,
      actionArgs: ACTION_ARGS,
      // What the enroll command shown with a new secret needs; only an admin creates customers.
      ...(p.kind === 'admin'
        ? {
            enroll: enrollInfo(ctx),
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
      return reply.status(201).send({ home: returnPath((req.query as { next?: unknown } | undefined)?.next) ?? (await home(session)), csrf: session.csrf });
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

  // The install's CA certificate, which agents check the ingress with (public, but only admins
  // enroll agents, so only their sessions get the download).
  ui.get('/ca.crt', async (req, reply) => {
    const s = await ctx.requireSession(req);
    if (s.principal.kind !== 'admin') return html(reply, missing, 404);
    let pem: string;
    try {
      pem = await readFile(join(dataPaths(ctx.rt.config.dataDir).pki, 'ca.crt'), 'utf8');
    } catch {
      return html(reply, missing, 404);
    }
    noStore(reply);
    return reply.type('application/x-pem-file').header('content-disposition', 'attachment; filename="stockade-ca.crt"').send(pem);
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

/**
 * The permissions of a session as the page needs them: install-wide ones, tenant ones that hold on
 * every customer it sees, and those of particular customers. The same table (`permissions.ts`)
 * and the same rules (`access.ts`) as the API's guard.
 */
async function accessOf(ctx: DashboardContext, s: Session): Promise<{ install: string[]; everywhere: string[]; tenants: Record<string, string[]> }> {
  const p = s.principal;
  if (p.kind === 'admin') return { install: [...installPermissions(p)], everywhere: [...TENANT_PERMISSIONS], tenants: {} };
  if (p.kind === 'token') return { install: [], everywhere: [], tenants: { [p.tenant]: [...permissionsOn(p, p.tenant)] } };
  const grants = await (await ctx.people()).grants(p.userId);
  const withGrants = { ...p, grants };
  const tenants: Record<string, string[]> = {};
  for (const t of Object.keys(grants)) if (t !== INSTALL_TENANT) tenants[t] = [...permissionsOn(withGrants, t)];
  const everywhere = new Set<string>();
  for (const r of grants[INSTALL_TENANT] ?? []) for (const x of ROLES[r].tenant) everywhere.add(x);
  return { install: [...installPermissions(withGrants)], everywhere: [...everywhere], tenants };
}

/** Where sign-in sends a browser that asked for `url` without a session: back to it afterwards. */
function loginFor(url: string): string {
  const back = returnPath(url);
  return back ? `${UI_PREFIX}/login?next=${encodeURIComponent(back)}` : `${UI_PREFIX}/login`;
}

/**
 * A dashboard address to return to after sign-in, or null. Only a path of this dashboard: never
 * another origin (`//host`, `/\\host`), never the sign-in page itself.
 */
export function returnPath(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 2000) return null;
  if (!/^\/ui\/[A-Za-z0-9_-]/.test(value) || /[\\\s]/.test(value) || value.startsWith(`${UI_PREFIX}/login`)) return null;
  return value;
}

/**
 * What the enroll command shown to an admin needs: the ingress address agents reach (the
 * `--public-ingress-url` setting; without it, the listening address, flagged when agents elsewhere
 * cannot reach it) and where the CA certificate is downloaded from.
 */
function enrollInfo(ctx: DashboardContext) {
  const c = ctx.rt.config;
  const listening = `https://${c.ingressHost.includes(':') ? `[${c.ingressHost}]` : c.ingressHost}:${c.ingressPort}`;
  const loopback = /^(127\.|localhost$|::1$|0\.0\.0\.0$|::$)/.test(c.ingressHost);
  return {
    ingressUrl: c.publicIngressUrl ?? listening,
    configured: c.publicIngressUrl !== undefined,
    reachable: c.publicIngressUrl !== undefined || !loopback,
    caUrl: `${UI_PREFIX}/ca.crt`,
  };
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TenantDoc } from '../../projections/tenants/projection.ts';
import type { Decider } from '../domain/decider.ts';
import type { Actor } from '../domain/events.ts';
import { type Executed, execute, type Known } from '../domain/execute.ts';
import { AREA_PRODUCTS } from '../domain/products.ts';
import { StkError } from '../errors.ts';
import type { LedgerStatus } from '../ledger/status.ts';
import type { EventLog } from '../log/mod.ts';
import { MAX_WAIT_MS, projectionBehind, type Projector } from '../projector/projector.ts';
import type { AdminStore, ReadStore, TenantStore } from '../store/store.ts';
import { type TelemetryReadSide, type TenantTelemetry, tenantTelemetry } from '../telemetry/read-side.ts';
import { type Access, actorOf, authenticate, checkRole, checkTenantAccess, credentialOf, type Principal } from './auth.ts';
import { type ConsistencyTokens, TOKEN_PATTERN } from './consistency.ts';

/** How long a read may wait for its `waitFor` token by default. */
export const READ_WAIT_MS = 5_000;
/** How long a command waits for its own change to be readable before answering anyway. */
export const WRITE_WAIT_MS = 2_000;

export const TENANT_PREFIX = '/tenants/:tenant';

/**
 * What the operator API's routes are built on, decorated once on the API's fastify scope: the
 * read models, the write path, read-your-writes tokens, and the ledger's reader.
 */
export interface ApiServices {
  store: ReadStore;
  projector: Projector;
  log: EventLog;
  tokens: ConsistencyTokens;
  adminKey: string;
  ledgerStatus(tenant: string): Promise<LedgerStatus>;
  /** Telemetry read models, proofs and evidence bytes. */
  telemetry: TelemetryReadSide;
}

declare module 'fastify' {
  interface FastifyInstance {
    api: ApiServices;
  }
  interface FastifyRequest {
    tenantDoc?: TenantDoc;
  }
}

/** Request parts every handler sees. */
interface BaseContext<B, Q, P> {
  req: FastifyRequest;
  reply: FastifyReply;
  principal: Principal;
  actor: Actor;
  body: B;
  query: Q;
  params: P;
}

/**
 * What a handler under `/tenants/:tenant` gets: its tenant, already past the wall, and handles
 * bound to that tenant — reads, writes, tokens, the ledger — none of which can name another.
 */
export interface TenantContext<B = unknown, Q = unknown, P = unknown> extends BaseContext<B, Q, P> {
  tenant: string;
  tenantDoc: TenantDoc;
  store: TenantStore;
  /** Runs a command on one of this tenant's aggregates through the write pipeline, as the caller. */
  execute<S, C>(decider: Decider<S, C>, id: string, command: C, o?: { known?: Known<S> }): Promise<Executed>;
  /** After a command: waits briefly until its change is readable here; returns the token to read it with. */
  settle(position: number): Promise<string>;
  /** The token for what this tenant's read models show now. */
  readToken(): string;
  ledgerStatus(): Promise<LedgerStatus>;
  /** This tenant's telemetry read models, item proofs and evidence bytes. */
  telemetry: TenantTelemetry;
}

/** What an install-wide (admin-only) handler gets: the admin handle and writes naming their tenant. */
export interface InstallContext<B = unknown, Q = unknown, P = unknown> extends BaseContext<B, Q, P> {
  admin: AdminStore;
  projector: Projector;
  execute<S, C>(tenant: string, decider: Decider<S, C>, id: string, command: C, o?: { known?: Known<S> }): Promise<Executed>;
  settle(tenant: string, position: number): Promise<string>;
}

interface RouteBase {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path under /api/v1. */
  url: string;
  /** Area of the API (`alerts`, `findings`, …); areas of a product refuse while it is off. */
  area: string;
  summary: string;
  params?: Record<string, object>;
  query?: Record<string, object>;
  body?: { properties: Record<string, object>; required?: string[]; maxBytes?: number };
  /** @defaultValue 200 */
  status?: number;
}

/** A route under `/tenants/:tenant`. */
export interface TenantRouteDef extends RouteBase {
  scope: 'tenant';
  access: Access;
  // biome-ignore lint/suspicious/noExplicitAny: each route narrows its own body, query and params
  handler: (c: TenantContext<any, any, any>) => Promise<unknown>;
}

/** An install-wide route: the admin key only. */
export interface InstallRouteDef extends RouteBase {
  scope: 'install';
  access: 'admin';
  // biome-ignore lint/suspicious/noExplicitAny: each route narrows its own body, query and params
  handler: (c: InstallContext<any, any, any>) => Promise<unknown>;
}

export type RouteDef = TenantRouteDef | InstallRouteDef;

/** Declares a tenant route; the URL is under `/tenants/:tenant`. */
export function tenantRoute(d: Omit<TenantRouteDef, 'scope'>): TenantRouteDef {
  if (!d.url.startsWith(TENANT_PREFIX)) throw new StkError('STK_ERR_INTERNAL', `tenant route ${d.url} is not under ${TENANT_PREFIX}`);
  return { ...d, scope: 'tenant' };
}

/** Declares an install-wide, admin-only route. */
export function installRoute(d: Omit<InstallRouteDef, 'scope' | 'access'>): InstallRouteDef {
  if (d.url.startsWith(TENANT_PREFIX)) throw new StkError('STK_ERR_INTERNAL', `install route ${d.url} is under ${TENANT_PREFIX}`);
  return { ...d, scope: 'install', access: 'admin' };
}

/**
 * The guard every operator route runs in `onRequest`, before the body is parsed: authenticate;
 * for tenant routes the tenant wall (another tenant → 404), the bounded read-your-writes wait,
 * the tenant's existence, the role, the product.
 */
function guard(api: ApiServices, d: RouteDef) {
  return async (req: FastifyRequest): Promise<void> => {
    const p = await authenticate(credentialOf(req), api.store.admin, api.adminKey);
    req.principal = p;
    if (d.scope === 'install') {
      // Install-wide routes do not exist for a tenant token, exactly like a path that is not there.
      if (p.kind !== 'admin') throw new StkError('STK_ERR_NOT_FOUND', 'not found');
      return;
    }
    const tenant = checkTenantAccess(p, (req.params as Record<string, unknown>).tenant);
    const query = req.query as Record<string, unknown> | undefined;
    if (typeof query?.waitFor === 'string') await waitForToken(api, tenant, query.waitFor, query.waitMs);
    const doc = await api.store.forTenant(tenant).get<TenantDoc>('tenant', tenant);
    if (!doc) throw new StkError('STK_ERR_NOT_FOUND', 'not found');
    checkRole(p, d.access);
    const products = AREA_PRODUCTS[d.area];
    if (products && !products.some((x) => doc.products.includes(x))) {
      throw new StkError('STK_ERR_PRODUCT_DISABLED', `${d.area} needs one of the products ${products.join(', ')}, which are off for this tenant`, {
        product: products[0],
      });
    }
    req.tenantDoc = doc;
  };
}

async function waitForToken(api: ApiServices, tenant: string, token: string, waitMs: unknown): Promise<void> {
  const position = api.tokens.read(tenant, token);
  if (position === null) throw new StkError('STK_ERR_VALIDATION', 'waitFor is not a read token of this tenant', { field: 'waitFor' });
  const bound = typeof waitMs === 'string' && /^\d{1,5}$/.test(waitMs) ? Math.min(Number(waitMs), MAX_WAIT_MS) : READ_WAIT_MS;
  if (!(await api.projector.waitFor(position, bound))) throw projectionBehind();
}

const BODY_DEFAULT_MAX = 16 * 1024;

/** Registers route definitions on an app scoped under /api/v1 that carries the `api` decoration. */
export function registerRoutes(app: FastifyInstance, defs: RouteDef[]): void {
  const api = app.api;
  for (const d of defs) {
    const tenantScoped = d.scope === 'tenant';
    const schema: Record<string, unknown> = { summary: d.summary, tags: [d.area], security: [{ bearer: [] }] };
    if (d.params || tenantScoped) {
      const props = { ...(d.params ?? {}) };
      schema.params = { type: 'object', properties: props, required: Object.keys(props), additionalProperties: false };
    }
    schema.querystring = {
      type: 'object',
      properties: { ...(d.query ?? {}), ...(tenantScoped && d.method === 'GET' ? { waitFor: WAIT_FOR, waitMs: WAIT_MS } : {}) },
      additionalProperties: false,
    };
    if (d.body) schema.body = { type: 'object', properties: d.body.properties, required: d.body.required ?? [], additionalProperties: false };
    app.route({
      method: d.method,
      url: d.url,
      schema,
      ...(d.method !== 'GET' ? { bodyLimit: d.body?.maxBytes ?? BODY_DEFAULT_MAX } : {}),
      onRequest: guard(api, d),
      handler: async (req, reply) => {
        // A change without parameters takes no body; one sent anyway must be empty (unknown fields
        // are refused everywhere). A schema cannot say this: an absent body would fail `type: object`.
        if (!d.body && req.body !== undefined && req.body !== null && (typeof req.body !== 'object' || Object.keys(req.body).length > 0)) {
          throw new StkError('STK_ERR_VALIDATION', 'this route takes no body', { context: 'body' });
        }
        const principal = req.principal!;
        const base = { req, reply, principal, actor: actorOf(principal), body: req.body ?? {}, query: req.query ?? {}, params: req.params ?? {} };
        const out = d.scope === 'tenant' ? await d.handler(tenantContext(api, base, req.tenantDoc!)) : await d.handler(installContext(api, base));
        return reply.status(d.status ?? 200).send(out);
      },
    });
  }
}

function tenantContext(api: ApiServices, base: BaseContext<unknown, unknown, unknown>, tenantDoc: TenantDoc): TenantContext {
  const tenant = tenantDoc.id;
  return {
    ...base,
    tenant,
    tenantDoc,
    store: api.store.forTenant(tenant),
    execute: (decider, id, command, o = {}) => execute(api.log, { tenant, id }, decider, command, { actor: base.actor, ...o }),
    settle: (position) => settle(api, tenant, position),
    readToken: () => api.tokens.issue(tenant, api.projector.position),
    ledgerStatus: () => api.ledgerStatus(tenant),
    telemetry: tenantTelemetry(api.telemetry, tenant),
  };
}

function installContext(api: ApiServices, base: BaseContext<unknown, unknown, unknown>): InstallContext {
  return {
    ...base,
    admin: api.store.admin,
    projector: api.projector,
    execute: (tenant, decider, id, command, o = {}) => execute(api.log, { tenant, id }, decider, command, { actor: base.actor, ...o }),
    settle: (tenant, position) => settle(api, tenant, position),
  };
}

/** Waits briefly until `position` is readable here, so the caller sees its change at once; its token. */
async function settle(api: ApiServices, tenant: string, position: number): Promise<string> {
  if (position > 0) await api.projector.waitFor(position, WRITE_WAIT_MS);
  return api.tokens.issue(tenant, position);
}

/** A read token, as a query string. */
export const WAIT_FOR = {
  type: 'string',
  pattern: TOKEN_PATTERN,
  description: 'A `consistencyToken` from an earlier answer: wait (bounded) until the read models show that change.',
};

/** The bound of a `waitFor` wait, in milliseconds (at most 10,000). */
export const WAIT_MS = { type: 'string', pattern: '^[0-9]{1,5}$', description: 'Longest wait for `waitFor`, in ms (default 5000, at most 10000).' };

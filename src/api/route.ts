import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StkError } from '../errors.ts';
import { AREA_PRODUCTS } from '../domain/products.ts';
import type { Runtime } from '../runtime.ts';
import { readModels, type ReadModels } from '../projector/role.ts';
import { projectionBehind } from '../projector/projector.ts';
import type { TenantDoc } from '../../projections/tenants/projection.ts';
import { actorOf, authenticate, checkRole, checkTenantAccess, type Access, type Principal } from './auth.ts';

/** How long a read may wait for its `waitFor` position by default. */
export const READ_WAIT_MS = 5_000;
/** How long a command waits for its own change to be readable before answering anyway. */
export const WRITE_WAIT_MS = 2_000;

declare module 'fastify' {
  interface FastifyRequest {
    tenantDoc?: TenantDoc;
  }
}

/** What a handler gets: the checked tenant, the caller, the read models and the runtime. */
export interface RouteContext<B = any, Q = any, P = any> {
  req: FastifyRequest;
  reply: FastifyReply;
  rt: Runtime;
  rm: ReadModels;
  principal: Principal;
  actor: { kind: 'operator'; id: string };
  /** Set on routes under /tenants/:tenant, after the tenant wall. */
  tenant: string;
  tenantDoc: TenantDoc;
  body: B;
  query: Q;
  params: P;
}

/** One operator API route: its access level, product area, schemas and handler. */
export interface RouteDef {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path under /api/v1. */
  url: string;
  access: Access;
  /** Area of the API (`alerts`, `findings`, …); areas of a product refuse while it is off. */
  area: string;
  summary: string;
  params?: Record<string, object>;
  query?: Record<string, object>;
  body?: { properties: Record<string, object>; required?: string[]; maxBytes?: number };
  /** @defaultValue 200 */
  status?: number;
  handler: (c: RouteContext) => Promise<unknown>;
}

export const TENANT_PREFIX = '/tenants/:tenant';

/**
 * The guard every operator route runs in `onRequest`, before the body is parsed: authenticate;
 * for tenant routes the tenant wall (another tenant → 404), the bounded read-your-writes wait,
 * the tenant's existence, the role, the product. Exported so routes of other areas (the ledger)
 * sit behind the same wall.
 */
export function guard(rt: Runtime, access: Access, area: string, tenantScoped: boolean) {
  return async (req: FastifyRequest): Promise<void> => {
    const rm = await readModels(rt);
    const p = await authenticate(req, rm.store, rt.adminKey);
    req.principal = p;
    if (!tenantScoped) {
      // Admin-wide routes do not exist for a tenant token, exactly like a path that is not there.
      if (p.kind !== 'admin') throw new StkError('STK_ERR_NOT_FOUND', 'not found');
      return;
    }
    const tenant = checkTenantAccess(p, (req.params as Record<string, unknown>).tenant);
    const waitFor = (req.query as Record<string, unknown> | undefined)?.waitFor;
    if (typeof waitFor === 'string' && /^\d{1,15}$/.test(waitFor)) {
      const position = Number(waitFor);
      const waitMs = (req.query as Record<string, unknown>).waitMs;
      const bound = typeof waitMs === 'string' && /^\d{1,5}$/.test(waitMs) ? Number(waitMs) : READ_WAIT_MS;
      if (!(await rm.projector.waitFor(position, bound))) throw projectionBehind(position, rm.projector.position);
    }
    const doc = await rm.store.get<TenantDoc>(tenant, 'tenant', tenant);
    if (!doc) throw new StkError('STK_ERR_NOT_FOUND', 'not found');
    checkRole(p, access);
    const products = AREA_PRODUCTS[area];
    if (products && !products.some((x) => doc.products.includes(x))) {
      throw new StkError('STK_ERR_PRODUCT_DISABLED', `${area} needs one of the products ${products.join(', ')}, which are off for this tenant`, {
        product: products[0],
      });
    }
    req.tenantDoc = doc;
  };
}

const BODY_DEFAULT_MAX = 16 * 1024;

/** Registers route definitions on an app scoped under /api/v1. */
export function registerRoutes(app: FastifyInstance, rt: Runtime, defs: RouteDef[]): void {
  for (const d of defs) {
    const tenantScoped = d.url.startsWith(TENANT_PREFIX);
    const schema: Record<string, unknown> = {
      summary: d.summary,
      tags: [d.area],
      security: [{ bearer: [] }],
    };
    if (d.params || tenantScoped) {
      const props = { ...(d.params ?? {}) };
      schema.params = { type: 'object', properties: props, required: Object.keys(props), additionalProperties: false };
    }
    schema.querystring = {
      type: 'object',
      properties: { ...(d.query ?? {}), ...(tenantScoped && d.method === 'GET' ? { waitFor: POSITION, waitMs: WAIT_MS } : {}) },
      additionalProperties: false,
    };
    if (d.body) schema.body = { type: 'object', properties: d.body.properties, required: d.body.required ?? [], additionalProperties: false };
    app.route({
      method: d.method,
      url: d.url,
      schema,
      ...(d.method !== 'GET' ? { bodyLimit: d.body?.maxBytes ?? BODY_DEFAULT_MAX } : {}),
      onRequest: guard(rt, d.access, d.area, tenantScoped),
      handler: async (req, reply) => {
        // A change without parameters takes no body; one sent anyway must be empty (unknown fields
        // are refused everywhere). A schema cannot say this: an absent body would fail `type: object`.
        if (!d.body && req.body !== undefined && req.body !== null && (typeof req.body !== 'object' || Object.keys(req.body).length > 0)) {
          throw new StkError('STK_ERR_VALIDATION', 'this route takes no body', { context: 'body' });
        }
        const rm = await readModels(rt);
        const c: RouteContext = {
          req,
          reply,
          rt,
          rm,
          principal: req.principal!,
          actor: actorOf(req.principal!),
          tenant: req.tenantDoc?.id ?? '',
          tenantDoc: req.tenantDoc!,
          body: req.body ?? {},
          query: req.query ?? {},
          params: req.params ?? {},
        };
        const out = await d.handler(c);
        return reply.status(d.status ?? 200).send(out);
      },
    });
  }
}

/** A stream position, as a query string (querystrings are not coerced). */
export const POSITION = { type: 'string', pattern: '^[0-9]{1,15}$', description: 'Wait (bounded) until the read models reflect this event position.' };

/** The bound of a `waitFor` wait, in milliseconds (at most 10,000). */
export const WAIT_MS = { type: 'string', pattern: '^[0-9]{1,5}$', description: 'Longest wait for `waitFor`, in ms (default 5000, at most 10000).' };

/** After a command: wait briefly until its change is readable here, so the caller sees it at once. */
export async function settled(c: RouteContext, position: number): Promise<number> {
  if (position > 0) await c.rm.projector.waitFor(position, WRITE_WAIT_MS);
  return position;
}

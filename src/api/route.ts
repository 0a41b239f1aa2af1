import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TenantDoc } from '../../projections/tenants/projection.ts';
import type { UserDoc } from '../../projections/users/projection.ts';
import type { Decider } from '../domain/decider.ts';
import type { Actor } from '../domain/events.ts';
import { type Executed, type ExecuteOptions, execute } from '../domain/execute.ts';
import { AREA_PRODUCTS } from '../domain/products.ts';
import { StkError } from '../errors.ts';
import type { LifecycleConfig } from '../config/mod.ts';
import type { LedgerStatus } from '../ledger/status.ts';
import type { ConsistencyAnswer, InclusionProof, LedgerTrees } from '../ledger/trees.ts';
import type { Privacy } from '../privacy/mod.ts';
import { type EventLog, tenantFilter } from '../log/mod.ts';
import { MAX_WAIT_MS } from '../projector/feed.ts';
import { projectionBehind, type Projector } from '../projector/projector.ts';
import type { AdminStore, ReadStore, TenantStore } from '../store/store.ts';
import { type TelemetryReadSide, type TenantTelemetry, tenantTelemetry } from '../telemetry/read-side.ts';
import { type ScanReadSide, type TenantScans, tenantScans } from '../scan/runs/read-side.ts';
import { type TenantPackages, tenantPackages } from '../patch/packages.ts';
import { isValidId } from '../ids.ts';
import type { People } from '../people/people.ts';
import { INSTALL_TENANT, isReservedTenant } from '../people/install.ts';
import { canSee, installPermissions, permissionsOn, refusedWhileSuspended } from './access.ts';
import { actorOf, authenticate, credentialOf, type Principal } from './auth.ts';
import { type ConsistencyTokens, TOKEN_PATTERN } from './consistency.ts';
import { isInternalCall } from './internal.ts';
import type { Permission } from './permissions.ts';

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
  /** The tenants' Merkle trees, rebuilt from LEDGER: inclusion and consistency proofs. */
  ledgerTrees: LedgerTrees;
  people: People;
  /** Telemetry read models, proofs and evidence bytes. */
  telemetry: TelemetryReadSide;
  /** Field encryption of this process (erasure destroys its keys); null when it is off. */
  privacy?: Privacy | null;
  /** Retention defaults and agent command expiries (src/config/settings.ts). */
  lifecycle?: LifecycleConfig;
  /** Attack-surface read models fed by SCANS, and scan item proofs. */
  scans: ScanReadSide;
}

declare module 'fastify' {
  interface FastifyInstance {
    api: ApiServices;
  }
  interface FastifyRequest {
    tenantDoc?: TenantDoc;
  }
}

/** What a handler may add to a write: see `ExecuteOptions`. */
export type ContextExecuteOptions<S> = Pick<ExecuteOptions<S>, 'known' | 'idempotent' | 'eventIds' | 'correlationId' | 'causationId'>;

/** Request parts every handler sees. */
interface BaseContext<B, Q, P> {
  req: FastifyRequest;
  reply: FastifyReply;
  principal: Principal;
  actor: Actor;
  body: B;
  query: Q;
  params: P;
  /** Answers with another status than the route's (a four-eyes request answers 202). */
  setStatus(code: number): void;
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
  execute<S, C>(decider: Decider<S, C>, id: string, command: C, o?: ContextExecuteOptions<S>): Promise<Executed>;
  /** After a command: waits briefly until its change is readable here; returns the token to read it with. */
  settle(position: number): Promise<string>;
  /**
   * Waits briefly until this tenant's read models hold everything the log held for it when called
   * (one direct get); false when they did not get there in time. A miss is then final: an agent
   * enrolled a moment ago through another process is found, not answered 404.
   */
  catchUp(): Promise<boolean>;
  /** The token for what this tenant's read models show now. */
  readToken(): string;
  ledgerStatus(): Promise<LedgerStatus>;
  /** Inclusion proof of the record holding one of this tenant's events. */
  ledgerProof(eventId: string, size?: number): Promise<InclusionProof>;
  /** Consistency proof between two sizes of this tenant's tree. */
  ledgerConsistency(from: number, to?: number): Promise<ConsistencyAnswer>;
  /** Users of the install by id (name, e-mail, status; nothing else of the install is reachable here). */
  directory: { user(userId: string): Promise<UserDoc | null>; users(userIds: string[]): Promise<Array<UserDoc | null>> };
  /** This process's people services (sessions, refusals, settings). */
  people: People;
  /** This tenant's telemetry read models, item proofs and evidence bytes. */
  telemetry: TenantTelemetry;
  /** This tenant's scan items, assets and item proofs. */
  scans: TenantScans;
  /** This tenant's hosts' installed-package lists (PACKAGES stream). */
  packages: TenantPackages;
}

/**
 * What an install-wide handler gets: the admin handle and writes naming their tenant. Handlers that
 * act on customers (overview, fan-out) go through `canSee`/`forTenant`, which hold the same wall as
 * the tenant routes: a customer the caller cannot see is not there.
 */
export interface InstallContext<B = unknown, Q = unknown, P = unknown> extends BaseContext<B, Q, P> {
  admin: AdminStore;
  projector: Projector;
  people: People;
  api: ApiServices;
  execute<S, C>(tenant: string, decider: Decider<S, C>, id: string, command: C, o?: ContextExecuteOptions<S>): Promise<Executed>;
  settle(tenant: string, position: number): Promise<string>;
  /** The permissions the caller holds on a customer (none when it cannot see it). */
  permissionsOn(tenant: string): ReadonlySet<Permission>;
  /** The customer's tenant-bound store, or STK_ERR_NOT_FOUND when the caller cannot see it. */
  forTenant(tenant: string): TenantStore;
}

/** What a route that takes no credential gets (accepting an invitation). */
export interface PublicContext<B = unknown, Q = unknown, P = unknown> extends Omit<BaseContext<B, Q, P>, 'principal' | 'actor'> {
  api: ApiServices;
  people: People;
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
  /** The route may answer 202 with a four-eyes request instead (the customer's policy gates it). */
  fourEyes?: true;
  /** What the answer carries beyond the stored item, for the API documentation. */
  returns?: string;
}

/** A route under `/tenants/:tenant`. */
export interface TenantRouteDef extends RouteBase {
  scope: 'tenant';
  /** What the caller needs on the customer (the one table: `permissions.ts`). */
  permission: Permission;
  // biome-ignore lint/suspicious/noExplicitAny: each route narrows its own body, query and params
  handler: (c: TenantContext<any, any, any>) => Promise<unknown>;
}

/** An install-wide route: the admin key, or a user whose roles carry its permission. */
export interface InstallRouteDef extends RouteBase {
  scope: 'install';
  permission: Permission;
  // biome-ignore lint/suspicious/noExplicitAny: each route narrows its own body, query and params
  handler: (c: InstallContext<any, any, any>) => Promise<unknown>;
}

/** A route that takes no credential at all; the handler checks whatever secret it is given. */
export interface PublicRouteDef extends RouteBase {
  scope: 'public';
  // biome-ignore lint/suspicious/noExplicitAny: each route narrows its own body, query and params
  handler: (c: PublicContext<any, any, any>) => Promise<unknown>;
}

export type RouteDef = TenantRouteDef | InstallRouteDef | PublicRouteDef;

/** Declares a tenant route; the URL is under `/tenants/:tenant`. */
export function tenantRoute(d: Omit<TenantRouteDef, 'scope'>): TenantRouteDef {
  if (!d.url.startsWith(TENANT_PREFIX)) throw new StkError('STK_ERR_INTERNAL', `tenant route ${d.url} is not under ${TENANT_PREFIX}`);
  return { ...d, scope: 'tenant' };
}

/** Declares an install-wide route; `permission` defaults to `install.operate` (the admin key and MSP owners). */
export function installRoute(d: Omit<InstallRouteDef, 'scope' | 'permission'> & { permission?: Permission }): InstallRouteDef {
  if (d.url.startsWith(TENANT_PREFIX)) throw new StkError('STK_ERR_INTERNAL', `install route ${d.url} is under ${TENANT_PREFIX}`);
  return { ...d, scope: 'install', permission: d.permission ?? 'install.operate' };
}

/** Declares a route without a credential (an invitation is accepted before its user can sign in). */
export function publicRoute(d: Omit<PublicRouteDef, 'scope'>): PublicRouteDef {
  if (d.url.startsWith(TENANT_PREFIX)) throw new StkError('STK_ERR_INTERNAL', `public route ${d.url} is under ${TENANT_PREFIX}`);
  return { ...d, scope: 'public' };
}

/**
 * The guard every operator route runs in `onRequest`, before the body is parsed, and the one
 * place permissions are checked: authenticate (a use of the admin key is put on record first);
 * for install routes the caller's install-wide permission; for tenant routes the tenant wall (a
 * customer the caller cannot see → 404, exactly like one that does not exist), the bounded
 * read-your-writes wait, the tenant's existence, the permission on that customer (403), a
 * suspended customer's own people and tokens (403 but for the reads the install allows), the
 * product. Every refusal is recorded (`Refusals`), never in the customer's event log.
 */
function guard(api: ApiServices, d: RouteDef) {
  const people = api.people;
  return async (req: FastifyRequest): Promise<void> => {
    if (d.scope === 'public') return;
    // A refusal is on record before it is answered (a failure to record only logs).
    const refuse = async (tenants: string[], kind: string, err: StkError, p?: Principal): Promise<StkError> => {
      const actor = p ? actorOf(p) : null;
      await people.refusals.record(tenants, {
        at: new Date().toISOString(),
        kind,
        code: err.code,
        actor: actor?.id ?? 'anonymous',
        via: actor?.via ?? null,
        method: req.method,
        route: `/api/v1${d.url}`,
        ip: req.ip,
      });
      return err;
    };
    await people.refreshSettings();
    let p: Principal;
    try {
      p = await authenticate(credentialOf(req), { admin: api.store.admin, adminKey: api.adminKey, people, internal: isInternalCall(req) });
    } catch (err) {
      if (err instanceof StkError && err.code === 'STK_ERR_AUTH_REQUIRED') throw await refuse([INSTALL_TENANT], 'credential', err);
      throw err;
    }
    req.principal = p;
    if (p.kind === 'admin') {
      await people.breakGlass.used({ method: req.method, route: `/api/v1${d.url}`, ip: req.ip, via: isInternalCall(req) ? 'dashboard' : 'api' });
    }
    if (d.scope === 'install') {
      // Install-wide routes do not exist for a customer's token, exactly like a path that is not there.
      if (p.kind === 'token') throw await refuse([p.tenant], 'not-visible', new StkError('STK_ERR_NOT_FOUND', 'not found'), p);
      if (!installPermissions(p).has(d.permission)) {
        throw await refuse(
          [INSTALL_TENANT],
          'forbidden',
          new StkError('STK_ERR_FORBIDDEN', `this needs the permission ${d.permission}`, { context: d.permission }),
          p,
        );
      }
      return;
    }
    const param = (req.params as Record<string, unknown>).tenant;
    if (!isValidId('tenant', param) || !canSee(p, param)) {
      // Recorded under the customer probed (if it exists and is a customer) and under the caller's own records.
      const probed =
        isValidId('tenant', param) && !isReservedTenant(param) && (await api.store.forTenant(param).get<TenantDoc>('tenant', param)) ? [param] : [];
      throw await refuse([...probed, p.kind === 'token' ? p.tenant : INSTALL_TENANT], 'not-visible', new StkError('STK_ERR_NOT_FOUND', 'not found'), p);
    }
    const tenant = param;
    const query = req.query as Record<string, unknown> | undefined;
    if (typeof query?.waitFor === 'string') await waitForToken(api, tenant, query.waitFor, query.waitMs);
    const doc = await api.store.forTenant(tenant).get<TenantDoc>('tenant', tenant);
    if (!doc) throw new StkError('STK_ERR_NOT_FOUND', 'not found');
    if (!permissionsOn(p, tenant).has(d.permission)) {
      const mfa = p.kind === 'user' && p.via.kind === 'session' && p.via.mfaPending;
      const err = mfa
        ? new StkError('STK_ERR_MFA_REQUIRED', 'set up MFA first: the install requires it for you')
        : new StkError('STK_ERR_FORBIDDEN', `this needs the permission ${d.permission}`, { context: d.permission });
      throw await refuse([tenant], 'forbidden', err, p);
    }
    if (doc.suspended && refusedWhileSuspended(p, tenant)) {
      const settings = await people.refreshSettings();
      if (!settings.suspendedReads.includes(d.permission)) {
        throw await refuse([tenant], 'suspended', new StkError('STK_ERR_TENANT_SUSPENDED', 'the customer is suspended; only some reads are allowed'), p);
      }
    }
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

const ERROR_REF = { $ref: '#/components/schemas/Error' };

/** What a route answers, as the OpenAPI document says it: its success, the four-eyes 202, the errors every route of its kind can give. */
function documentedResponses(d: RouteDef): Record<string, object> {
  const ok = d.status ?? 200;
  const done = ok === 201 ? 'Created' : 'OK';
  const out: Record<string, object> = { [ok]: { description: d.returns ? `${done}. ${d.returns}` : done, type: 'object' } };
  if (d.fourEyes) {
    out[202] = {
      description: "Sent for approval: the customer's four-eyes policy gates this action; it happens once a second person approves the request",
      type: 'object',
      properties: { approvalId: { type: 'string' }, status: { type: 'string', enum: ['pending'] }, gate: { type: 'string' }, expiresAt: { type: 'string' } },
    };
  }
  const error = (description: string) => ({ description, ...ERROR_REF });
  out[400] = error('Refused input (STK_ERR_VALIDATION and the codes of docs/errors.md); nothing was written');
  if (d.scope !== 'public') {
    out[401] = error('No or unknown credential (STK_ERR_AUTH_REQUIRED)');
    out[403] = error('The credential lacks the permission, the product is off, or the customer is suspended');
  }
  if (d.scope === 'tenant' || d.params) out[404] = error('No such item — or one of another customer, answered exactly alike (STK_ERR_NOT_FOUND)');
  if (d.method !== 'GET') out[409] = error('The change conflicts with the current state (a transition not allowed, a concurrent change)');
  if (d.body) out[413] = error('The body is larger than this route takes (STK_ERR_BODY_TOO_LARGE)');
  out[429] = error('Too many requests (STK_ERR_RATE_LIMITED)');
  out[503] = error('The event log or the read models are not reachable or behind (STK_ERR_UNAVAILABLE, STK_ERR_PROJECTION_BEHIND)');
  return out;
}

/** Registers route definitions on an app scoped under /api/v1 that carries the `api` decoration. */
export function registerRoutes(app: FastifyInstance, defs: RouteDef[]): void {
  const api = app.api;
  for (const d of defs) {
    const tenantScoped = d.scope === 'tenant';
    const schema: Record<string, unknown> = {
      summary: d.summary,
      tags: [d.area],
      ...(d.scope === 'public' ? {} : { security: [{ bearer: [] }] }),
      ...(d.scope === 'public' ? {} : { description: `Permission: \`${d.permission}\`.` }),
    };
    if (d.params || tenantScoped) {
      const props = { ...(d.params ?? {}) };
      schema.params = { type: 'object', properties: props, required: Object.keys(props), additionalProperties: false };
    }
    schema.querystring = {
      type: 'object',
      properties: { ...(d.query ?? {}), ...(tenantScoped && d.method === 'GET' ? { waitFor: WAIT_FOR, waitMs: WAIT_MS } : {}) },
      additionalProperties: false,
    };
    if (d.body) {
      // OpenAPI 3.0 allows no empty `required` list.
      const required = d.body.required?.length ? { required: d.body.required } : {};
      schema.body = { type: 'object', properties: d.body.properties, ...required, additionalProperties: false };
    }
    const responses = documentedResponses(d);
    app.route({
      method: d.method,
      url: d.url,
      schema,
      // The answers a route gives, for the OpenAPI document only: a response schema here would also
      // filter what fastify sends.
      config: { swaggerTransform: ({ schema: s, url }: { schema: object; url: string }) => ({ schema: { ...s, response: responses }, url }) },
      ...(d.method !== 'GET' ? { bodyLimit: d.body?.maxBytes ?? BODY_DEFAULT_MAX } : {}),
      onRequest: guard(api, d),
      handler: async (req, reply) => {
        // A change without parameters takes no body; one sent anyway must be empty (unknown fields
        // are refused everywhere). A schema cannot say this: an absent body would fail `type: object`.
        if (!d.body && req.body !== undefined && req.body !== null && (typeof req.body !== 'object' || Object.keys(req.body).length > 0)) {
          throw new StkError('STK_ERR_VALIDATION', 'this route takes no body', { context: 'body' });
        }
        let status = d.status ?? 200;
        const parts = {
          req,
          reply,
          body: req.body ?? {},
          query: req.query ?? {},
          params: req.params ?? {},
          setStatus: (code: number) => {
            status = code;
          },
        };
        if (d.scope === 'public') {
          const out = await d.handler({ ...parts, api, people: api.people });
          return reply.status(status).send(out);
        }
        const principal = req.principal!;
        const base = { ...parts, principal, actor: actorOf(principal) };
        const out = d.scope === 'tenant' ? await d.handler(tenantContext(api, base, req.tenantDoc!)) : await d.handler(installContext(api, base));
        // A handler that streamed its own answer (an export) has sent it already.
        if (reply.sent) return reply;
        return reply.status(status).send(out);
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
    store: api.store.forTenant(tenant).withSealedCursors(api.tokens),
    execute: (decider, id, command, o = {}) => execute(api.log, { tenant, id }, decider, command, { actor: base.actor, ...o }),
    settle: (position) => settle(api, tenant, position),
    catchUp: async () => api.projector.waitFor(await api.log.lastPositionOf(tenantFilter(tenant)), WRITE_WAIT_MS),
    readToken: () => api.tokens.issue(tenant, api.projector.position),
    ledgerStatus: () => api.ledgerStatus(tenant),
    ledgerProof: async (eventId, size) => {
      const r = await api.ledgerTrees.inclusion(tenant, eventId, size === undefined ? {} : { size });
      if (r.kind === 'proof') return r.proof;
      if (r.kind === 'unsealed') throw new StkError('STK_ERR_LEDGER_UNSEALED', 'the event is not sealed yet', { field: 'event' });
      throw new StkError('STK_ERR_NOT_FOUND', 'not found', { field: 'event' });
    },
    ledgerConsistency: (from, to) => api.ledgerTrees.consistency(tenant, from, to),
    directory: {
      user: (userId) => api.store.forTenant(INSTALL_TENANT).get<UserDoc>('users', userId),
      users: (userIds) => api.store.forTenant(INSTALL_TENANT).getMany<UserDoc>('users', userIds),
    },
    people: api.people,
    telemetry: tenantTelemetry(api.telemetry, tenant, api.tokens),
    scans: tenantScans(api.scans, tenant, api.tokens),
    packages: tenantPackages(api.log.streams, tenant),
  };
}

/**
 * A customer's context for an install-wide handler that acts on several customers (fan-out): the
 * same wall as a tenant route — a customer the caller cannot see is "not found".
 */
export function tenantContextOf(c: InstallContext, doc: TenantDoc): TenantContext {
  if (!canSee(c.principal, doc.id)) throw new StkError('STK_ERR_NOT_FOUND', 'not found');
  return tenantContext(c.api, c, doc);
}

function installContext(api: ApiServices, base: BaseContext<unknown, unknown, unknown>): InstallContext {
  return {
    ...base,
    admin: api.store.admin,
    projector: api.projector,
    people: api.people,
    api,
    permissionsOn: (tenant) => (canSee(base.principal, tenant) ? permissionsOn(base.principal, tenant) : new Set()),
    forTenant: (tenant) => {
      if (!canSee(base.principal, tenant)) throw new StkError('STK_ERR_NOT_FOUND', 'not found');
      return api.store.forTenant(tenant).withSealedCursors(api.tokens);
    },
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

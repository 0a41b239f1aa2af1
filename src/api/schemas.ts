import type { Decider } from '../domain/decider.ts';
import { StkError } from '../errors.ts';
import { projectionBehind } from '../projector/projector.ts';
import { TENANT_ID_PATTERN, TOKEN_ID_PATTERN } from '../ids.ts';
import type { Doc } from '../store/model.ts';
import { readPermission, type View } from './lists.ts';
import type { Permission } from './permissions.ts';
import { TENANT_PREFIX, type TenantContext, type TenantRouteDef, tenantRoute } from './route.ts';

export const ID = { type: 'string', pattern: TOKEN_ID_PATTERN };
export const TENANT_ID = { type: 'string', pattern: TENANT_ID_PATTERN };
export const text = (maxLength: number) => ({ type: 'string', minLength: 1, maxLength });
export const oneOf = (values: readonly string[]) => ({ type: 'string', enum: [...values] });
export const TENANT_PARAM = { tenant: TENANT_ID };

export { exportRoute, listRoute, type ListOptions, type View, withHostnames } from './lists.ts';

/**
 * Loads one document of the route's tenant or answers 404 (another tenant's id included). A miss is
 * read again once the read models caught up with the tenant's log, so what was written a moment ago
 * elsewhere (an enrollment through the ingress) is found; when they cannot catch up in time the
 * answer is 503 STK_ERR_PROJECTION_BEHIND, for an id that exists and one that does not alike.
 */
export async function mustGet<T extends Doc>(c: TenantContext, collection: string, id: string): Promise<T> {
  const doc = await c.store.get<T>(collection, id);
  if (doc) return doc;
  // Read models that cannot catch up cannot tell a missing id from a new one (nor another tenant's).
  if (!(await c.catchUp())) throw projectionBehind();
  const now = await c.store.get<T>(collection, id);
  if (!now) throw new StkError('STK_ERR_NOT_FOUND', 'not found', { id });
  return now;
}

/** `GET /tenants/:tenant/<area>/:<param>`. */
export function getRoute(
  area: string,
  collection: string,
  param: string,
  view: View = (d) => d,
  permission: Permission = readPermission(area),
  returns?: string,
): TenantRouteDef {
  return tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/${area}/:${param}`,
    permission,
    area,
    summary: `One of ${area}`,
    ...(returns ? { returns } : {}),
    params: { ...TENANT_PARAM, [param]: ID },
    handler: async (c: TenantContext<unknown, unknown, Record<string, string>>) => view(await mustGet(c, collection, c.params[param]!), c),
  });
}

/**
 * A change to one item of the tenant: `<method> /tenants/:tenant/<area>/:<param>[/<action>]`. The
 * item must be the tenant's (404 otherwise, like a missing one); the body becomes a command for
 * the item's decider; the answer is the item as it reads after the change, with the token to
 * read it with.
 */
export function itemCommand<S, C, B>(o: {
  method: 'POST' | 'PATCH';
  area: string;
  collection: string;
  param: string;
  /** Path after the item, e.g. `ack`; none for a PATCH of the item itself. */
  action?: string;
  summary: string;
  /** What the caller needs on the customer. */
  permission: Permission;
  body?: TenantRouteDef['body'];
  decider: Decider<S, C>;
  command: (body: B, c: TenantContext<B>) => NoInfer<C>;
  view?: View;
  /** What the answer carries beyond the stored item, for the API documentation. */
  returns?: string;
}): TenantRouteDef {
  return tenantRoute({
    method: o.method,
    url: `${TENANT_PREFIX}/${o.area}/:${o.param}${o.action ? `/${o.action}` : ''}`,
    permission: o.permission,
    area: o.area,
    summary: o.summary,
    ...(o.returns ? { returns: o.returns } : {}),
    params: { ...TENANT_PARAM, [o.param]: ID },
    ...(o.body ? { body: o.body } : {}),
    handler: async (c: TenantContext<B, unknown, Record<string, string>>) => {
      const id = c.params[o.param]!;
      await mustGet(c, o.collection, id);
      const r = await c.execute(o.decider, id, o.command(c.body, c));
      const consistencyToken = await c.settle(r.position);
      const doc = (await c.store.get(o.collection, id)) ?? { id };
      return { ...((await (o.view ?? ((d) => d))(doc, c)) as object), consistencyToken };
    },
  });
}

import { StkError } from '../errors.ts';
import { TENANT_ID_PATTERN, TOKEN_ID_PATTERN } from '../ids.ts';
import type { Doc } from '../store/model.ts';
import type { RouteContext, RouteDef } from './route.ts';
import { TENANT_PREFIX } from './route.ts';

export const ID = { type: 'string', pattern: TOKEN_ID_PATTERN };
export const TENANT_ID = { type: 'string', pattern: TENANT_ID_PATTERN };
export const text = (maxLength: number) => ({ type: 'string', minLength: 1, maxLength });
export const oneOf = (values: readonly string[]) => ({ type: 'string', enum: [...values] });
export const TENANT_PARAM = { tenant: TENANT_ID };

const LIST_QUERY = {
  limit: { type: 'string', pattern: '^[0-9]{1,3}$', description: 'Items per page, 1–200 (default 50).' },
  cursor: { type: 'string', maxLength: 200, description: 'The `nextCursor` of the previous page.' },
};

/** `GET /tenants/:tenant/<area>`: newest first, cursor-paginated, filters on indexed fields. */
export function listRoute(
  area: string,
  collection: string,
  filters: Record<string, object>,
  view: (d: any, c: RouteContext) => unknown = (d) => d,
  access: RouteDef['access'] = 'read',
): RouteDef {
  return {
    method: 'GET',
    url: `${TENANT_PREFIX}/${area}`,
    access,
    area,
    summary: `List ${area}, newest first`,
    params: TENANT_PARAM,
    query: { ...LIST_QUERY, ...filters },
    handler: async (c) => {
      const q = c.query as Record<string, string>;
      const filter: Record<string, string> = {};
      for (const f of Object.keys(filters)) if (q[f] !== undefined) filter[f] = q[f]!;
      const limit = q.limit === undefined ? 50 : Number(q.limit);
      if (limit < 1 || limit > 200) throw new StkError('STK_ERR_VALIDATION', 'limit must be 1 to 200', { field: 'limit' });
      const page = await c.rm.store.list(c.tenant, collection, { filter, limit, ...(q.cursor ? { cursor: q.cursor } : {}) });
      return { items: page.items.map((d) => view(d, c)), nextCursor: page.nextCursor, position: c.rm.projector.position };
    },
  };
}

/** Loads one document of the route's tenant or answers 404 (another tenant's id included). */
export async function mustGet<T extends Doc>(c: RouteContext, collection: string, id: string): Promise<T> {
  const doc = await c.rm.store.get<T>(c.tenant, collection, id);
  if (!doc) throw new StkError('STK_ERR_NOT_FOUND', 'not found', { id });
  return doc;
}

/** `GET /tenants/:tenant/<area>/:<param>`. */
export function getRoute(area: string, collection: string, param: string, view: (d: any, c: RouteContext) => unknown | Promise<unknown> = (d) => d): RouteDef {
  return {
    method: 'GET',
    url: `${TENANT_PREFIX}/${area}/:${param}`,
    access: 'read',
    area,
    summary: `One of ${area}`,
    params: { ...TENANT_PARAM, [param]: ID },
    handler: async (c) => view(await mustGet(c, collection, (c.params as Record<string, string>)[param]!), c),
  };
}

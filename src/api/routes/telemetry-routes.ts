import { StkError } from '../../errors.ts';
import type { Doc } from '../../store/model.ts';
import type { PublicTelemetryDoc } from '../../telemetry/read-side.ts';
import type { Permission } from '../permissions.ts';
import { TENANT_PREFIX, type TenantContext, type TenantRouteDef, tenantRoute } from '../route.ts';
import { ID, TENANT_PARAM } from '../schemas.ts';

const LIST_QUERY = {
  limit: { type: 'string', pattern: '^[0-9]{1,3}$', description: 'Items per page, 1–200 (default 50).' },
  cursor: { type: 'string', maxLength: 200, description: 'The `nextCursor` of the previous page.' },
};

/** How a telemetry document is shown; may read more of the tenant's documents. */
// biome-ignore lint/suspicious/noExplicitAny: a view takes the collection's own document type
type View = (d: any, c: TenantContext) => unknown;

/**
 * `GET /tenants/:tenant/<path>` over a telemetry read model (fed by TELEMETRY): newest first,
 * cursor-paginated, filters on its fields, through the tenant-bound telemetry store.
 */
export function telemetryList(o: {
  area: string;
  path: string;
  collection: string;
  summary: string;
  filters: Record<string, object>;
  permission: Permission;
}): TenantRouteDef {
  return tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/${o.path}`,
    permission: o.permission,
    area: o.area,
    summary: o.summary,
    params: TENANT_PARAM,
    query: { ...LIST_QUERY, ...o.filters },
    handler: async (c: TenantContext<unknown, Record<string, string>>) => {
      const q = c.query;
      const filter: Record<string, string> = {};
      for (const f of Object.keys(o.filters)) if (q[f] !== undefined) filter[f] = q[f];
      const limit = q.limit === undefined ? 50 : Number(q.limit);
      if (limit < 1 || limit > 200) throw new StkError('STK_ERR_VALIDATION', 'limit must be 1 to 200', { field: 'limit' });
      const page = await c.telemetry.store.list(o.collection, { filter, limit, ...(q.cursor ? { cursor: q.cursor } : {}) });
      return { items: page.items, nextCursor: page.nextCursor };
    },
  });
}

/** Loads one telemetry document of the route's tenant (without its `seq`) or answers 404 (another tenant's id included). */
export async function mustGetTelemetry<T extends Doc>(c: TenantContext, collection: string, id: string): Promise<PublicTelemetryDoc<T>> {
  const doc = await c.telemetry.store.get<T>(collection, id);
  if (!doc) throw new StkError('STK_ERR_NOT_FOUND', 'not found', { id });
  return doc;
}

/** `GET /tenants/:tenant/<path>/:<param>` over a telemetry read model. */
export function telemetryGet(o: {
  area: string;
  path: string;
  collection: string;
  param: string;
  summary: string;
  permission: Permission;
  view?: View;
}): TenantRouteDef {
  return tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/${o.path}/:${o.param}`,
    permission: o.permission,
    area: o.area,
    summary: o.summary,
    params: { ...TENANT_PARAM, [o.param]: ID },
    handler: async (c: TenantContext<unknown, unknown, Record<string, string>>) => {
      const doc = await mustGetTelemetry(c, o.collection, c.params[o.param]!);
      return o.view ? o.view(doc, c) : doc;
    },
  });
}

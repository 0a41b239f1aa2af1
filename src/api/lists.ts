import { Readable } from 'node:stream';
import type { AgentDoc } from '../../projections/agents/projection.ts';
import { StkError } from '../errors.ts';
import type { Doc } from '../store/model.ts';
import type { QueryOptions } from '../store/query.ts';
import { TENANT_ID_PATTERN } from '../ids.ts';
import { PERMISSIONS, type Permission } from './permissions.ts';
import { TENANT_PREFIX, type TenantContext, type TenantRouteDef, tenantRoute } from './route.ts';

/** Most rows one export writes; a filter matching more is refused (`STK_ERR_EXPORT_TOO_LARGE`). */
export const EXPORT_MAX_ROWS = 100_000;
/** Agents a free-text search looks through for host names (alerts of a host found by its name). */
const HOST_SEARCH_MAX = 2_000;

/** How a document is shown; may read more of the tenant's documents. */
// biome-ignore lint/suspicious/noExplicitAny: a view takes the collection's own document type
export type View = (d: any, c: TenantContext) => unknown;

/** What a list offers besides equality filters. */
export interface ListOptions {
  /** Sorts by name (`?sort=<name>[:asc|:desc]`): the collection's sort of that name. The first is not the default: creation order is. */
  sorts?: readonly string[];
  /** The collection's time sort that `from`/`to` bound. */
  time?: string;
  /** Fields a free-text `q` looks in (case-insensitive substring). */
  text?: readonly string[];
  /** `q` also finds documents of agents whose host name contains it (`agentId` field). */
  hostSearch?: boolean;
  /** Adds to a page of documents what they need from elsewhere (host names), in one pass per page. */
  decorate?: (items: Doc[], c: TenantContext) => Promise<Doc[]>;
  /** Columns of the CSV export (dotted paths into the shown item); JSON exports every field. */
  columns?: readonly string[];
  /** @defaultValue `<area>.read` */
  permission?: Permission;
  /** What the listed items carry beyond the stored documents, for the API documentation. */
  returns?: string;
}

/** The read permission of an area (`alerts` → `alerts.read`); a typo fails at start, not at run time. */
export function readPermission(area: string): Permission {
  const p = `${area}.read`;
  if (!Object.hasOwn(PERMISSIONS, p)) throw new StkError('STK_ERR_INTERNAL', `no permission ${p}`);
  return p as Permission;
}

const LIST_QUERY = {
  limit: { type: 'string', pattern: '^[0-9]{1,3}$', description: 'Items per page, 1–200 (default 50).' },
  cursor: { type: 'string', maxLength: 400, description: 'The `nextCursor` of the previous page (of the same sort).' },
};
const SORT = {
  type: 'string',
  pattern: '^[A-Za-z]{1,32}(:(asc|desc))?$',
  description: 'A sort of this list, `<name>` (highest or newest first) or `<name>:asc`.',
};
const TIME = { type: 'string', maxLength: 40, description: 'An ISO 8601 time; `from` is inclusive, `to` exclusive.' };
const Q = {
  type: 'string',
  minLength: 1,
  maxLength: 200,
  description: 'Free text, case-insensitive, in the list’s text fields (a bounded walk of at most 10,000 items).',
};

function isoOf(v: string | undefined, field: string): string | undefined {
  if (v === undefined || v === '') return undefined;
  const t = Date.parse(v);
  if (!/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(t)) throw new StkError('STK_ERR_VALIDATION', `${field} must be an ISO 8601 time`, { field });
  return new Date(t).toISOString();
}

/** The store query a list request stands for. */
function queryOf(
  c: TenantContext<unknown, Record<string, string>>,
  collection: string,
  filters: Record<string, object>,
  o: ListOptions,
): Promise<QueryOptions> {
  return filterQuery(c, c.query, collection, filters, o);
}

/**
 * The store query of a list's filters given as values (`q` the list's query parameters, or the
 * `filter` of a bulk change by filter): equality on the list's filters, `sort`, `from`/`to`, `q`.
 */
export async function filterQuery(
  c: TenantContext,
  q: Record<string, string | undefined>,
  collection: string,
  filters: Record<string, object>,
  o: ListOptions,
): Promise<QueryOptions> {
  const spec = c.store.spec(collection);
  const filter: Record<string, string> = {};
  const plain: Array<[string, string]> = [];
  for (const f of Object.keys(filters)) {
    const v = q[f];
    if (v === undefined) continue;
    if (spec.indexes.includes(f)) filter[f] = v;
    else plain.push([f, v]);
  }
  let sort: string | undefined;
  let ascending = false;
  if (q.sort) {
    const [name, dir] = q.sort.split(':') as [string, string | undefined];
    if (!o.sorts?.includes(name))
      throw new StkError('STK_ERR_VALIDATION', `cannot sort by ${name}; sorts are ${(o.sorts ?? []).join(', ') || 'none'}`, { field: 'sort' });
    sort = name;
    ascending = dir === 'asc';
  }
  const from = isoOf(q.from, 'from');
  const to = isoOf(q.to, 'to');
  if ((from || to) && !o.time) throw new StkError('STK_ERR_VALIDATION', 'this list has no time range', { field: 'from' });
  const text = q.q?.toLowerCase();
  const hosts = text && o.hostSearch ? await hostsMatching(c, text) : null;
  const checks: Array<(d: Doc) => boolean> = [];
  for (const [f, v] of plain) checks.push((d) => String(d[f]) === v);
  if (text) {
    const fields = o.text ?? [];
    checks.push(
      (d) =>
        fields.some((f) =>
          String(d[f] ?? '')
            .toLowerCase()
            .includes(text),
        ) ||
        (hosts?.has(String(d.agentId)) ?? false),
    );
  }
  return {
    filter,
    ...(sort ? { sort, ascending } : {}),
    ...(from || to ? { range: { sort: o.time!, ...(from ? { from } : {}), ...(to ? { to } : {}) } } : {}),
    ...(checks.length ? { match: (d: Doc) => checks.every((f) => f(d)) } : {}),
  };
}

async function hostsMatching(c: TenantContext, text: string): Promise<Set<string>> {
  const page = await c.store.query<AgentDoc>('agents', { limit: 200, match: (d) => String(d.hostname).toLowerCase().includes(text) });
  const ids = new Set(page.items.map((a) => a.id));
  // More than a page of matching hosts is a search too broad to narrow by host; the first ones do.
  return ids.size <= HOST_SEARCH_MAX ? ids : new Set();
}

/** Adds `hostname` to documents that name an agent (`agentId`): one read per distinct agent of the page. */
export async function withHostnames(items: Doc[], c: TenantContext): Promise<Doc[]> {
  const ids = [...new Set(items.map((d) => d.agentId).filter((x): x is string => typeof x === 'string'))];
  const agents = await c.store.getMany<AgentDoc>('agents', ids);
  const names = new Map(ids.map((id, i) => [id, agents[i]?.hostname ?? null]));
  return items.map((d) => (typeof d.agentId === 'string' ? { ...d, hostname: names.get(d.agentId) ?? null } : d));
}

/**
 * `GET /tenants/:tenant/<area>`: one page, newest first unless sorted, with an exact total (bounded,
 * see `queryCollection`), filters on indexed and plain fields, a time range, free text.
 */
export function listRoute(area: string, collection: string, filters: Record<string, object>, view: View = (d) => d, o: ListOptions = {}): TenantRouteDef {
  return tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/${area}`,
    permission: o.permission ?? readPermission(area),
    area,
    summary: `List ${area}, newest first: filters, sorting, time range and free text; exact totals`,
    params: { tenant: { type: 'string', pattern: TENANT_ID_PATTERN } },
    query: { ...LIST_QUERY, ...filters, ...queryParams(o) },
    ...(o.returns ? { returns: `Each item: ${o.returns}` } : {}),
    handler: async (c: TenantContext<unknown, Record<string, string>>) => {
      const limit = c.query.limit === undefined ? 50 : Number(c.query.limit);
      if (limit < 1 || limit > 200) throw new StkError('STK_ERR_VALIDATION', 'limit must be 1 to 200', { field: 'limit' });
      const token = c.readToken();
      const page = await c.store.query(collection, {
        ...(await queryOf(c, collection, filters, o)),
        limit,
        ...(c.query.cursor ? { cursor: c.query.cursor } : {}),
      });
      const items = o.decorate ? await o.decorate(page.items, c) : page.items;
      return {
        items: await Promise.all(items.map((d) => view(d, c))),
        nextCursor: page.nextCursor,
        total: page.total,
        totalExact: page.totalExact,
        consistencyToken: token,
      };
    },
  });
}

/**
 * The JSON schema of a list's filters as an object (a bulk change's `filter`): the list route's own
 * filters, time range and free text, so a change by filter selects what the list shows.
 */
export function filterSchema(filters: Record<string, object>, o: ListOptions): object {
  const { sort: _sort, ...rest } = queryParams(o);
  return { type: 'object', properties: { ...filters, ...rest }, additionalProperties: false };
}

function queryParams(o: ListOptions): Record<string, object> {
  return {
    ...(o.sorts?.length ? { sort: SORT } : {}),
    ...(o.time ? { from: TIME, to: TIME } : {}),
    ...(o.text?.length ? { q: Q } : {}),
  };
}

/**
 * `GET /tenants/:tenant/<area>/export?format=csv|json`: the whole filtered list (the list route's
 * filters, sort, range and text), streamed a page at a time so memory stays flat. At most
 * EXPORT_MAX_ROWS rows: a filter matching more is refused before anything is sent.
 */
export function exportRoute(area: string, collection: string, filters: Record<string, object>, view: View = (d) => d, o: ListOptions = {}): TenantRouteDef {
  return tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/${area}/export`,
    permission: o.permission ?? readPermission(area),
    area,
    summary: `Export the filtered ${area} as CSV or JSON (at most ${EXPORT_MAX_ROWS.toLocaleString('en-US')} rows)`,
    params: { tenant: { type: 'string', pattern: TENANT_ID_PATTERN } },
    query: { format: { type: 'string', enum: ['csv', 'json'] }, ...filters, ...queryParams(o) },
    handler: async (c: TenantContext<unknown, Record<string, string>>) => {
      const query = await queryOf(c, collection, filters, o);
      const first = await c.store.query(collection, { ...query, limit: 200 });
      if (first.total > EXPORT_MAX_ROWS || (!first.totalExact && first.total >= EXPORT_MAX_ROWS)) {
        throw new StkError('STK_ERR_EXPORT_TOO_LARGE', `more than ${EXPORT_MAX_ROWS} ${area} match; narrow the filter`, { limit: EXPORT_MAX_ROWS });
      }
      const format = c.query.format === 'json' ? 'json' : 'csv';
      const columns = o.columns ?? [];
      const shown = async (items: Doc[]) => Promise.all((o.decorate ? await o.decorate(items, c) : items).map((d) => view(d, c) as Promise<object> | object));
      async function* rows(): AsyncGenerator<string> {
        let page = first;
        let n = 0;
        if (format === 'csv') yield `${columns.map(csvCell).join(',')}\r\n`;
        else yield '[';
        for (;;) {
          for (const item of await shown(page.items)) {
            if (format === 'csv') yield `${columns.map((col) => csvCell(pick(item, col))).join(',')}\r\n`;
            else yield `${n ? ',' : ''}\n${JSON.stringify(item)}`;
            n++;
          }
          if (!page.nextCursor || n >= EXPORT_MAX_ROWS) break;
          page = await c.store.query(collection, { ...query, limit: 200, cursor: page.nextCursor });
        }
        if (format === 'json') yield '\n]\n';
      }
      const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
      c.reply
        .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8')
        .header('content-disposition', `attachment; filename="${c.tenant}-${area}-${stamp}.${format}"`)
        .header('cache-control', 'no-store');
      return Readable.from(rows());
    },
  });
}

function pick(o: unknown, path: string): unknown {
  let v: unknown = o;
  for (const p of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
  return v;
}

/**
 * One CSV cell (RFC 4180 quoting). A text starting with `=`, `+`, `-`, `@`, tab or CR is taken by
 * spreadsheets as a formula; it gets a leading `'` so an attacker's alert title cannot run one.
 */
export function csvCell(v: unknown): string {
  let s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

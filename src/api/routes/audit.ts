import type { AuditDoc } from '../../../projections/audit/projection.ts';
import { INSTALL_TENANT } from '../../people/install.ts';
import type { Refusal } from '../../people/refusals.ts';
import type { TenantStore } from '../../store/store.ts';
import { type InstallContext, type InstallRouteDef, installRoute, TENANT_PREFIX, type TenantContext, type TenantRouteDef, tenantRoute } from '../route.ts';
import { oneOf, TENANT_PARAM } from '../schemas.ts';

/** Most entries one export carries (newest first); an install keeps its ledger export for more. */
export const AUDIT_EXPORT_MAX = 100_000;

const COLUMNS = ['at', 'kind', 'outcome', 'actorKind', 'actorId', 'via', 'action', 'aggregateType', 'targetId', 'code', 'route', 'ip'] as const;
type Row = Record<(typeof COLUMNS)[number], string>;

function fromAudit(d: AuditDoc): Row {
  return {
    at: d.at,
    kind: 'event',
    outcome: d.outcome,
    actorKind: d.actorKind,
    actorId: d.actorId,
    via: d.via ?? '',
    action: d.action,
    aggregateType: d.aggregateType,
    targetId: d.targetId,
    code: '',
    route: '',
    ip: '',
  };
}

function fromRefusal(r: Refusal): Row {
  return {
    at: r.at,
    kind: 'refused',
    outcome: 'refused',
    actorKind: r.actor === 'anonymous' ? 'anonymous' : 'operator',
    actorId: r.actor,
    via: r.via ?? '',
    action: r.kind,
    aggregateType: '',
    targetId: '',
    code: r.code,
    route: `${r.method} ${r.route}`,
    ip: r.ip,
  };
}

/** RFC 4180 field: quoted when needed; a leading =, +, - or @ is defused so a spreadsheet never runs it. */
function csvField(v: string): string {
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

async function rows(store: TenantStore, refusals: Refusal[]): Promise<Row[]> {
  const out: Row[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: AuditDoc[]; nextCursor: string | null } = await store.list<AuditDoc>('audit', { limit: 200, ...(cursor ? { cursor } : {}) });
    for (const d of page.items) out.push(fromAudit(d));
    cursor = out.length < AUDIT_EXPORT_MAX ? page.nextCursor : null;
  } while (cursor);
  for (const r of refusals) out.push(fromRefusal(r));
  return out.sort((a, b) => a.at.localeCompare(b.at));
}

async function send(c: { reply: TenantContext['reply'] }, format: string, name: string, data: Row[]): Promise<string> {
  if (format === 'jsonl') {
    c.reply.type('application/x-ndjson; charset=utf-8').header('content-disposition', `attachment; filename="${name}.jsonl"`);
    return data.map((r) => JSON.stringify(r)).join('\n') + (data.length ? '\n' : '');
  }
  c.reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}.csv"`);
  return `${COLUMNS.join(',')}\r\n${data.map((r) => COLUMNS.map((k) => csvField(r[k])).join(',')).join('\r\n')}${data.length ? '\r\n' : ''}`;
}

const FORMAT = { format: oneOf(['csv', 'jsonl']) };

/** The audit trail for auditors: a customer's (events and refused attempts) and the install's own. */
export const auditExportRoutes: Array<TenantRouteDef | InstallRouteDef> = [
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/audit/refusals`,
    permission: 'audit.export',
    area: 'audit',
    summary:
      'The newest refused attempts on the customer (wrong credentials, forbidden actions, probes, refusals while suspended), newest first; for whoever may export the audit trail',
    params: TENANT_PARAM,
    query: { limit: { type: 'string', pattern: '^[0-9]{1,3}$' } },
    handler: async (c: TenantContext<unknown, { limit?: string }>) => {
      const limit = Math.min(Math.max(Number(c.query.limit ?? 50) || 50, 1), 200);
      return { items: await c.people.refusals.recent(c.tenant, limit), consistencyToken: c.readToken() };
    },
  }),
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/audit/export`,
    permission: 'audit.export',
    area: 'audit',
    summary:
      "Export the customer's audit trail, oldest first: every recorded change (who, through which token/session/SSO subject) and every refused attempt; CSV or JSON lines",
    params: TENANT_PARAM,
    query: FORMAT,
    handler: async (c: TenantContext<unknown, { format?: string }>) =>
      send(c, c.query.format ?? 'csv', `audit-${c.tenant}`, await rows(c.store, await c.people.refusals.list(c.tenant))),
  }),
  installRoute({
    method: 'GET',
    url: '/audit/export',
    permission: 'install.audit',
    area: 'audit',
    summary: "Export the install's own audit trail: users, roles, settings, sign-ins, break-glass uses of the admin key, refused sign-ins; CSV or JSON lines",
    query: FORMAT,
    handler: async (c: InstallContext<unknown, { format?: string }>) =>
      send(c, c.query.format ?? 'csv', 'audit-install', await rows(c.admin.tenant(INSTALL_TENANT), await c.people.refusals.list(INSTALL_TENANT))),
  }),
];

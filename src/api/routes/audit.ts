import { Readable } from 'node:stream';
import type { AuditDoc } from '../../../projections/audit/projection.ts';
import { INSTALL_TENANT } from '../../people/install.ts';
import type { Refusal } from '../../people/refusals.ts';
import type { TenantStore } from '../../store/store.ts';
import { type InstallContext, type InstallRouteDef, installRoute, TENANT_PREFIX, type TenantContext, type TenantRouteDef, tenantRoute } from '../route.ts';
import { oneOf, TENANT_PARAM } from '../schemas.ts';

/** Audit entries one read of the audit model takes while an export streams (memory stays flat). */
export const AUDIT_EXPORT_PAGE = 500;

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

/**
 * The whole audit trail, oldest first: the audit model walked in time order a page at a time
 * through the tenant-bound store, merged by time with the tenant's refused attempts read in order
 * from their stream. Nothing is capped: the export is as long as the trail (the REFUSALS stream's
 * own age and size limits are what bound the refusals kept).
 */
export async function* auditRows(store: TenantStore, refusals: AsyncIterable<Refusal>, pageSize = AUDIT_EXPORT_PAGE): AsyncGenerator<Row> {
  const events = (async function* () {
    for await (const page of store.walk<AuditDoc>('audit', { sort: 'at', pageSize })) for (const d of page) yield fromAudit(d);
  })();
  const refused = (async function* () {
    for await (const r of refusals) yield fromRefusal(r);
  })();
  let e = await events.next();
  let r = await refused.next();
  try {
    while (!e.done || !r.done) {
      // Ties go to the recorded change: a refusal stamped in the same millisecond came after it.
      if (!e.done && (r.done || e.value.at <= r.value.at)) {
        yield e.value;
        e = await events.next();
      } else if (!r.done) {
        yield r.value;
        r = await refused.next();
      }
    }
  } finally {
    await Promise.all([events.return(undefined), refused.return(undefined)]);
  }
}

/** The export as a stream of text: CSV (a header line first) or JSON lines, one row per line. */
function send(c: { reply: TenantContext['reply'] }, format: string, name: string, rows: AsyncGenerator<Row>): Readable {
  const jsonl = format === 'jsonl';
  c.reply
    .type(jsonl ? 'application/x-ndjson; charset=utf-8' : 'text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${name}.${jsonl ? 'jsonl' : 'csv'}"`)
    .header('cache-control', 'no-store');
  return Readable.from(
    (async function* () {
      if (!jsonl) yield `${COLUMNS.join(',')}\r\n`;
      let lines: string[] = [];
      for await (const row of rows) {
        lines.push(jsonl ? `${JSON.stringify(row)}\n` : `${COLUMNS.map((k) => csvField(row[k])).join(',')}\r\n`);
        // Written in chunks of lines, not one write per row.
        if (lines.length >= 200) {
          yield lines.join('');
          lines = [];
        }
      }
      if (lines.length) yield lines.join('');
    })(),
  );
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
      "Export the customer's whole audit trail, oldest first: every recorded change (who, through which token/session/SSO subject) and every refused attempt the REFUSALS stream keeps (90 days); CSV or JSON lines, streamed, never cut at a count. An export that fails part way ends the connection without its last chunk, so a download reports an error instead of a short file",
    params: TENANT_PARAM,
    query: FORMAT,
    handler: async (c: TenantContext<unknown, { format?: string }>) =>
      send(c, c.query.format ?? 'csv', `audit-${c.tenant}`, auditRows(c.store, c.people.refusals.all(c.tenant))),
  }),
  installRoute({
    method: 'GET',
    url: '/audit/export',
    permission: 'install.audit',
    area: 'audit',
    summary:
      "Export the install's whole audit trail, oldest first: users, roles, settings, sign-ins, break-glass uses of the admin key, refused sign-ins; CSV or JSON lines, streamed, never cut at a count",
    query: FORMAT,
    handler: async (c: InstallContext<unknown, { format?: string }>) =>
      send(c, c.query.format ?? 'csv', 'audit-install', auditRows(c.admin.tenant(INSTALL_TENANT), c.people.refusals.all(INSTALL_TENANT))),
  }),
];

import { asmSettingsDecider } from '../../../commands/attack-surface/decider.ts';
import type { AsmSettings } from '../../../commands/attack-surface/events.ts';
import { scanDecider } from '../../../commands/scans/decider.ts';
import type { AgentDoc } from '../../../projections/agents/projection.ts';
import type { AddressDoc, CertificateDoc, EndpointDoc } from '../../../projections/assets/projection.ts';
import { type AsmSettingsDoc, asmSettingsOf } from '../../../projections/attack-surface/projection.ts';
import type { ScanItemDoc } from '../../../projections/scan-items/projection.ts';
import type { HostServicesDoc, ScanDoc } from '../../../projections/scans/projection.ts';
import { checkRunScanArgs, checkScanShape } from '../../domain/action-args.ts';
import { ACTION_ARGS } from '../../domain/actions.ts';
import { StkError } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { projectionBehind } from '../../projector/projector.ts';
import { MAX_ALLOWLIST_ENTRIES } from '../../scan/allowlist.ts';
import { itemDocId } from '../../scan/runs/ids.ts';
import type { TenantStore } from '../../store/store.ts';
import { TENANT_PREFIX, type TenantContext, type TenantRouteDef, tenantRoute } from '../route.ts';
import { ID, mustGet, oneOf, TENANT_PARAM } from '../schemas.ts';

const DAY_MS = 86_400_000;
const LIST_QUERY = {
  limit: { type: 'string', pattern: '^[0-9]{1,3}$', description: 'Items per page, 1–200 (default 50).' },
  cursor: { type: 'string', maxLength: 200, description: 'The `nextCursor` of the previous page.' },
};
const PORT = { type: 'string', pattern: '^[1-9][0-9]{0,4}$' };
const INDEX = { type: 'string', pattern: '^(0|[1-9][0-9]{0,5})$' };
const ADDRESS = { type: 'string', maxLength: 45, pattern: '^[0-9a-f.:]+$' };
/** How long the items of a run may take to be readable after it was sealed before a read answers "retry". */
const ITEMS_WAIT_MS = 5_000;

/** A page of a tenant's documents in a store other than `c.store` (the SCANS read models). */
async function page(store: TenantStore, collection: string, q: Record<string, string | undefined>, filter: Record<string, string>) {
  const limit = q.limit === undefined ? 50 : Number(q.limit);
  if (limit < 1 || limit > 200) throw new StkError('STK_ERR_VALIDATION', 'limit must be 1 to 200', { field: 'limit' });
  return store.list(collection, { filter, limit, ...(q.cursor ? { cursor: q.cursor } : {}) });
}

function pick(q: Record<string, string | undefined>, fields: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fields) if (q[f] !== undefined) out[f] = q[f]!;
  return out;
}

/** A sealed run's items are readable once the SCANS models reached its last item. */
async function itemsReadable(c: TenantContext, run: ScanDoc): Promise<void> {
  if (run.status !== 'completed' || !run.lastSeq) return;
  if (!(await c.scans.waitFor(run.lastSeq, ITEMS_WAIT_MS))) throw projectionBehind();
}

/** A certificate's status at read time, against the tenant's threshold. */
function certificateView(d: CertificateDoc, expiryWarningDays: number, now = Date.now()) {
  const left = Date.parse(d.notAfter) - now;
  const status = left < 0 ? 'expired' : left < expiryWarningDays * DAY_MS ? 'expiring' : 'valid';
  return { ...d, status, daysLeft: Math.floor(left / DAY_MS) };
}

/** The declared targets, the attack surface the scans found, and the scan runs with their items, diffs and proofs. */
export const attackSurfaceRoutes: TenantRouteDef[] = [
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/attack-surface`,
    permission: 'assets.read',
    area: 'assets',
    summary: 'The declared targets (the allowlist every scan is judged by) and the certificate expiry threshold',
    params: TENANT_PARAM,
    handler: async (c) => ({ ...asmSettingsOf(await c.store.get<AsmSettingsDoc>('asm-settings', c.tenant)), consistencyToken: c.readToken() }),
  }),
  tenantRoute({
    method: 'PUT',
    url: `${TENANT_PREFIX}/attack-surface`,
    permission: 'assets.manage',
    area: 'assets',
    summary: 'Declare the targets scans may reach (addresses, CIDR blocks up to /16 or /112, hostnames, *.domain) and the expiry threshold in days',
    params: TENANT_PARAM,
    body: {
      properties: {
        targets: { type: 'array', maxItems: MAX_ALLOWLIST_ENTRIES, items: { type: 'string', minLength: 1, maxLength: 260 } },
        expiryWarningDays: { type: 'integer', minimum: 1, maximum: 365 },
      },
      maxBytes: 512 * 1024,
    },
    handler: async (c: TenantContext<Partial<AsmSettings>>) => {
      const r = await c.execute(asmSettingsDecider, c.tenant, { kind: 'set', values: c.body });
      const consistencyToken = await c.settle(r.position);
      return { ...asmSettingsOf(await c.store.get<AsmSettingsDoc>('asm-settings', c.tenant)), consistencyToken };
    },
  }),
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/assets/hosts`,
    permission: 'assets.read',
    area: 'assets',
    summary: 'Scanned hosts (addresses) with the ports their latest scans found open',
    params: TENANT_PARAM,
    query: LIST_QUERY,
    handler: async (c: TenantContext<unknown, Record<string, string>>) => {
      const p = await page(c.scans.store, 'asset-addresses', c.query, {});
      return { items: p.items as AddressDoc[], nextCursor: p.nextCursor };
    },
  }),
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/assets/ports`,
    permission: 'assets.read',
    area: 'assets',
    summary: 'Endpoints (address and port) as their latest scan saw them: state, banner, TLS, certificate; by port, address or state',
    params: TENANT_PARAM,
    query: { ...LIST_QUERY, port: PORT, address: ADDRESS, state: oneOf(['open', 'closed', 'filtered']) },
    handler: async (c: TenantContext<unknown, Record<string, string>>) => {
      const p = await page(c.scans.store, 'endpoints', c.query, pick(c.query, ['port', 'address', 'state']));
      return { items: p.items as EndpointDoc[], nextCursor: p.nextCursor };
    },
  }),
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/assets/certificates`,
    permission: 'assets.read',
    area: 'assets',
    summary: 'TLS certificates the scans saw, soonest expiry first, with their status against the expiry threshold and where they are served',
    params: TENANT_PARAM,
    query: { ...LIST_QUERY, served: oneOf(['yes', 'no']) },
    handler: async (c: TenantContext<unknown, Record<string, string>>) => {
      const { expiryWarningDays } = asmSettingsOf(await c.store.get<AsmSettingsDoc>('asm-settings', c.tenant));
      const p = await page(c.scans.store, 'certificates', c.query, pick(c.query, ['served']));
      return { items: (p.items as CertificateDoc[]).map((d) => certificateView(d, expiryWarningDays)), nextCursor: p.nextCursor, expiryWarningDays };
    },
  }),
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/assets/services`,
    permission: 'assets.read',
    area: 'assets',
    summary: 'Listening services of agent hosts (with the owning process), as reported with their latest scan run',
    params: TENANT_PARAM,
    query: LIST_QUERY,
    handler: async (c: TenantContext<unknown, Record<string, string>>) => {
      const p = await page(c.store, 'host-services', c.query, {});
      const items = await Promise.all(
        (p.items as HostServicesDoc[]).map(async (d) => ({ ...d, hostname: (await c.store.get<AgentDoc>('agents', d.agentId))?.hostname ?? null })),
      );
      return { items, nextCursor: p.nextCursor, consistencyToken: c.readToken() };
    },
  }),

  tenantRoute({
    method: 'POST',
    url: `${TENANT_PREFIX}/scans`,
    permission: 'scans.run',
    area: 'scans',
    status: 201,
    summary:
      "Ask the server's scanner to scan declared targets. Checked now against the allowlist (loopback, private and link-local addresses are never scanned from the server) and again by the scanner before anything is sent",
    params: TENANT_PARAM,
    body: {
      // The run-scan arguments, as an agent command takes them (src/domain/actions.ts).
      properties: (ACTION_ARGS['run-scan'] as { properties: Record<string, object> }).properties,
      required: ['targets'],
      maxBytes: 64 * 1024,
    },
    handler: async (c: TenantContext<Record<string, unknown>>) => {
      const allowlist = asmSettingsOf(await c.store.get<AsmSettingsDoc>('asm-settings', c.tenant)).targets;
      // The server's scanner never reaches internal addresses, so they are refused here already.
      const r0 = checkRunScanArgs(c.body, allowlist, { refuseInternal: true });
      if (!r0.ok) throw r0.error;
      const shape = checkScanShape(c.body);
      if (!shape.ok) throw shape.error;
      const request = { source: 'scanner' as const, targets: (r0.args as { targets: string[] }).targets, ports: shape.scan.ports, options: shape.scan.options };
      const id = newId();
      const r = await c.execute(scanDecider, id, { kind: 'request', request }, { known: 'new' });
      return {
        id,
        status: 'requested',
        targets: request.targets,
        ports: request.ports,
        options: request.options,
        consistencyToken: await c.settle(r.position),
      };
    },
  }),
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/scans/:runId/diff`,
    permission: 'scans.read',
    area: 'scans',
    summary:
      'What a run changed against the previous run over the same targets: ports opened and closed, certificates changed on ports open in both, findings new, still open, remediated',
    params: { ...TENANT_PARAM, runId: ID },
    handler: async (c: TenantContext<unknown, unknown, { runId: string }>) => {
      const run = await mustGet<ScanDoc>(c, 'scans', c.params.runId);
      const previous = run.previousRunId ? await c.store.get<ScanDoc>('scans', run.previousRunId) : null;
      return {
        runId: run.id,
        status: run.status,
        previousRunId: run.previousRunId ?? null,
        previous: previous
          ? { id: previous.id, startedAt: previous.startedAt ?? null, itemCount: previous.itemCount ?? null, counts: previous.counts ?? null }
          : null,
        counts: run.counts ?? null,
        diff: run.diff ?? null,
        consistencyToken: c.readToken(),
      };
    },
  }),
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/scans/:runId/items`,
    permission: 'scans.read',
    area: 'scans',
    summary: "A run's items in their defined order (target, address, port); filter by state, port or address",
    params: { ...TENANT_PARAM, runId: ID },
    query: { ...LIST_QUERY, state: oneOf(['open', 'closed', 'filtered']), port: PORT, address: ADDRESS },
    handler: async (c: TenantContext<unknown, Record<string, string>, { runId: string }>) => {
      const run = await mustGet<ScanDoc>(c, 'scans', c.params.runId);
      await itemsReadable(c, run);
      const p = await page(c.scans.store, 'scan-items', c.query, { runId: run.id, ...pick(c.query, ['state', 'port', 'address']) });
      return {
        items: (p.items as ScanItemDoc[]).map(itemView),
        nextCursor: p.nextCursor,
        itemCount: run.itemCount ?? null,
        merkleRoot: run.merkleRoot ?? null,
      };
    },
  }),
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/scans/:runId/items/:itemId`,
    permission: 'scans.read',
    area: 'scans',
    summary: 'One item of a run, by its index',
    params: { ...TENANT_PARAM, runId: ID, itemId: INDEX },
    handler: async (c: TenantContext<unknown, unknown, { runId: string; itemId: string }>) => {
      const run = await mustGet<ScanDoc>(c, 'scans', c.params.runId);
      await itemsReadable(c, run);
      const doc = await c.scans.store.get<ScanItemDoc>('scan-items', itemDocId(run.id, Number(c.params.itemId)));
      if (!doc) throw new StkError('STK_ERR_NOT_FOUND', 'not found', { id: c.params.itemId });
      return itemView(doc);
    },
  }),
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/scans/:runId/items/:itemId/proof`,
    permission: 'scans.read',
    area: 'scans',
    summary:
      "Proof that an item belongs to a sealed run: the item, its RFC 6962 audit path to the run's Merkle root and the scan.completed event that sealed it (check offline with `stockade scan verify-proof`)",
    params: { ...TENANT_PARAM, runId: ID, itemId: INDEX },
    handler: async (c: TenantContext<unknown, unknown, { runId: string; itemId: string }>) => {
      await mustGet<ScanDoc>(c, 'scans', c.params.runId);
      return c.scans.proof(c.params.runId, Number(c.params.itemId));
    },
  }),
];

/** An item as the API shows it: the item's own fields, its index and run, where it is stored. */
function itemView(d: ScanItemDoc) {
  const { seq: _s, id: _i, ...rest } = d;
  return { id: String(d.index), ...rest };
}

import { evidenceDecider } from '../../../commands/evidence/decider.ts';
import type { EvidenceDoc } from '../../../projections/evidence/projection.ts';
import { StkError } from '../../errors.ts';
import { TENANT_PREFIX, type TenantContext, type TenantRouteDef, tenantRoute } from '../route.ts';
import { getRoute, ID, listRoute, mustGet, oneOf, TENANT_PARAM, text } from '../schemas.ts';
import { ACTOR_NAMES_DOC, viewOf, withActorNames } from '../actors.ts';
import { TELEMETRY_ITEM_ID_PATTERN } from '../../telemetry/ids.ts';
import { telemetryGet, telemetryList } from './telemetry-routes.ts';

const hostNames = withActorNames({ fields: ['isolationBy'] });

const SHA256 = { type: 'string', pattern: '^[0-9a-f]{64}$' };
const PORT = { type: 'string', pattern: '^[0-9]{1,5}$' };
const NUMBER = { type: 'string', pattern: '^[0-9]{1,10}$' };

/** A file name for Content-Disposition: the path's last part, printable ASCII without quotes. */
function downloadName(path: string): string {
  const base = path.split('/').pop() || 'evidence';
  return base.replace(/[^\x21-\x7e]|["\\;]/g, '_').slice(0, 200) || 'evidence';
}

/**
 * EDR: processes and connections per host (from TELEMETRY), hosts with their isolation state and
 * agent health, the download of evidence bytes (itself recorded in the custody trail and sealed),
 * and the Merkle proof of any telemetry item.
 */
export const edrRoutes: TenantRouteDef[] = [
  telemetryList({
    area: 'processes',
    path: 'processes',
    collection: 'processes',
    permission: 'processes.read',
    summary:
      'Processes the agents saw start, last received by Stockade first (`seenAt`; not by `startedAt`: a backlog sent late comes in above newer processes); search by host, name, SHA-256, user, executable or pid',
    filters: { agentId: ID, name: text(64), sha256: SHA256, user: text(256), exe: text(4096), pid: NUMBER },
  }),
  telemetryGet({
    area: 'processes',
    path: 'processes',
    collection: 'processes',
    param: 'processId',
    permission: 'processes.read',
    summary: 'One process start',
  }),
  telemetryList({
    area: 'connections',
    path: 'connections',
    collection: 'connections',
    permission: 'connections.read',
    summary: 'Connections and listeners the agents saw, with their process, newest first',
    filters: { agentId: ID, remoteAddress: text(64), remotePort: PORT, state: text(16), exe: text(4096), user: text(256), pid: NUMBER },
  }),
  telemetryGet({
    area: 'connections',
    path: 'connections',
    collection: 'connections',
    param: 'connectionId',
    permission: 'connections.read',
    summary: 'One connection',
  }),
  listRoute('hosts', 'hosts', { isolation: oneOf(['isolated', 'not-isolated']), hostname: text(253) }, (d) => d, {
    decorate: hostNames,
    returns: ACTOR_NAMES_DOC,
  }),
  getRoute('hosts', 'hosts', 'agentId', viewOf(hostNames), undefined, ACTOR_NAMES_DOC),
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/evidence/:evidenceId/content`,
    permission: 'evidence.download',
    area: 'evidence',
    summary:
      'Download the bytes of evidence (decrypted when stored encrypted), checked against its sealed SHA-256; the download is recorded in its custody trail. 410 STK_ERR_EVIDENCE_ERASED once its machine was erased or its month aged out',
    params: { ...TENANT_PARAM, evidenceId: ID },
    handler: async (c: TenantContext<unknown, unknown, { evidenceId: string }>) => {
      const id = c.params.evidenceId;
      const doc = await mustGet<EvidenceDoc>(c, 'evidence', id);
      if (!doc.stored) throw new StkError('STK_ERR_EVIDENCE_CONTENT_MISSING', 'this evidence was reported by its hash only; no bytes are stored', { id });
      const bytes = await c.telemetry.evidence(id, doc.sha256);
      // Recorded before a byte leaves: a download that is not in the trail never happens.
      await c.execute(evidenceDecider, id, { kind: 'download', by: c.actor.id, sha256: doc.sha256, sizeBytes: bytes.length });
      c.reply
        .header('content-type', 'application/octet-stream')
        .header('content-disposition', `attachment; filename="${downloadName(doc.name)}"`)
        .header('x-stockade-sha256', doc.sha256)
        .header('cache-control', 'no-store');
      return bytes;
    },
  }),
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/telemetry/items/:telemetryItemId/proof`,
    permission: 'telemetry.read',
    area: 'telemetry',
    summary:
      'The RFC 6962 inclusion proof of one telemetry item, named `<batch>:<index>` (the `itemId` of process, connection and account-change documents): the item, its index in its batch, the audit path and the sealed telemetry.batch-received event (check it offline with `stockade telemetry verify-proof`)',
    params: { ...TENANT_PARAM, telemetryItemId: { type: 'string', pattern: TELEMETRY_ITEM_ID_PATTERN } },
    handler: async (c: TenantContext<unknown, unknown, { telemetryItemId: string }>) => c.telemetry.proof(c.params.telemetryItemId),
  }),
];

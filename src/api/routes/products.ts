import { SEVERITIES } from '../../../commands/alerts/events.ts';
import { evidenceDecider } from '../../../commands/evidence/decider.ts';
import { findingDecider } from '../../../commands/findings/decider.ts';
import { FINDING_STATES, type FindingState } from '../../../commands/findings/events.ts';
import { PRODUCTS } from '../../domain/products.ts';
import { TENANT_PREFIX, type TenantContext, type TenantRouteDef, tenantRoute } from '../route.ts';
import { exportRoute, getRoute, ID, itemCommand, type ListOptions, listRoute, mustGet, oneOf, TENANT_PARAM, text, withHostnames } from '../schemas.ts';
import { bulkCount, idsOrFilter, selectByFilter } from '../bulk.ts';
import { filterSchema } from '../lists.ts';
import { ACTOR_NAMES_DOC, decorations, viewOf, withActorNames } from '../actors.ts';
import { bulk } from './core.ts';

const findingNames = decorations(withHostnames, withActorNames({ lists: { history: ['by'] } }));
const scanNames = decorations(withHostnames, withActorNames({ fields: ['requestedBy'] }));
const evidenceNames = decorations(withHostnames, withActorNames({ lists: { custody: ['by'] } }));

const FINDING_FILTERS = { state: oneOf(FINDING_STATES), severity: oneOf(SEVERITIES), agentId: ID, product: oneOf(PRODUCTS) };
const FINDING_LIST: ListOptions = {
  sorts: ['reportedAt', 'severity'],
  time: 'reportedAt',
  text: ['title', 'subject'],
  hostSearch: true,
  decorate: findingNames,
  returns: ACTOR_NAMES_DOC,
  columns: ['id', 'reportedAt', 'observedAt', 'severity', 'state', 'title', 'subject', 'product', 'hostname', 'agentId'],
};
const SCAN_FILTERS = { agentId: ID, product: oneOf(PRODUCTS), status: oneOf(['requested', 'refused', 'completed']), commandId: ID };
const SCAN_LIST: ListOptions = {
  sorts: ['finishedAt'],
  time: 'finishedAt',
  decorate: scanNames,
  returns: ACTOR_NAMES_DOC,
  columns: ['id', 'status', 'source', 'startedAt', 'finishedAt', 'product', 'hostname', 'agentId', 'itemCount', 'merkleRoot'],
};
const EVIDENCE_FILTERS = { agentId: ID, sealed: oneOf(['true', 'false']) };
const EVIDENCE_LIST: ListOptions = {
  sorts: ['collectedAt'],
  time: 'collectedAt',
  text: ['name', 'sha256', 'holder'],
  hostSearch: true,
  decorate: evidenceNames,
  returns: ACTOR_NAMES_DOC,
  columns: ['id', 'collectedAt', 'name', 'sha256', 'sizeBytes', 'hostname', 'agentId', 'holder', 'sealed'],
};

/** Routes of product areas (findings, scans, evidence; a run's items, diff and proofs are in attack-surface.ts): the guard refuses them while the product is off. */
export const productRoutes: TenantRouteDef[] = [
  listRoute('findings', 'findings', FINDING_FILTERS, (d) => d, FINDING_LIST),
  exportRoute('findings', 'findings', FINDING_FILTERS, (d) => d, FINDING_LIST),
  getRoute('findings', 'findings', 'findingId', viewOf(findingNames), undefined, ACTOR_NAMES_DOC),
  tenantRoute({
    method: 'POST',
    url: `${TENANT_PREFIX}/findings/bulk`,
    permission: 'findings.triage',
    area: 'findings',
    summary:
      "Triage findings with one state and reason: up to 100 named by `findingIds` (each answers changed, unchanged or refused), or every finding the list's `filter` selects (the finding list's filters, `from`/`to`, `q`; at most 100,000), run in the server a batch at a time and answered with counts (`matched`, `changed`, `unchanged`, `refused`)",
    params: TENANT_PARAM,
    body: {
      properties: {
        findingIds: { type: 'array', items: ID, minItems: 1, maxItems: 100, uniqueItems: true },
        filter: filterSchema(FINDING_FILTERS, FINDING_LIST),
        state: oneOf(FINDING_STATES.filter((s) => s !== 'open')),
        reason: text(1000),
      },
      required: ['state', 'reason'],
    },
    handler: async (c: TenantContext<{ findingIds?: string[]; filter?: Record<string, string>; state: Exclude<FindingState, 'open'>; reason: string }>) => {
      const { findingIds, filter, state, reason } = c.body;
      idsOrFilter(findingIds, filter, 'findingIds');
      const run = (id: string) => c.execute(findingDecider, id, { kind: 'triage', state, reason });
      if (filter) return bulkCount(c, await selectByFilter(c, 'findings', FINDING_FILTERS, FINDING_LIST, filter), run);
      // Every finding must be this tenant's: another tenant's id is "not found", like a missing one.
      for (const id of findingIds!) await mustGet(c, 'findings', id);
      return bulk(c, findingIds!, run);
    },
  }),
  itemCommand({
    method: 'PATCH',
    area: 'findings',
    collection: 'findings',
    param: 'findingId',
    summary: 'Triage a finding: accepted-risk, remediated or false-positive, with a reason',
    permission: 'findings.triage',
    body: { properties: { state: oneOf(FINDING_STATES.filter((s) => s !== 'open')), reason: text(1000) }, required: ['state', 'reason'] },
    decider: findingDecider,
    command: (b: { state: Exclude<FindingState, 'open'>; reason: string }) => ({ kind: 'triage' as const, state: b.state, reason: b.reason }),
    view: viewOf(findingNames),
    returns: ACTOR_NAMES_DOC,
  }),
  listRoute('scans', 'scans', SCAN_FILTERS, (d) => d, SCAN_LIST),
  exportRoute('scans', 'scans', SCAN_FILTERS, (d) => d, SCAN_LIST),
  // `:runId`, like the run's items, diff and proofs (src/api/routes/attack-surface.ts).
  getRoute('scans', 'scans', 'runId', viewOf(scanNames), undefined, ACTOR_NAMES_DOC),
  listRoute('evidence', 'evidence', EVIDENCE_FILTERS, (d) => d, EVIDENCE_LIST),
  exportRoute('evidence', 'evidence', EVIDENCE_FILTERS, (d) => d, EVIDENCE_LIST),
  getRoute('evidence', 'evidence', 'evidenceId', viewOf(evidenceNames), undefined, ACTOR_NAMES_DOC),
  itemCommand({
    method: 'POST',
    area: 'evidence',
    collection: 'evidence',
    param: 'evidenceId',
    action: 'transfer',
    summary: 'Record a transfer of custody',
    permission: 'evidence.custody',
    body: { properties: { to: text(200), note: { type: 'string', maxLength: 1000 } }, required: ['to'] },
    decider: evidenceDecider,
    command: (b: { to: string; note?: string }) => ({ kind: 'transfer' as const, to: b.to, note: b.note ?? '' }),
    view: viewOf(evidenceNames),
    returns: ACTOR_NAMES_DOC,
  }),
  itemCommand({
    method: 'POST',
    area: 'evidence',
    collection: 'evidence',
    param: 'evidenceId',
    action: 'seal',
    summary: 'Seal evidence: its custody chain ends here',
    permission: 'evidence.custody',
    body: { properties: { note: { type: 'string', maxLength: 1000 } } },
    decider: evidenceDecider,
    command: (b: { note?: string }, c) => ({ kind: 'seal' as const, by: c.actor.id, note: b.note ?? '' }),
    view: viewOf(evidenceNames),
    returns: ACTOR_NAMES_DOC,
  }),
];

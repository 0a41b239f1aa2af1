import { evidenceDecider } from '../../../commands/evidence/decider.ts';
import { findingDecider } from '../../../commands/findings/decider.ts';
import { FINDING_STATES, type FindingState } from '../../../commands/findings/events.ts';
import { SEVERITIES } from '../../../commands/alerts/events.ts';
import type { EvidenceDoc } from '../../../projections/evidence/projection.ts';
import type { FindingDoc } from '../../../projections/findings/projection.ts';
import { execute } from '../../domain/decider.ts';
import { PRODUCTS } from '../../domain/products.ts';
import { TENANT_PREFIX, type RouteDef } from '../route.ts';
import { ID, TENANT_PARAM, getRoute, listRoute, mustGet, oneOf, text } from '../schemas.ts';
import { settledDoc } from './core.ts';

/** Routes of product areas (findings, scans, evidence): the guard refuses them while the product is off. */
export const productRoutes: RouteDef[] = [
  listRoute('findings', 'findings', { state: oneOf(FINDING_STATES), severity: oneOf(SEVERITIES), agentId: ID, product: oneOf(PRODUCTS) }),
  getRoute('findings', 'findings', 'findingId'),
  {
    method: 'PATCH',
    url: `${TENANT_PREFIX}/findings/:findingId`,
    access: 'write',
    area: 'findings',
    summary: 'Triage a finding: accepted-risk, remediated or false-positive, with a reason',
    params: { ...TENANT_PARAM, findingId: ID },
    body: { properties: { state: oneOf(FINDING_STATES.filter((s) => s !== 'open')), reason: text(1000) }, required: ['state', 'reason'] },
    handler: async (c) => {
      const id = (c.params as { findingId: string }).findingId;
      const b = c.body as { state: Exclude<FindingState, 'open'>; reason: string };
      await mustGet(c, 'findings', id);
      const r = await execute(c.rt.log, c.tenant, id, findingDecider, { kind: 'triage', state: b.state, reason: b.reason }, { actor: c.actor });
      return { ...(await settledDoc<FindingDoc>(c, 'findings', id, r.position)), position: r.position };
    },
  },
  listRoute('scans', 'scans', { agentId: ID, product: oneOf(PRODUCTS) }),
  getRoute('scans', 'scans', 'scanId'),
  listRoute('evidence', 'evidence', { agentId: ID, sealed: oneOf(['true', 'false']) }),
  getRoute('evidence', 'evidence', 'evidenceId'),
  {
    method: 'POST',
    url: `${TENANT_PREFIX}/evidence/:evidenceId/transfer`,
    access: 'write',
    area: 'evidence',
    summary: 'Record a transfer of custody',
    params: { ...TENANT_PARAM, evidenceId: ID },
    body: { properties: { to: text(200), note: { type: 'string', maxLength: 1000 } }, required: ['to'] },
    handler: async (c) => {
      const id = (c.params as { evidenceId: string }).evidenceId;
      const b = c.body as { to: string; note?: string };
      await mustGet(c, 'evidence', id);
      const r = await execute(c.rt.log, c.tenant, id, evidenceDecider, { kind: 'transfer', to: b.to, note: b.note ?? '' }, { actor: c.actor });
      return { ...(await settledDoc<EvidenceDoc>(c, 'evidence', id, r.position)), position: r.position };
    },
  },
  {
    method: 'POST',
    url: `${TENANT_PREFIX}/evidence/:evidenceId/seal`,
    access: 'write',
    area: 'evidence',
    summary: 'Seal evidence: its custody chain ends here',
    params: { ...TENANT_PARAM, evidenceId: ID },
    body: { properties: { note: { type: 'string', maxLength: 1000 } } },
    handler: async (c) => {
      const id = (c.params as { evidenceId: string }).evidenceId;
      await mustGet(c, 'evidence', id);
      const r = await execute(
        c.rt.log,
        c.tenant,
        id,
        evidenceDecider,
        { kind: 'seal', by: c.actor.id, note: (c.body as { note?: string }).note ?? '' },
        { actor: c.actor },
      );
      return { ...(await settledDoc<EvidenceDoc>(c, 'evidence', id, r.position)), position: r.position };
    },
  },
];

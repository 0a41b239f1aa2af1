import { SEVERITIES } from '../../../commands/alerts/events.ts';
import { evidenceDecider } from '../../../commands/evidence/decider.ts';
import { findingDecider } from '../../../commands/findings/decider.ts';
import { FINDING_STATES, type FindingState } from '../../../commands/findings/events.ts';
import { PRODUCTS } from '../../domain/products.ts';
import type { TenantRouteDef } from '../route.ts';
import { getRoute, ID, itemCommand, listRoute, oneOf, text } from '../schemas.ts';

/** Routes of product areas (findings, evidence; scans are in attack-surface.ts): the guard refuses them while the product is off. */
export const productRoutes: TenantRouteDef[] = [
  listRoute('findings', 'findings', { state: oneOf(FINDING_STATES), severity: oneOf(SEVERITIES), agentId: ID, product: oneOf(PRODUCTS) }),
  getRoute('findings', 'findings', 'findingId'),
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
  }),
  listRoute('evidence', 'evidence', { agentId: ID, sealed: oneOf(['true', 'false']) }),
  getRoute('evidence', 'evidence', 'evidenceId'),
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
  }),
];

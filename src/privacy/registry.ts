import { CommandPersonal } from '../../commands/agent-commands/events.ts';
import { ApprovalPersonal } from '../../commands/approvals/events.ts';
import { AgentPersonal } from '../../commands/agents/events.ts';
import { AlertPersonal } from '../../commands/alerts/events.ts';
import { EVIDENCE, EvidencePersonal } from '../../commands/evidence/events.ts';
import { FindingPersonal } from '../../commands/findings/events.ts';
import { IncidentPersonal } from '../../commands/incidents/events.ts';
import { PrivacyPersonal } from '../../commands/privacy/events.ts';
import { SCAN } from '../../commands/scans/events.ts';
import { TenantPersonal } from '../../commands/tenants/events.ts';
import { TokenPersonal } from '../../commands/tokens/events.ts';
import { UserPersonal } from '../../commands/users/events.ts';
import type { EventEnvelope } from '../domain/events.ts';
import type { PersonalFields, PersonalSpec, RetentionKind } from '../domain/personal.ts';

/**
 * Every domain's personal fields, by event type. A domain that adds personal data to an event adds
 * it to its own `…Personal` map and that map here; an event type not listed is stored as it is.
 */
export const PERSONAL_FIELDS: ReadonlyMap<string, PersonalSpec> = new Map(
  [
    TenantPersonal,
    TokenPersonal,
    AgentPersonal,
    AlertPersonal,
    FindingPersonal,
    IncidentPersonal,
    EvidencePersonal,
    CommandPersonal,
    PrivacyPersonal,
    ApprovalPersonal,
    UserPersonal,
  ].flatMap((m: PersonalFields) => Object.entries(m)),
);

/** The retention kind of an event's payload: evidence and scans age by their own rules, the rest as `events`. */
export function retentionKindOf(e: Pick<EventEnvelope, 'aggregate'>): RetentionKind {
  if (e.aggregate.type === EVIDENCE) return 'evidence';
  if (e.aggregate.type === SCAN) return 'scan-items';
  return 'events';
}

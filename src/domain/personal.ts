import type { EventEnvelope } from './events.ts';

/**
 * Personal and customer-confidential fields, named per event type next to the event types
 * (`commands/<domain>/events.ts`). The write path encrypts them (src/privacy); everything else in an
 * event stays readable to every holder of the log (ids, times, states, severities, hashes).
 *
 * A **data subject** is who or what a value is about, named `<kind>:<name>`:
 * - `agent:<agentId>` — a machine and what it reported (host names, command lines, evidence names)
 * - `account:<name>` — an account on hosts or in the directory (user names)
 * - `person:<name or e-mail>` — a person named by operators (assignees, custodians, recipients)
 * - `user:<userId>` — a user of the install (name, e-mail, sign-in addresses), in the install tenant
 * - `tenant` — the customer's confidential text with no individual behind it (titles, reasons)
 * Every value is encrypted under the keys of every subject its event names, so erasing any one of
 * them makes the fields unreadable.
 */
export interface PersonalSpec {
  /** Paths of `data` (top level, or dotted for nested objects) that hold personal values. */
  fields: readonly string[];
  /** The data subjects of those values; at least one. */
  subjects: (e: EventEnvelope) => string[];
}

/** Personal fields by event type, as each domain declares them. */
export type PersonalFields = Readonly<Record<string, PersonalSpec>>;

/** What kind of data an event's payload is, for retention (per tenant, per kind). */
export const RETENTION_KINDS = ['events', 'evidence', 'scan-items', 'telemetry'] as const;
export type RetentionKind = (typeof RETENTION_KINDS)[number];

/** The subject of customer-confidential text that is about no one in particular. */
export const TENANT_SUBJECT = 'tenant';

/** A subject as operators write it: `agent:<id>`, `account:<name>`, `person:<name>`, `user:<id>`, or `tenant`. */
export const SUBJECT_PATTERN = '^(tenant|(agent|account|person|user):[^\\u0000-\\u001f]{1,256})$';
const subjectRe = new RegExp(SUBJECT_PATTERN);

export const agentSubject = (agentId: string): string => `agent:${agentId}`;
export const accountSubject = (name: string): string => `account:${name}`;
export const userSubject = (userId: string): string => `user:${userId}`;
/** People are named case-insensitively (an e-mail address, a name as typed). */
export const personSubject = (name: string): string => `person:${name.trim().toLowerCase()}`;

/** The canonical form of a subject an operator typed; null when it is not one. */
export function normalizeSubject(raw: string): string | null {
  if (!subjectRe.test(raw)) return null;
  return raw.startsWith('person:') ? personSubject(raw.slice('person:'.length)) : raw;
}

/**
 * The subjects named by optional string fields of an event's data, each under `make`; for
 * payloads where a field such as `account` or `user` may be absent.
 */
export function subjectsOf(data: unknown, fields: readonly string[], make: (v: string) => string): string[] {
  const out: string[] = [];
  if (!data || typeof data !== 'object') return out;
  for (const f of fields) {
    const v = (data as Record<string, unknown>)[f];
    if (typeof v === 'string' && v !== '') out.push(make(v));
  }
  return out;
}

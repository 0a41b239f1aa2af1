import type { Product } from '../../src/domain/products.ts';
import { accountSubject, agentSubject, TENANT_SUBJECT, subjectsOf, type PersonalFields } from '../../src/domain/personal.ts';

/** Alerts: aggregate `alert`, raised from agent reports and by the detector. */
export const ALERT = 'alert';

export const AlertEvents = {
  raised: 'alert.raised',
  /** More matches of a detector alert's group: the count and last-seen move on. */
  occurred: 'alert.occurred',
  acknowledged: 'alert.acknowledged',
  resolved: 'alert.resolved',
} as const;

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** The streams whose messages a detector alert points at. */
export const EVIDENCE_STREAMS = ['TELEMETRY', 'EVENTS'] as const;
export type EvidenceStream = (typeof EVIDENCE_STREAMS)[number];

/**
 * A message that matched: a TELEMETRY item (provable through its batch's Merkle root, sealed by
 * the `telemetry.batch-received` event) or an EVENTS record (sealed directly).
 */
export interface EvidenceRef {
  stream: EvidenceStream;
  seq: number;
  /** A TELEMETRY item's id, `<batch>:<index>`: what its proof is asked for (alerts raised before it was named lack it). */
  item?: string;
}

/** What the detector adds to an alert it raises: the rule, the group, the first match. */
export interface AlertDetection {
  ruleId: string;
  /** The rule file's content hash (docs/detection.md). */
  ruleVersion: string;
  /** Hash of the tenant's override of the rule in force; null when none. */
  overrideVersion: string | null;
  /** MITRE ATT&CK technique ids, e.g. `T1059.004`. */
  attack: string[];
  tags: string[];
  /** `product/category` of the rule's logsource. */
  logsource: string;
  /** The host's name as its agent enrolled it; null when the detector did not know it. */
  hostname: string | null;
  /** `groupKey(ruleId, host, groupValues)`: the alert group. */
  groupKey: string;
  groupValues: (string | null)[];
  /** The group's window, fixed from its first match: later matches update this alert until it ends. */
  windowMs: number;
  /** Time of the first match (the stream's time of the matching message). */
  firstSeenAt: string;
  /** Time of the last match of this commit. */
  lastSeenAt: string;
  /** The matching messages of this commit, all of one stream, in stream order: the alert's count starts at their number. */
  refs: EvidenceRef[];
}

export interface AlertRaised {
  agentId: string;
  /** The product that produced it; null for core (agent health) alerts. */
  product: Product | null;
  rule: string;
  severity: Severity;
  title: string;
  details?: Record<string, unknown>;
  /** When the agent observed it (the report's `at`), or the time of the detector's first match. */
  observedAt: string;
  /** Set when the detector raised it. */
  detection?: AlertDetection;
}

/** More matches of the group, all of one stream, in stream order. */
export interface AlertOccurred {
  stream: EvidenceStream;
  /** Sequences of the new matches (only those not counted before). */
  seqs: number[];
  /** The TELEMETRY items of those matches by name (`<batch>:<index>`), in the same order; absent in older events. */
  items?: string[];
  /** The group's count after these. */
  count: number;
  lastSeenAt: string;
}
export interface AlertResolved {
  reason: string;
}

/** Fields of an alert's or finding's `details` that name an account, and so a subject of their own. */
export const ACCOUNT_DETAIL_FIELDS = ['account', 'user', 'targetUser'] as const;

/** An alert is about its machine, and about any account its details name. */
export const AlertPersonal: PersonalFields = {
  [AlertEvents.raised]: {
    fields: ['title', 'details'],
    subjects: (e) => {
      const d = e.data as AlertRaised;
      return [agentSubject(d.agentId), ...subjectsOf(d.details, ACCOUNT_DETAIL_FIELDS, accountSubject)];
    },
  },
  [AlertEvents.resolved]: { fields: ['reason'], subjects: () => [TENANT_SUBJECT] },
};

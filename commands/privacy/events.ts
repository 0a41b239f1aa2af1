import { TENANT_SUBJECT, type PersonalFields, type RetentionKind } from '../../src/domain/personal.ts';

/**
 * Key destructions: aggregate `privacy`, one per act (an erasure, one kind's period ageing out, an
 * offboarding). The event lists the destroyed data key ids, so `stockade ledger verify` can count
 * the entries whose fields are shredded without holding any key, and a restore can destroy them
 * again in a key store that still has them.
 */
export const PRIVACY = 'privacy';

export const PrivacyEvents = {
  keysDestroyed: 'privacy.keys-destroyed',
  /** Data kept outside EVENTS (telemetry, evidence bytes, scan items) removed because it aged out. */
  dataRemoved: 'privacy.data-removed',
} as const;

export const DESTRUCTION_REASONS = ['erasure', 'retention', 'offboarding'] as const;
export type DestructionReason = (typeof DESTRUCTION_REASONS)[number];

export interface KeysDestroyed {
  reason: DestructionReason;
  /** Data key ids destroyed (never the subject's name: that would be the very data erased). */
  keyIds: string[];
  /** The tenant key itself was destroyed: every data key of the tenant, listed or not, is gone. */
  tenantKey: boolean;
  /** Retention: the kind and the months (YYYY-MM) that aged out, and the cut-off applied. */
  kind?: RetentionKind;
  periods?: string[];
  cutoff?: string;
  /** Erasure: the operator's reference for the request (a ticket number), sealed. */
  reference?: string;
  /** Erasure of a machine: how many of its telemetry items were removed from TELEMETRY. */
  telemetryRemoved?: number;
  /**
   * Recorded again by a restore of a backup made before the act (`stockade restore`, from what
   * the key store kept of it): when the act was first done.
   */
  firstRecordedAt?: string;
}

export interface DataRemoved {
  kind: RetentionKind;
  /** Everything stored before this instant (ISO) was removed. */
  cutoff: string;
  /** How many items (telemetry messages, objects) went. */
  items: number;
}

/** The operator's reference may name the person whose data was erased. */
export const PrivacyPersonal: PersonalFields = {
  [PrivacyEvents.keysDestroyed]: { fields: ['reference'], subjects: () => [TENANT_SUBJECT] },
};

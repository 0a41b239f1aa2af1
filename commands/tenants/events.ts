import type { Product } from '../../src/domain/products.ts';
import { TENANT_SUBJECT, type PersonalFields, type RetentionKind } from '../../src/domain/personal.ts';

/** Aggregate type of a tenant; its id is the tenant id, under the tenant's own subjects. */
export const TENANT = 'tenant';

export const TenantEvents = {
  created: 'tenant.created',
  renamed: 'tenant.renamed',
  /** A new enrollment secret: only its public lookup part and its hash, never the secret. */
  secretSet: 'tenant.enroll-secret-set',
  productEnabled: 'tenant.product-enabled',
  productDisabled: 'tenant.product-disabled',
  suspended: 'tenant.suspended',
  resumed: 'tenant.resumed',
  /** Single-install mode: the default tenant accepts an empty enrollment secret while this is on. */
  openEnrollmentSet: 'tenant.open-enrollment-set',
  /** How long one kind of the tenant's data is kept (days), or back to the install's default. */
  retentionSet: 'tenant.retention-set',
  /**
   * Offboarded: the last event of the tenant's chain. Its agents are revoked, its tokens and secret
   * dead, its keys destroyed, its read models removed; the id is reserved forever.
   */
  deleted: 'tenant.deleted',
} as const;

/** The only tenant that may accept an empty enrollment secret, and only when turned on. */
export const DEFAULT_TENANT = 'default';

export interface TenantCreated {
  name: string;
}
export interface TenantRenamed {
  name: string;
}
export interface SecretSet {
  lookup: string;
  hash: string;
}
export interface ProductToggled {
  product: Product;
}
export interface TenantSuspended {
  reason: string;
}
export interface OpenEnrollmentSet {
  enabled: boolean;
}
export interface RetentionSet {
  kind: RetentionKind;
  /** Days kept; null = the install's default for the kind. */
  days: number | null;
}
/** What the offboarding did before this last event; no names, so it needs no key. */
export interface TenantDeleted {
  agentsRevoked: number;
  tokensRevoked: number;
  /** The key destruction (aggregate `privacy`) that shredded the tenant's fields. */
  destructionId: string;
}

/** Customer-confidential text of the tenant aggregate (src/domain/personal.ts). */
export const TenantPersonal: PersonalFields = {
  [TenantEvents.created]: { fields: ['name'], subjects: () => [TENANT_SUBJECT] },
  [TenantEvents.renamed]: { fields: ['name'], subjects: () => [TENANT_SUBJECT] },
  [TenantEvents.suspended]: { fields: ['reason'], subjects: () => [TENANT_SUBJECT] },
};

import type { Product } from '../../src/domain/products.ts';

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

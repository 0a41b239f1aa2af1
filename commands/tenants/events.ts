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
} as const;

export interface TenantCreated { name: string }
export interface TenantRenamed { name: string }
export interface SecretSet { lookup: string; hash: string }
export interface ProductToggled { product: Product }
export interface TenantSuspended { reason: string }

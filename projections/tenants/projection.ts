import { TenantEvents as E, type RetentionSet } from '../../commands/tenants/events.ts';
import type { RetentionKind } from '../../src/domain/personal.ts';
import type { Product } from '../../src/domain/products.ts';
import type { Doc } from '../../src/store/model.ts';
import { defineProjection, patch } from '../define.ts';

/** The tenant profile, in the tenant's own keyspace under id = tenant id. */
export interface TenantDoc extends Doc {
  name: string;
  products: Product[];
  suspended: boolean;
  /** Single-install mode: an empty enrollment secret enrolls into this (default) tenant. */
  openEnrollment: boolean;
  /** Public lookup part and hash of the current enrollment secret (never the secret). */
  secretLookup: string;
  secretHash: string;
  createdAt: string;
  updatedAt: string;
  /** Days kept per kind where the tenant differs from the install's defaults (absent: none set). */
  retention?: Partial<Record<RetentionKind, number>>;
}

export const TENANT_COLLECTION = 'tenant';

/**
 * Tenants. Besides the profile it keeps two admin indexes: `tenants` (every tenant id, for the
 * admin list) and `enroll` (secret lookup → tenant), which the ingress uses to find the tenant of a
 * presented secret without a scan. Rotation drops the old lookup, so the old secret finds nothing.
 */
export const tenantsProjection = defineProjection({
  model: 'tenants',
  main: TENANT_COLLECTION,
  collections: { [TENANT_COLLECTION]: { indexes: [] } },
  on: {
    [E.created]: {
      apply: (e, _docs, seq) => {
        const d = e.data as { name: string };
        const doc: TenantDoc = {
          id: e.tenant,
          seq,
          name: d.name,
          products: [],
          suspended: false,
          openEnrollment: false,
          secretLookup: '',
          secretHash: '',
          createdAt: e.at,
          updatedAt: e.at,
        };
        return [
          { collection: TENANT_COLLECTION, id: e.tenant, doc },
          { global: 'tenants', key: e.tenant, value: e.tenant },
        ];
      },
    },
    [E.renamed]: {
      apply: (e, docs) =>
        patch<TenantDoc>(TENANT_COLLECTION, docs.get(TENANT_COLLECTION, e.tenant), { name: (e.data as { name: string }).name, updatedAt: e.at }),
    },
    [E.secretSet]: {
      apply: (e, docs) => {
        const d = e.data as { lookup: string; hash: string };
        const t = docs.get<TenantDoc>(TENANT_COLLECTION, e.tenant);
        if (!t) return [];
        return [
          ...(t.secretLookup ? [{ global: 'enroll', key: t.secretLookup, value: null }] : []),
          { global: 'enroll', key: d.lookup, value: e.tenant },
          ...patch<TenantDoc>(TENANT_COLLECTION, t, { secretLookup: d.lookup, secretHash: d.hash, updatedAt: e.at }),
        ];
      },
    },
    [E.productEnabled]: {
      apply: (e, docs) => {
        const t = docs.get<TenantDoc>(TENANT_COLLECTION, e.tenant);
        const p = (e.data as { product: Product }).product;
        return patch<TenantDoc>(TENANT_COLLECTION, t, { products: [...(t?.products ?? []).filter((x) => x !== p), p].sort(), updatedAt: e.at });
      },
    },
    [E.productDisabled]: {
      apply: (e, docs) => {
        const t = docs.get<TenantDoc>(TENANT_COLLECTION, e.tenant);
        const p = (e.data as { product: Product }).product;
        return patch<TenantDoc>(TENANT_COLLECTION, t, { products: (t?.products ?? []).filter((x) => x !== p), updatedAt: e.at });
      },
    },
    [E.suspended]: { apply: (e, docs) => patch<TenantDoc>(TENANT_COLLECTION, docs.get(TENANT_COLLECTION, e.tenant), { suspended: true, updatedAt: e.at }) },
    [E.openEnrollmentSet]: {
      apply: (e, docs) =>
        patch<TenantDoc>(TENANT_COLLECTION, docs.get(TENANT_COLLECTION, e.tenant), {
          openEnrollment: (e.data as { enabled: boolean }).enabled,
          updatedAt: e.at,
        }),
    },
    [E.retentionSet]: {
      apply: (e, docs) => {
        const t = docs.get<TenantDoc>(TENANT_COLLECTION, e.tenant);
        const d = e.data as RetentionSet;
        const retention = { ...(t?.retention ?? {}) };
        if (d.days === null) delete retention[d.kind];
        else retention[d.kind] = d.days;
        return patch<TenantDoc>(TENANT_COLLECTION, t, { retention, updatedAt: e.at });
      },
    },
    [E.resumed]: { apply: (e, docs) => patch<TenantDoc>(TENANT_COLLECTION, docs.get(TENANT_COLLECTION, e.tenant), { suspended: false, updatedAt: e.at }) },
  },
});

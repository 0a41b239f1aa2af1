import { StkError } from '../../src/errors.ts';
import { accept, notFound, refuse, type Decider } from '../../src/domain/decider.ts';
import type { RetentionKind } from '../../src/domain/personal.ts';
import type { Product } from '../../src/domain/products.ts';
import { DEFAULT_TENANT, TENANT, TenantEvents as E, type RetentionSet, type SecretSet, type TenantDeleted } from './events.ts';

export interface TenantState {
  exists: boolean;
  name: string;
  products: Product[];
  suspended: boolean;
  secretLookup: string | null;
  /** Empty secret accepted (default tenant only, single-install mode). */
  openEnrollment: boolean;
  /** Offboarded: nothing exists any more, and the id can never be used again. */
  deleted: boolean;
  /** Days kept per kind where the tenant differs from the install's defaults. */
  retention: Partial<Record<RetentionKind, number>>;
}

export type TenantCommand =
  | { kind: 'create'; name: string; secret: SecretSet }
  | { kind: 'rename'; name: string }
  | { kind: 'rotate-secret'; secret: SecretSet }
  | { kind: 'set-product'; product: Product; enabled: boolean }
  | { kind: 'suspend'; reason: string }
  | { kind: 'resume' }
  | { kind: 'set-open-enrollment'; tenant: string; enabled: boolean }
  | { kind: 'set-retention'; retention: RetentionSet }
  | { kind: 'delete'; deletion: TenantDeleted };

export const tenantDecider: Decider<TenantState, TenantCommand> = {
  aggregateType: TENANT,
  initialState: () => ({ exists: false, name: '', products: [], suspended: false, secretLookup: null, openEnrollment: false, deleted: false, retention: {} }),
  evolve(s, e) {
    const d = e.data as { name: string; lookup: string; product: Product; enabled: boolean } & RetentionSet;
    switch (e.type) {
      case E.created:
        return { ...s, exists: true, name: d.name };
      case E.renamed:
        return { ...s, name: d.name };
      case E.secretSet:
        return { ...s, secretLookup: d.lookup };
      case E.productEnabled:
        return { ...s, products: [...s.products.filter((p) => p !== d.product), d.product] };
      case E.productDisabled:
        return { ...s, products: s.products.filter((p) => p !== d.product) };
      case E.suspended:
        return { ...s, suspended: true };
      case E.resumed:
        return { ...s, suspended: false };
      case E.openEnrollmentSet:
        return { ...s, openEnrollment: d.enabled === true };
      case E.retentionSet: {
        const retention = { ...s.retention };
        if (d.days === null) delete retention[d.kind];
        else retention[d.kind] = d.days;
        return { ...s, retention };
      }
      case E.deleted:
        // Suspended and without a secret as well, so every view that knows only those refuses it.
        return { ...s, exists: false, deleted: true, suspended: true, secretLookup: null, openEnrollment: false };
      default:
        return s;
    }
  },
  decide(c, s) {
    if (c.kind === 'create') {
      if (s.deleted) return refuse(tenantIdReserved());
      if (s.exists) return refuse(new StkError('STK_ERR_TENANT_EXISTS', 'tenant already exists'));
      return accept({ type: E.created, data: { name: c.name } }, { type: E.secretSet, data: c.secret });
    }
    if (!s.exists) return refuse(notFound('tenant', ''));
    switch (c.kind) {
      case 'rename':
        return c.name === s.name ? accept() : accept({ type: E.renamed, data: { name: c.name } });
      case 'rotate-secret':
        return accept({ type: E.secretSet, data: c.secret });
      case 'set-product': {
        const on = s.products.includes(c.product);
        if (on === c.enabled) return accept();
        return accept({ type: c.enabled ? E.productEnabled : E.productDisabled, data: { product: c.product } });
      }
      case 'suspend':
        return s.suspended ? accept() : accept({ type: E.suspended, data: { reason: c.reason } });
      case 'resume':
        return s.suspended ? accept({ type: E.resumed, data: {} }) : accept();
      case 'set-open-enrollment':
        if (c.tenant !== DEFAULT_TENANT)
          return refuse(new StkError('STK_ERR_VALIDATION', `only the ${DEFAULT_TENANT} tenant can accept an empty enrollment secret`, { field: 'enabled' }));
        return s.openEnrollment === c.enabled ? accept() : accept({ type: E.openEnrollmentSet, data: { enabled: c.enabled } });
      case 'set-retention':
        if ((s.retention[c.retention.kind] ?? null) === c.retention.days) return accept();
        return accept({ type: E.retentionSet, data: c.retention });
      case 'delete':
        return accept({ type: E.deleted, data: c.deletion });
    }
  },
};

/** A deleted tenant's id answers this forever: its chain still exists and names it. */
export function tenantIdReserved(): StkError {
  return new StkError('STK_ERR_TENANT_ID_RESERVED', 'this tenant id belonged to an offboarded customer and can never be used again');
}

/**
 * Whether an empty enrollment secret enrolls into `tenant`: only the default tenant, only while
 * an admin has turned open enrollment on, never while suspended. For the ingress's secret check.
 */
export function acceptsEmptySecret(tenant: string, s: TenantState): boolean {
  return tenant === DEFAULT_TENANT && s.exists && s.openEnrollment && !s.suspended;
}

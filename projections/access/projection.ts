import { AccessEvents as E, type AccessChanged } from '../../commands/access/events.ts';
import type { Role } from '../../src/api/permissions.ts';
import type { Doc } from '../../src/store/model.ts';
import { by, defineProjection, type Handler } from '../define.ts';

/** Who holds which roles on one customer (or, in the install tenant, install-wide). */
export interface AccessDoc extends Doc {
  roles: Role[];
  updatedAt: string;
  updatedBy: string;
}

/** Index of every grant, `<userId>:<tenant>` → roles: authentication reads one user's grants by prefix. */
export const GRANT_INDEX = 'grant';

/** The key of a user's grant on a tenant in the `grant` index. */
export function grantKey(userId: string, tenant: string): string {
  return `${userId}:${tenant}`;
}

function change(add: boolean): Handler {
  return {
    apply: (e, docs, seq) => {
      const d = e.data as AccessChanged;
      const old = docs.get<AccessDoc>('access', e.aggregate.id);
      const roles = [...new Set([...(old?.roles ?? []).filter((r) => r !== d.role), ...(add ? [d.role] : [])])].sort();
      const key = grantKey(e.aggregate.id, e.tenant);
      if (roles.length === 0)
        return [
          { collection: 'access', id: e.aggregate.id, doc: null },
          { global: GRANT_INDEX, key, value: null },
        ];
      const doc: AccessDoc = { id: e.aggregate.id, seq: old?.seq ?? seq, roles, updatedAt: e.at, updatedBy: by(e) };
      return [
        { collection: 'access', id: doc.id, doc },
        { global: GRANT_INDEX, key, value: roles },
      ];
    },
  };
}

/** Role grants, per tenant, plus the cross-tenant `grant` index that authentication reads. */
export const accessProjection = defineProjection({
  model: 'access',
  main: 'access',
  collections: { access: { indexes: [] } },
  on: { [E.granted]: change(true), [E.revoked]: change(false) },
});
